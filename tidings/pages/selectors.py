"""Reads of landing pages and of the preference centre; always scoped to the workspace in context.

A page, form or contact of another workspace behaves exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.db.models import QuerySet
from django.utils.safestring import SafeString

from tidings.accounts.permissions import PREFERENCE_LINK_PERMISSIONS, Principal, Via
from tidings.consent import selectors as consent_selectors
from tidings.contacts import selectors as contacts_selectors
from tidings.contacts.conditions import existing_contact_ids
from tidings.pages import content
from tidings.pages.models import LandingPage
from tidings.segments import selectors as segments_selectors
from tidings.tenancy.context import require_workspace
from tidings.tracking import selectors as tracking_selectors

PAGES_LIMIT = 500  # pages one list shows
PREFERENCE_SALT = "tidings.pages.preferences"
PREFERENCE_MAX_AGE = 30 * 24 * 60 * 60  # a preference link works for 30 days
MAX_TOKEN = 512


# ==============================================================================================
# Landing pages


def pages(*, search: str = "") -> QuerySet[LandingPage]:
    """Return the workspace's pages by title."""
    found = LandingPage.objects.order_by("title", "id")
    if search:
        found = found.filter(title__icontains=search[:191])
    return found


def page_get(page_id: int) -> LandingPage:
    """Return one page of the workspace; raise LandingPage.DoesNotExist for an id not in it."""
    return LandingPage.objects.get(pk=page_id)


def page_by_slug(slug: str) -> LandingPage:
    """Return the page with slug, published or not; raise LandingPage.DoesNotExist."""
    if not isinstance(slug, str) or len(slug) > content.MAX_SLUG or not content.SLUG_RE.match(slug):
        raise LandingPage.DoesNotExist("No such page.")  # no query for what no page can be called (NUL included)
    return LandingPage.objects.get(slug=slug)


def slug_taken(slug: str, *, exclude_id: int | None = None) -> bool:
    taken = LandingPage.objects.filter(slug=slug)
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    return taken.exists()


def _form_html(form_id: int) -> str | None:
    """Return the published form's HTML, or None (no such form here, or no forms app installed)."""
    try:
        from tidings.forms import selectors as form_selectors  # lazy: forms is another app (SEAMS_11)
    except ImportError:
        return None
    return form_selectors.form_embed_html(form_id)


def _published_page_urls(ids: set[int]) -> dict[int, str]:
    workspace = require_workspace()
    rows = LandingPage.objects.filter(pk__in=ids, is_published=True).values_list("pk", "slug")
    return {pk: content.public_url(workspace.slug, slug) for pk, slug in rows}


def page_render(page: LandingPage) -> SafeString:
    """Return page's content with its {form=N} and {pagelink=N} tokens replaced (one query for the links)."""
    links = _published_page_urls({number for kind, number in content.tokens(page.content) if kind == "pagelink"})
    return content.render(page.content, form_html=_form_html, page_url=links.get)


def token_problems(text: str) -> list[str]:
    """Return what would render as nothing in text: forms not published here, pages not published here.

    Each problem names the token (an id the editor typed), never a value of a contact.
    """
    found = content.tokens(text)
    links = _published_page_urls({number for kind, number in found if kind == "pagelink"})
    problems = []
    for kind, number in found:
        if kind == "form" and _form_html(number) is None:
            problems.append(f"{{form={number}}}: no published form of this workspace has this id; it is left out")
        elif kind == "pagelink" and number not in links:
            problems.append(f"{{pagelink={number}}}: no published page of this workspace has this id; it links to #")
    return problems


def tracking_site_for_host(host: str):
    """Return the workspace's active site whose domains cover host (its key goes into the page), or None."""
    return tracking_selectors.site_covering(host)


def tracker_src() -> str:
    """Return the versioned path of the tracker script (/t.js?v=...), served by this same host."""
    return tracking_selectors.tracker_path()


# ==============================================================================================
# The preference centre


def preference_token(contact_id: int) -> str:
    """Return a signed token naming contact_id in the current workspace (valid PREFERENCE_MAX_AGE seconds)."""
    return signing.dumps({"w": require_workspace().id, "c": int(contact_id)}, salt=PREFERENCE_SALT, compress=True)


def preference_link(contact_id: int) -> str:
    """Return the absolute address of the contact's preference centre (for {unsubscribe_url}-like tokens)."""
    workspace = require_workspace()
    base = content.public_url(workspace.slug, "x").rsplit("/p/", 1)[0]
    return f"{base}/preferences/{preference_token(contact_id)}"


def contact_for_preference_token(token: object, *, max_age: int = PREFERENCE_MAX_AGE) -> int | None:
    """Return the contact a preference token names in the current workspace; None when forged, expired or another's."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        return None
    try:
        payload = signing.loads(token, salt=PREFERENCE_SALT, max_age=max_age)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        return None
    if not isinstance(payload, dict) or payload.get("w") != require_workspace().id:
        return None
    contact_id = payload.get("c")
    if not isinstance(contact_id, int) or isinstance(contact_id, bool):
        return None
    return contact_id if existing_contact_ids([contact_id]) else None


def preference_principal(workspace, contact_id: int) -> Principal:
    """Return the principal of a verified preference link: preferences:change, for contact_id only."""
    return Principal(workspace=workspace, user=None, permissions=PREFERENCE_LINK_PERMISSIONS,
                     via=Via.PREFERENCE_LINK, credential_id=int(contact_id))  # fmt: skip


@dataclass(frozen=True)
class Subscription:
    segment_id: int
    name: str
    description: str
    subscribed: bool


@dataclass(frozen=True)
class ConsentChoice:
    key: str
    name: str
    description: str
    given: bool
    objection: bool  # the purpose relies on legitimate interest: unticking it records an objection


@dataclass(frozen=True)
class Preferences:
    """What the preference centre shows a contact: nothing but its own choices, and the workspace's names."""

    subscriptions: list[Subscription]
    unsubscribed_from_all: bool
    consents: list[ConsentChoice]


def subscription_lists() -> QuerySet:
    """Return the published segments marked as subscription lists, by name."""
    return segments_selectors.segments_list(published_only=True).filter(in_preference_centre=True)


def preferences(contact_id: int) -> Preferences:
    """Return the contact's subscriptions, email Do-Not-Contact and consents per active purpose."""
    lists = list(subscription_lists()[:200])
    member_of = {segment.pk for segment, _ in segments_selectors.contact_memberships(contact_id)}
    dnc = any(row.channel == "email" for row in contacts_selectors.contact_dnc(contact_id))
    state = consent_selectors.consent_state(contact_id)
    choices = []
    for purpose in consent_selectors.purposes():
        if not purpose.active:
            continue
        decision = state.get(purpose.key)
        objection = not purpose.needs_consent
        given = decision.given if decision is not None else objection  # no objection yet: allowed
        choices.append(ConsentChoice(purpose.key, purpose.name, purpose.description, given, objection))
    return Preferences(
        subscriptions=[Subscription(s.pk, s.name, s.description, s.pk in member_of) for s in lists],
        unsubscribed_from_all=dnc,
        consents=choices,
    )
