"""Every write of landing pages and of the preference centre.

Page actions need pages:edit, run in one transaction on the region database and write an audit entry
holding ids and attribute names only; content is sanitised here, so every surface stores the same.

The preference centre's actions need preferences:change, which only the principal of a contact's
signed link holds (tidings.pages.selectors.preference_principal), and act for that contact alone:
once that is checked they write subscriptions, Do-Not-Contact and the consent ledger through those
apps' own actions as the system (as tracking's identify does), so a link can never do more than
these functions allow.
Errors name the field and what is expected, never the value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from tidings.accounts.permissions import Principal, Via, require, system_principal
from tidings.audit.actions import audit_record
from tidings.consent import actions as consent_actions
from tidings.consent import selectors as consent_selectors
from tidings.contacts import actions as contacts_actions
from tidings.contacts import selectors as contacts_selectors
from tidings.pages import content as page_content
from tidings.pages import selectors as pages_selectors
from tidings.pages.models import LandingPage, RedirectType
from tidings.segments import actions as segments_actions
from tidings.tenancy.context import require_workspace

__all__ = [
    "page_create",
    "page_delete",
    "page_update",
    "preferences_save",
]

MAX_TITLE = 191
MAX_CONTENT = 500_000  # characters of HTML before sanitising
MAX_META = 300
MAX_URL = 2048
PAGE_ATTRIBUTES = (
    "title", "slug", "content", "meta_description", "noindex", "canonical_url", "og_title", "is_published",
    "redirect_type", "redirect_url",
)  # fmt: skip
# Do-Not-Contact as the contacts app names it (its models are its own: the values are its API).
EMAIL_CHANNEL, UNSUBSCRIBED = "email", "unsubscribed"


def _atomic():
    return transaction.atomic(using=require_workspace().db_alias)


def _require(principal: Principal, permission: str) -> Principal:
    return require(principal, permission, workspace_id=require_workspace().id)


def _audit(action: str, *, principal, request=None, target_type: str = "landing_page", target_id: object = "",
           **data) -> None:  # fmt: skip
    audit_record(action, principal=principal, request=request, target_type=target_type, target_id=target_id, data=data)


# ==============================================================================================
# Landing pages


def _text(value: Any, name: str, limit: int, errors: dict, *, required: bool = False) -> str:
    text = value.strip() if isinstance(value, str) else ("" if value is None else None)
    if text is None:
        errors[name] = ["text"]
        return ""
    if required and not text:
        errors[name] = [f"1 to {limit} characters"]
    elif len(text) > limit:
        errors[name] = [f"at most {limit} characters"]
    return text


def _url(value: Any, name: str, errors: dict) -> str:
    text = _text(value, name, MAX_URL, errors)
    if text and name not in errors:
        try:
            parts = urlsplit(text)
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in {"http", "https"} or not parts.netloc:
            errors[name] = ["an http:// or https:// address"]
    return text


def _checked(values: Mapping[str, Any], *, page_id: int | None) -> dict[str, Any]:
    """Return values checked and normalised (content sanitised); raise ValidationError keyed by attribute."""
    errors: dict[str, list[str]] = {}
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if name == "title":
            checked["title"] = _text(value, "title", MAX_TITLE, errors, required=True)
        elif name == "slug":
            slug = value.strip().lower() if isinstance(value, str) else None
            problem = "text" if slug is None else page_content.slug_problem(slug)
            if problem is None and pages_selectors.slug_taken(slug, exclude_id=page_id):  # type: ignore[arg-type]
                problem = "another page of this workspace has this slug"
            if problem:
                errors["slug"] = [problem]
            checked["slug"] = slug
        elif name == "content":
            raw = value if isinstance(value, str) else ("" if value is None else None)
            if raw is None:
                errors["content"] = ["HTML text"]
            elif len(raw) > MAX_CONTENT:
                errors["content"] = [f"at most {MAX_CONTENT} characters"]
            else:
                checked["content"] = page_content.clean_content(raw)
        elif name == "meta_description":
            checked[name] = _text(value, name, MAX_META, errors)
        elif name == "og_title":
            checked[name] = _text(value, name, MAX_TITLE, errors)
        elif name in {"canonical_url", "redirect_url"}:
            checked[name] = _url(value, name, errors)
        elif name in {"noindex", "is_published"}:
            if not isinstance(value, bool):
                errors[name] = ["true or false"]
            checked[name] = value
        elif name == "redirect_type":
            value = "" if value is None else str(value) if isinstance(value, (str, int)) else None
            if value not in RedirectType.values:
                errors[name] = ["none, 301 or 302"]
            checked[name] = value
        else:
            errors.setdefault("page", []).append("unknown attribute")
    if errors:
        raise ValidationError(errors)
    return checked


def _check_redirect(page: LandingPage) -> None:
    if page.redirect_type and not page.redirect_url:
        raise ValidationError({"redirect_url": ["the address an unpublished page redirects to"]})


def page_create(
    *,
    principal: Principal,
    title: Any,
    slug: Any = "",
    content: Any = "",
    meta_description: Any = "",
    noindex: Any = False,
    canonical_url: Any = "",
    og_title: Any = "",
    is_published: Any = False,
    redirect_type: Any = "",
    redirect_url: Any = "",
    request=None,
) -> LandingPage:
    """Create a page (its content sanitised); an empty slug is made from the title.

    Raise ValidationError keyed by attribute: a slug taken, reserved or malformed, a bad address.
    """
    _require(principal, "pages:edit")
    if not slug and isinstance(title, str):
        slug = page_content.slug_from_title(title)
    values = {"title": title, "slug": slug, "content": content, "meta_description": meta_description,
              "noindex": noindex, "canonical_url": canonical_url, "og_title": og_title, "is_published": is_published,
              "redirect_type": redirect_type, "redirect_url": redirect_url}  # fmt: skip
    with _atomic():
        fields = _checked(values, page_id=None)
        page = LandingPage(**fields, created_by=None if principal.is_system else getattr(principal.user, "pk", None))
        _check_redirect(page)
        page.save()
        _audit("page.created", principal=principal, request=request, target_id=page.pk, published=page.is_published)
    return page


def page_update(page_id: int, *, principal: Principal, request=None, **changes: Any) -> LandingPage:
    """Change the given attributes of a page (content sanitised).

    Raise LandingPage.DoesNotExist for an id not in this workspace, ValidationError for bad values
    or an unknown attribute.
    """
    _require(principal, "pages:edit")
    unknown = set(changes) - set(PAGE_ATTRIBUTES)
    if unknown:
        raise ValidationError({"page": [f"unknown attribute {name}" for name in sorted(unknown)[:5]]})
    with _atomic():
        page = LandingPage.objects.select_for_update().get(pk=page_id)
        fields = _checked(changes, page_id=page.pk)
        for name, value in fields.items():
            setattr(page, name, value)
        _check_redirect(page)
        page.updated_at = timezone.now()
        page.save()
        _audit("page.updated", principal=principal, request=request, target_id=page.pk, changed=sorted(fields))
    return page


def page_delete(page_id: int, *, principal: Principal, request=None) -> None:
    """Delete a page; its address answers 404 at once. Raise LandingPage.DoesNotExist for an id not here."""
    _require(principal, "pages:edit")
    with _atomic():
        page = LandingPage.objects.select_for_update().get(pk=page_id)
        page.delete()
        _audit("page.deleted", principal=principal, request=request, target_id=page_id)


# ==============================================================================================
# The preference centre


def _own_contact_only(principal: Principal, contact_id: int) -> None:
    """Let a link act for its own contact only (a member's or the system's principal never holds the permission)."""
    if principal.via != Via.PREFERENCE_LINK or principal.credential_id != contact_id:
        raise PermissionDenied("A preference link acts for its own contact only.")


def _system():
    from tidings.tenancy.selectors import workspace_by_id

    return system_principal(workspace_by_id(require_workspace().id), reason="pages:preference_centre")


def preferences_save(
    contact_id: int,
    *,
    principal: Principal,
    subscriptions: Iterable[int],
    unsubscribe_all: bool,
    consents: Mapping[str, bool],
    ip: str | None = None,
    request=None,
) -> dict[str, int]:
    """Apply what the contact chose in the preference centre; return counts of what changed.

    subscriptions: the ids of the subscription lists to be a member of (others shown are left);
    unsubscribe_all: email Do-Not-Contact (reason unsubscribed); lifting it only lifts an
    unsubscription, never a bounce, complaint or a member's decision. consents: purpose key ->
    given; only a change from the current decision reaches the ledger (method preference_centre,
    the current notice, the truncated IP and the wording shown). Ids and keys the page did not
    offer are ignored. Raise PermissionDenied unless principal is this contact's link.
    """
    _require(principal, "preferences:change")
    _own_contact_only(principal, contact_id)
    system = _system()
    wanted = {int(pk) for pk in subscriptions}
    current = pages_selectors.preferences(contact_id)
    changed = {"joined": 0, "left": 0, "consents": 0, "dnc": 0}
    with _atomic():
        for item in current.subscriptions:
            if item.segment_id in wanted and not item.subscribed:
                changed["joined"] += segments_actions.segment_members_add(item.segment_id, [contact_id],
                                                                          principal=system)  # fmt: skip
            elif item.segment_id not in wanted and item.subscribed:
                changed["left"] += segments_actions.segment_members_remove(item.segment_id, [contact_id],
                                                                           principal=system)  # fmt: skip
        if unsubscribe_all and not current.unsubscribed_from_all:
            contacts_actions.dnc_add(contact_id, channel=EMAIL_CHANNEL, reason=UNSUBSCRIBED, principal=system,
                                     comment="preference centre")  # fmt: skip
            changed["dnc"] = 1
        elif not unsubscribe_all and current.unsubscribed_from_all:
            rows = contacts_selectors.contact_dnc(contact_id)
            if any(row.channel == EMAIL_CHANNEL and row.reason == UNSUBSCRIBED for row in rows):
                contacts_actions.dnc_remove(contact_id, channel=EMAIL_CHANNEL, principal=system)
                changed["dnc"] = 1
        notice = consent_selectors.current_notice()
        for choice in current.consents:
            given = consents.get(choice.key)
            if not isinstance(given, bool) or given == choice.given:
                continue
            consent_actions.consent_record(
                purpose=choice.key, given=given, method="preference_centre", contact_id=contact_id, ip=ip,
                source="preference centre", principal=system,
                notice_version=notice.version if notice is not None else None,
                wording=f"{choice.name}: {choice.description}"[:5000],
            )  # fmt: skip
            changed["consents"] += 1
        _audit("preferences.saved", principal=principal, request=request, target_type="contact",
               target_id=contact_id, **changed)  # fmt: skip
    return changed
