"""Every write of email authoring: create, change, clone, delete emails and their A/B variants.

Each action needs emails:edit, runs in one transaction on the region database and writes an audit entry
(target "email") holding ids and attribute names only. Values are checked here, so the editor, the builder,
the native API and the Mautic API store the same thing; errors name the attribute and what is expected,
never the value.

Versions: an email is born at version 1, frozen at once as EmailVersion 1. A change to what recipients get
(subject, preheader, sender, reply-to, HTML, text, or the builder's MJML, which renders the HTML) bumps
Email.version and freezes the new content; sends refer to a frozen version, so editing an email during or
after a send never changes what was sent. The frozen text is the text as written, or made from the HTML.

Tokens: what looks like a token but is not one Tidings fills in, and {contactfield=alias} naming no field of
the workspace, are refused keyed by the attribute holding them unless the caller confirms them
(tokens_confirmed=True: the editor's "save anyway", the Mautic API whose clients know other tokens).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from tidings.accounts.permissions import Principal, require
from tidings.audit.actions import audit_record
from tidings.emails import content, render
from tidings.emails import selectors_authoring as selectors
from tidings.emails.models import AbCriterion, Editor, Email, EmailKind, EmailVersion, Send, SendStatus
from tidings.tenancy.context import require_workspace

__all__ = ["TokenProblems", "email_clone", "email_create", "email_delete", "email_update", "variant_create"]

EDIT = "emails:edit"
MAX_NAME = 191
MAX_SUBJECT = 255  # longer subjects are cut by every client; the column allows RFC 5322's 998
MAX_PREHEADER = 255
MAX_FROM_NAME = 191
MAX_BODY = content.MAX_SOURCE
MAX_SEGMENTS = 100
MAX_TEST_HOURS = 24 * 30

# What recipients get: a change to one of these is a new version.
CONTENT_ATTRIBUTES = ("subject", "preheader", "from_name", "from_address", "reply_to", "html", "text", "source")
SETTING_ATTRIBUTES = (
    "name", "kind", "transactional", "purpose_key", "editor", "theme", "segment_ids", "published",
    "variant_weight", "ab_criterion", "ab_test_hours",
)  # fmt: skip
ATTRIBUTES = CONTENT_ATTRIBUTES + SETTING_ATTRIBUTES
# Texts whose tokens are checked, in the order errors are reported.
TOKEN_ATTRIBUTES = ("subject", "preheader", "source", "html", "text")
RUNNING = (SendStatus.QUEUED, SendStatus.RUNNING, SendStatus.PAUSED)


class TokenProblems(ValidationError):
    """Tokens that would not fill in, keyed by attribute: saving again with tokens_confirmed=True keeps them."""


def _atomic():
    return transaction.atomic(using=require_workspace().db_alias)


def _require(principal: Principal) -> Principal:
    return require(principal, EDIT, workspace_id=require_workspace().id)


def _audit(action: str, *, principal, request=None, target_id: object = "", **data) -> None:
    audit_record(action, principal=principal, request=request, target_type="email", target_id=target_id, data=data)


# ==============================================================================================
# Checking values


def _text(value: Any, name: str, limit: int, errors: dict, *, required: bool = False, line: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = ["text"]
        return ""
    text = value.strip() if line else value
    if required and not text.strip():
        errors[name] = [f"1 to {limit} characters"]
    elif len(text) > limit:
        errors[name] = [f"at most {limit} characters"]
    elif line and ("\r" in text or "\n" in text or "\x00" in text):
        errors[name] = ["one line of text"]  # a header value: a line break would start another header
    elif "\x00" in text:
        errors[name] = ["text without NUL characters"]
    return text


def _address(value: Any, name: str, errors: dict) -> str:
    text = _text(value, name, 254, errors)
    if text and name not in errors:
        try:
            validate_email(text)
        except ValidationError:
            errors[name] = ["an email address such as news@example.com"]
    return text.lower() if name not in errors else text


def _bool(value: Any, name: str, errors: dict) -> bool:
    if not isinstance(value, bool):
        errors[name] = ["true or false"]
        return False
    return value


def _int(value: Any, name: str, errors: dict, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[name] = [f"a whole number from {low} to {high}"]
        return low
    return value


def _segments(value: Any, errors: dict) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or len(value) > MAX_SEGMENTS:
        errors["segment_ids"] = [f"a list of at most {MAX_SEGMENTS} segment ids"]
        return []
    ids: list[int] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 < item < 2**63:
            errors["segment_ids"] = ["segment ids (whole numbers)"]
            return []
        if item not in ids:
            ids.append(item)
    missing = set(ids) - selectors.existing_segment_ids(ids)
    if missing:
        errors["segment_ids"] = [f"{len(missing)} of these ids name no segment of this workspace"]
    return ids


def _choice(value: Any, name: str, choices, errors: dict, *, blank: bool = False) -> str:
    allowed = set(choices) | ({""} if blank else set())
    if not isinstance(value, str) or value not in allowed:
        errors[name] = ["one of " + ", ".join(sorted(c for c in allowed if c) + (["empty"] if blank else []))]
        return ""
    return value


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return values checked and normalised; raise ValidationError keyed by attribute."""
    errors: dict[str, list[str]] = {}
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if name == "name":
            checked[name] = _text(value, name, MAX_NAME, errors, required=True)
        elif name == "subject":
            checked[name] = _text(value, name, MAX_SUBJECT, errors, required=True)
        elif name == "preheader":
            checked[name] = _text(value, name, MAX_PREHEADER, errors)
        elif name == "from_name":
            checked[name] = _text(value, name, MAX_FROM_NAME, errors)
        elif name in {"from_address", "reply_to"}:
            checked[name] = _address(value, name, errors)
        elif name in {"html", "text", "source"}:
            checked[name] = _text(value, name, MAX_BODY, errors, line=False)
        elif name == "kind":
            checked[name] = _choice(value, name, EmailKind.values, errors)
        elif name == "editor":
            checked[name] = _choice(value, name, Editor.values, errors)
        elif name == "theme":
            checked[name] = _choice(value, name, content.THEMES, errors, blank=True)
        elif name == "ab_criterion":
            checked[name] = _choice(value, name, AbCriterion.values, errors, blank=True)
        elif name in {"transactional", "published"}:
            checked[name] = _bool(value, name, errors)
        elif name == "purpose_key":
            key = value if isinstance(value, str) else None
            if key is None or not selectors.purpose_exists(key):
                errors[name] = ["the key of an active consent purpose of this workspace"]
            checked[name] = key or ""
        elif name == "segment_ids":
            checked[name] = _segments(value, errors)
        elif name == "variant_weight":
            checked[name] = _int(value, name, errors, low=0, high=100)
        elif name == "ab_test_hours":
            checked[name] = _int(value, name, errors, low=0, high=MAX_TEST_HOURS)
        else:
            errors.setdefault("email", []).append("unknown attribute")
    if errors:
        raise ValidationError(errors)
    return checked


def _render(email: Email) -> None:
    """Render the builder's MJML into the HTML sent; raise ValidationError keyed "source"."""
    if email.editor != Editor.BUILDER:
        return
    if not email.source.strip():
        email.html = ""
        return
    try:
        email.html = content.render_mjml(email.source)
    except content.MjmlError as error:
        raise ValidationError({"source": [str(error)]}) from error
    if len(email.html) > MAX_BODY:
        raise ValidationError({"source": [f"renders to more than {MAX_BODY} characters of HTML"]})


def _check_whole(email: Email) -> None:
    """Rules between attributes: segments are a broadcast's; a template carries no segments."""
    if email.kind != EmailKind.BROADCAST and email.segment_ids:
        raise ValidationError({"segment_ids": ["only a broadcast goes to segments; a template has none"]})
    if email.transactional and email.kind == EmailKind.BROADCAST:
        raise ValidationError({"transactional": ["a broadcast to segments is never transactional"]})


def _check_ab(parent: Email, *, extra_weight: int = 0, creating: bool = False) -> None:
    """An A/B test's rules, once the parent has variants: the shares of the parent and its variants add up
    to at most 100 percent, and the parent names its criterion and a test period of at least an hour.

    extra_weight: the share of a variant about to be created (creating). Raise ValidationError keyed by attribute.
    """
    weights = list(Email.objects.filter(variant_of=parent.pk).values_list("variant_weight", flat=True))
    if not weights and not creating:
        return
    total = int(parent.variant_weight) + sum(int(w) for w in weights) + extra_weight
    if total > 100:
        raise ValidationError({"variant_weight": [
            f"the shares of the email and its variants add up to {total}%; at most 100%"]})  # fmt: skip
    if not parent.ab_criterion:
        raise ValidationError({"ab_criterion": ["open_rate or click_rate, to pick the winner"]})
    if int(parent.ab_test_hours) < 1:
        raise ValidationError({"ab_test_hours": ["at least 1 hour of test before the winner is picked"]})


def _check_tokens(email: Email, confirmed: bool) -> None:
    if confirmed:
        return
    problems = selectors.token_problems(email)
    if problems:
        raise TokenProblems({name: [*found] for name, found in problems.items()})


def _freeze(email: Email) -> EmailVersion:
    version = EmailVersion.objects.create(
        email_id=email.pk, number=email.version, subject=email.subject, preheader=email.preheader,
        from_name=email.from_name, from_address=email.from_address, reply_to=email.reply_to, html=email.html,
        text=email.text or content.html_to_text(email.html),
    )  # fmt: skip
    render.number_links(version)  # the links are numbered here, so reading a version never writes
    return version


def _user_id(principal: Principal) -> int | None:
    return None if principal.is_system else getattr(principal.user, "pk", None)


# ==============================================================================================
# Actions


def email_create(*, principal: Principal, tokens_confirmed: bool = False, request=None, **fields: Any) -> Email:
    """Create an email (version 1, frozen at once). A builder email without MJML starts from its theme.

    fields: the attributes of ATTRIBUTES (name defaults to the subject). Raise ValidationError keyed by
    attribute (including token problems unless tokens_confirmed).
    """
    _require(principal)
    fields = dict(fields)
    if not fields.get("name") and isinstance(fields.get("subject"), str):
        fields["name"] = fields["subject"].strip()[:MAX_NAME]
    fields.setdefault("name", "")
    fields.setdefault("subject", "")
    unknown = sorted(set(fields) - set(ATTRIBUTES))
    if unknown:
        raise ValidationError({"email": ["unknown attribute" for _ in unknown[:5]]})
    checked = _checked(fields)
    if checked.get("editor") == Editor.BUILDER and not checked.get("source"):
        checked["source"] = content.theme_source(checked.get("theme") or "blank")
    with _atomic():
        email = Email(**checked, created_by=_user_id(principal))
        _render(email)
        _check_whole(email)
        _check_tokens(email, tokens_confirmed)
        email.save()
        _freeze(email)
        _audit("email.created", principal=principal, request=request, target_id=email.pk, kind=email.kind)
    return email


def email_update(
    email_id: int, *, principal: Principal, tokens_confirmed: bool = False, request=None, **changes: Any
) -> Email:
    """Change the given attributes; a change to what recipients get is a new, frozen version.

    Raise Email.DoesNotExist for an id not in this workspace, ValidationError for bad values.
    """
    _require(principal)
    unknown = sorted(set(changes) - set(ATTRIBUTES))
    if unknown:
        raise ValidationError({"email": ["unknown attribute" for _ in unknown[:5]]})
    checked = _checked(changes)
    with _atomic():
        email = Email.objects.select_for_update().get(pk=email_id)
        before = {name: getattr(email, name) for name in CONTENT_ATTRIBUTES}
        for name, value in checked.items():
            setattr(email, name, value)
        if "editor" in checked or "source" in checked:
            _render(email)
        _check_whole(email)
        if {"variant_weight", "ab_criterion", "ab_test_hours"} & set(checked):
            email.save(update_fields=[name for name in ("variant_weight", "ab_criterion", "ab_test_hours")
                                      if name in checked])  # fmt: skip  # rolled back if the test is refused
            _check_ab(email if email.variant_of is None else Email.objects.get(pk=email.variant_of))
        content_changed = [name for name in CONTENT_ATTRIBUTES if getattr(email, name) != before[name]]
        if content_changed:
            _check_tokens(email, tokens_confirmed)
            email.version += 1
        email.updated_at = timezone.now()
        email.save()
        if content_changed:
            _freeze(email)
        _audit("email.updated", principal=principal, request=request, target_id=email.pk,
               changed=sorted(set(checked)), version=email.version)  # fmt: skip
    return email


def email_delete(email_id: int, *, principal: Principal, request=None) -> None:
    """Delete an email, its variants and frozen versions; refused while one of its sends is under way.

    Raise Email.DoesNotExist for an id not in this workspace, ValidationError while a send runs.
    """
    _require(principal)
    with _atomic():
        email = Email.objects.select_for_update().get(pk=email_id)
        ids = [email.pk, *Email.objects.filter(variant_of=email.pk).values_list("pk", flat=True)]
        if Send.objects.filter(email_id__in=ids, status__in=RUNNING).exists():
            raise ValidationError({"email": ["a send of this email is under way: cancel it first"]})
        EmailVersion.objects.filter(email_id__in=ids).delete()
        Email.objects.filter(pk__in=ids).delete()
        _audit("email.deleted", principal=principal, request=request, target_id=email_id, variants=len(ids) - 1)


def _copy(source: Email, **overrides: Any) -> Email:
    values = {name: getattr(source, name) for name in ATTRIBUTES}
    values.update(overrides)
    return Email(**values)


def email_clone(email_id: int, *, principal: Principal, request=None) -> Email:
    """Copy an email (not its variants, sends or stats) as a new unpublished email at version 1."""
    _require(principal)
    with _atomic():
        source = Email.objects.get(pk=email_id)
        name = f"{source.name} (copy)"[:MAX_NAME]
        clone = _copy(source, name=name, published=False, variant_weight=0, ab_criterion="", ab_test_hours=0)
        clone.created_by = _user_id(principal)
        clone.save()
        _freeze(clone)
        _audit("email.cloned", principal=principal, request=request, target_id=clone.pk, source=source.pk)
    return clone


def variant_create(
    email_id: int, *, principal: Principal, tokens_confirmed: bool = False, request=None, **fields: Any
) -> Email:
    """Create an A/B variant of an email: a copy of its content with fields changed, variant_of=email_id.

    fields may hold ab_criterion and ab_test_hours, which are the parent's test settings (set on the
    parent), and variant_weight, the variant's share of the test group in percent. Kind, purpose and
    segments are the parent's. Raise Email.DoesNotExist, ValidationError (a variant of a variant).
    """
    _require(principal)
    fields = dict(fields)
    test: dict[str, Any] = {name: fields.pop(name) for name in ("ab_criterion", "ab_test_hours") if name in fields}
    for name in ("kind", "segment_ids", "purpose_key", "transactional"):
        if name in fields:
            raise ValidationError({name: ["a variant has its parent's; change it on the parent"]})
    unknown = sorted(set(fields) - set(ATTRIBUTES))
    if unknown:
        raise ValidationError({"email": ["unknown attribute" for _ in unknown[:5]]})
    checked = _checked(fields)
    parent_test = _checked(test)
    with _atomic():
        parent = Email.objects.select_for_update().get(pk=email_id)
        if parent.variant_of is not None:
            raise ValidationError({"variant_of": ["a variant is made from the parent email, not another variant"]})
        for name, value in parent_test.items():
            setattr(parent, name, value)
        _check_ab(parent, extra_weight=int(checked.get("variant_weight", parent.variant_weight)), creating=True)
        if parent_test:
            parent.updated_at = timezone.now()
            parent.save(update_fields=[*parent_test, "updated_at"])
        checked.setdefault("name", f"{parent.name} (variant)"[:MAX_NAME])
        variant = _copy(parent, **{"ab_criterion": "", "ab_test_hours": 0, **checked})
        variant.variant_of = parent.pk
        variant.created_by = _user_id(principal)
        if "editor" in checked or "source" in checked:
            _render(variant)
        _check_tokens(variant, tokens_confirmed)
        variant.save()
        _freeze(variant)
        _audit("email.variant_created", principal=principal, request=request, target_id=variant.pk,
               parent=parent.pk, changed=sorted(checked))  # fmt: skip
    return variant
