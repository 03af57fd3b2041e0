"""Mautic's notes API on Tidings' contact notes: /api/notes (standard routes) and /api/contacts/{id}/notes.

Notes are encrypted under their contact's key, so they sort by when they were written only (text cannot
be sorted in SQL); a note's lead is its contact in the list shape of the contacts API.
"""

from __future__ import annotations

import dataclasses

from django.urls import path

from tidings.accounts.decorators import require_permission
from tidings.contacts import actions, selectors
from tidings.mautic_compat.contacts import contact_or_404, serialize_contacts
from tidings.mautic_compat.decorators import mautic_api
from tidings.mautic_compat.parsing import ListParams, parse_list_params, sort_of, strict_int
from tidings.mautic_compat.responses import MauticError, mautic_datetime
from tidings.mautic_compat.standard import Resource, allow, standard_urls


def note_body(notes: list, contacts: dict | None = None) -> list[dict]:
    """Return notes in Mautic's shape {id, text, type, dateTime, lead}, their contacts in the list shape."""
    if contacts is None:
        contacts = selectors.contacts_get({n.contact_id for n in notes})
    leads = {c["id"]: c for c in serialize_contacts(list(contacts.values()), minimal=True)}
    return [
        {
            "id": n.id,
            "text": n.text,
            "type": n.type,
            "dateTime": mautic_datetime(n.created_at),
            "lead": leads.get(n.contact_id),
        }
        for n in notes
    ]


def _note_or_404(note_id: int):
    return selectors.note_get(note_id)


# Notes sort by when they were written (newest first unless asked otherwise); dateTime is that moment.
NOTE_ORDER_COLUMNS = dict.fromkeys(("id", "date_added", "dateAdded", "date_time", "dateTime"), "created_at")


def _list_notes(params: ListParams, request) -> tuple[list[dict], int]:
    sort = sort_of(params, NOTE_ORDER_COLUMNS, encrypted={"text"})
    oldest_first = sort is not None and not sort[1]
    page = selectors.notes_page(start=params.start, limit=params.limit, oldest_first=oldest_first)
    return note_body(page.items), page.total or 0


def _note_contact(data: dict, *, required: bool) -> int | None:
    raw = data.get("lead", data.get("contact"))
    if isinstance(raw, dict):
        raw = raw.get("id")
    if raw in (None, ""):
        if required:
            raise MauticError(400, "lead ID is mandatory")
        return None
    return strict_int("lead", raw)


def _create_note(request, data: dict, principal, *, method: str):
    contact_id = _note_contact(data, required=True)
    assert contact_id is not None  # required=True raises instead of returning None
    note = actions.note_add(
        contact_id,
        str(data.get("text") or ""),
        type=data.get("type") or "general",
        principal=principal,
        request=request,
    )
    return selectors.note_get(note.id), True


def _update_note(request, note_id: int, data: dict, method: str, principal):
    text = data.get("text")
    actions.note_edit(
        note_id,
        text=None if text is None else str(text),
        type=data.get("type") or None,
        principal=principal,
        request=request,
    )
    return selectors.note_get(note_id)


NOTES = Resource(
    one="note",
    many="notes",
    list=_list_notes,
    get=_note_or_404,
    serialize=lambda notes: note_body(notes),
    create=_create_note,
    update=_update_note,
    delete=lambda request, note_id, principal: actions.note_delete(note_id, principal=principal, request=request),
    view_permission="contacts:view",
    edit_permission="contacts:edit",
    delete_permission="contacts:edit",
    selectable=frozenset({"id", "text", "type", "dateTime", "lead"}),
)


@mautic_api
@require_permission("contacts:view")
def contact_notes(request, id):
    """GET /contacts/{id}/notes: {total, notes} newest first."""
    allow(request, "GET")
    view = contact_or_404(id)
    params = parse_list_params(request.GET)
    if "orderByDir" not in request.GET:  # this route's default direction is DESC in Mautic
        params = dataclasses.replace(params, order_by_dir="DESC")
    sort = sort_of(params, NOTE_ORDER_COLUMNS, encrypted={"text"})
    oldest_first = sort is not None and not sort[1]
    page = selectors.notes_page(contact_id=id, start=params.start, limit=params.limit, oldest_first=oldest_first)
    items = note_body(page.items, {view.id: view})
    return {"total": page.total, "notes": {str(n["id"]): n for n in items} if items else []}


urlpatterns = [
    path("contacts/<int:id>/notes", contact_notes, name="contacts_notes"),
    *standard_urls("notes", "notes", NOTES),
]
