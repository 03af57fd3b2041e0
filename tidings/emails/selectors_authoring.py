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
from tidings.contacts import selectors_fields as contacts_fields
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
    return set(contacts_fields.fields_by_alias())


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


def preview_values(contact_id: int) -> tuple[dict[str, str], dict[str, str]]:
    """Return the contact's field values and its owner's as text, for the preview (raise Contact.DoesNotExist)."""
    from tidings.emails import selectors

    contacts_selectors.contact_get(contact_id)  # Contact.DoesNotExist for a contact not in this workspace
    return selectors.contact_token_values(contact_id)


def preview(email: Any, *, values: dict[str, str] | None = None, owner: dict[str, str] | None = None) -> dict[str, str]:
    """Return subject, html and text of an email's draft as a contact would read them, nothing tracked.

    values, owner: the contact's fields and its owner's (None: every token shows its default). The draft
    goes through the sender's own render.prepare and render.personalise, with no message token: links and
    the sender's links print as written ("#"), and no pixel is placed.
    """
    from tidings.emails import render
    from tidings.tenancy.context import require_workspace

    html = email.html or ""
    draft = EmailVersion(
        workspace_id=email.workspace_id, email_id=email.pk or 0, number=0, subject=getattr(email, "subject", ""),
        preheader=getattr(email, "preheader", "") or "", html=html,
        text=getattr(email, "text", "") or content.html_to_text(html),
    )  # fmt: skip  # number 0: no link rows, so no link is numbered
    message = render.personalise(render.prepare(draft), values=values or {}, owner=owner or {}, token=None,
                                 workspace_slug=require_workspace().slug)  # fmt: skip
    return {"subject": message.subject, "html": message.html, "text": message.text}
