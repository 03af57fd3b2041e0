"""Reads of email authoring; always scoped to the workspace in context.

An email of another workspace behaves exactly like one that does not exist. The send and feedback
helpers' reads live in selectors_sending.py and selectors.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from tidings.consent import selectors as consent_selectors
from tidings.contacts import selectors as contacts_selectors
from tidings.emails import content, tokens
from tidings.emails.models import Email, EmailVersion
from tidings.segments import selectors as segments_selectors

EMAILS_LIMIT = 500
MAX_SEARCH = 100


def emails(*, search: str = "", kind: str = "", variants: bool = False) -> QuerySet[Email]:
    """Return the workspace's emails by name; search matches name or subject; variants left out unless asked."""
    found = Email.objects.all()
    if not variants:
        found = found.filter(variant_of__isnull=True)
    search = (search or "").strip()[:MAX_SEARCH]
    if search:
        found = found.filter(Q(name__icontains=search) | Q(subject__icontains=search))
    if kind:
        found = found.filter(kind=kind)
    return found.order_by("name", "id")


def email_get(email_id: int) -> Email:
    """Return an email of this workspace; raise Email.DoesNotExist otherwise."""
    return Email.objects.get(pk=email_id)


def variants_of(email_id: int) -> list[Email]:
    """Return an email's A/B variants, oldest first."""
    return list(Email.objects.filter(variant_of=email_id).order_by("id"))


def version_current(email: Email) -> EmailVersion | None:
    """Return the frozen version the email is at; None for an email saved before versions were frozen at
    save (the sending actions freeze it then: tidings.emails.actions.sending._version_to_send)."""
    return EmailVersion.objects.filter(email_id=email.pk, number=email.version).first()


def versions(email_id: int) -> QuerySet[EmailVersion]:
    """Return an email's frozen versions, newest first."""
    return EmailVersion.objects.filter(email_id=email_id).order_by("-number")


def existing_segment_ids(ids: Iterable[int]) -> set[int]:
    """Return those of ids that name a segment of this workspace."""
    wanted = [i for i in ids if isinstance(i, int)]
    if not wanted:
        return set()
    return set(segments_selectors.segments_list().filter(pk__in=wanted).values_list("pk", flat=True))


def segment_choices() -> list[tuple[int, str]]:
    """Return (id, name) of the workspace's segments, by name (the editor's choices)."""
    return list(segments_selectors.segments_list().values_list("pk", "name")[:500])


def purpose_exists(key: str) -> bool:
    """Return whether key names an active consent purpose of this workspace."""
    return any(purpose.key == key and purpose.active for purpose in consent_selectors.purposes())


def purpose_choices() -> list[tuple[str, str]]:
    return [(p.key, p.name) for p in consent_selectors.purposes() if p.active]


def field_aliases() -> set[str]:
    """Return the aliases of the workspace's contact fields (archived ones included: their tokens still fill)."""
    return set(contacts_selectors.fields_by_alias())


def token_problems(email: Any) -> dict[str, list[str]]:
    """Return {attribute: problems} for the tokens of an email's texts that would not fill in.

    A problem names the token as written (an alias or a misspelt name the author typed), never a contact's
    value: what is not a token Tidings knows, and {contactfield=alias} naming no field of this workspace.
    """
    aliases: set[str] | None = None
    problems: dict[str, list[str]] = {}
    names = ("subject", "preheader", "source", "html", "text") if getattr(email, "editor", "") == "builder" else (
        "subject", "preheader", "html", "text")  # fmt: skip
    seen: set[str] = set()
    for name in names:
        text = getattr(email, name, "") or ""
        if "{" not in text:
            continue
        found = []
        for unknown in tokens.unknown_tokens(text):
            if unknown not in seen:
                found.append(f"{unknown}: not a token Tidings fills in; it would be sent as written")
                seen.add(unknown)
        for token in tokens.tokens_in(text):
            if token.name != "contactfield":
                continue
            if aliases is None:
                aliases = field_aliases()
            if token.argument not in aliases and token.text not in seen:
                found.append(f"{token.text[:80]}: no contact field of this workspace has the alias "
                             f"“{token.argument}”; its default is sent")  # fmt: skip
                seen.add(token.text)
        if found:
            problems[name] = found
    return problems


def preview_values(contact_id: int) -> dict[str, str]:
    """Return the contact's field values as text, for the preview (raise Contact.DoesNotExist elsewhere)."""
    view = contacts_selectors.contact_get(contact_id)
    return {alias: "" if value is None else str(value) for alias, value in view.fields.items()}


def preview(email: Any, *, values: dict[str, str] | None = None) -> dict[str, str]:
    """Return subject, html and text of an email as a contact would read them (links and pixel not filled).

    values: the contact's fields (None: every token shows its default). A stand-in for the send helper's
    render.personalise(token=None) until both are merged: it fills contact fields and {today}, {subject};
    the links a real message holds print as "#".
    """
    import datetime

    values = values or {}
    subject = getattr(email, "subject", "")

    def resolve(token: tokens.Token) -> str | None:
        if token.name == "contactfield":
            return values.get(token.argument)
        if token.name == "today":
            return datetime.date.today().isoformat()
        if token.name == "subject":
            return subject
        if token.name in {"unsubscribe_url", "webview_url", "preference_url"}:
            return "#"
        return ""

    html = email.html or ""
    text = getattr(email, "text", "") or content.html_to_text(html)
    return {
        "subject": tokens.fill(tokens.compile_text(subject), resolve, html=False),
        "html": tokens.fill(tokens.compile_text(html), resolve, html=True),
        "text": tokens.fill(tokens.compile_text(text), resolve, html=False),
    }
