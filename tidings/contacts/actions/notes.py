"""Notes about a contact, encrypted under its key."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from tidings.contacts.actions.common import _atomic, _audit, _member_id, _require
from tidings.contacts.actions.events import _event_rows
from tidings.contacts.event_types import EventType
from tidings.contacts.fields import NOTE
from tidings.contacts.models import (
    Contact,
    Note,
    NoteType,
)
from tidings.events.store import EventRow
from tidings.privacy.vault import (
    keyring,
)
from tidings.tenancy.context import require_workspace


def note_add(
    contact_id: int,
    text: str,
    *,
    type: str = NoteType.GENERAL,
    author_id: int | None = None,
    principal,
    request=None,
) -> Note:
    """Add a note to a contact, its text encrypted under the contact's key; return it.

    Raise Contact.DoesNotExist for an id not in this workspace, ValidationError on an empty
    text or an unknown type.
    """
    _require(principal, "contacts:edit")
    _check_note(text, type)
    ring = keyring()
    with _atomic():
        if not Contact.objects.filter(pk=contact_id).exists():
            raise Contact.DoesNotExist(f"contact {contact_id} does not exist")
        key = ring.data_key(contact_id)
        note = Note.objects.create(
            workspace_id=require_workspace().id,
            contact_id=contact_id,
            type=type,
            text_enc=key.encrypt_text(NOTE, text),
            author_id=author_id if author_id is not None else getattr(principal, "actor_id", None),
        )
        by = author_id if author_id is not None else _member_id(principal)
        _event_rows([EventRow(type=EventType.NOTE_ADDED, contact_id=contact_id, data={"note_id": note.id, "by": by})])
        _audit("note.created", principal=principal, request=request, target_type="note", target_id=note.id,
               contact_id=contact_id)  # fmt: skip
    return note


def note_edit(note_id: int, *, text: str | None = None, type: str | None = None, principal, request=None) -> Note:
    """Change a note's text or type; raise Note.DoesNotExist, or ValidationError on an empty text or unknown type."""
    _require(principal, "contacts:edit")
    note = Note.objects.get(pk=note_id)
    _check_note(text if text is not None else "x", type or note.type)
    ring = keyring()
    with _atomic():
        if text is not None:
            note.text_enc = ring.data_key(note.contact_id).encrypt_text(NOTE, text)
        if type is not None:
            note.type = type
        note.updated_at = timezone.now()
        note.save()
        _audit("note.updated", principal=principal, request=request, target_type="note", target_id=note.id)
    return note


def note_delete(note_id: int, *, principal, request=None) -> None:
    """Delete a note; raise Note.DoesNotExist."""
    _require(principal, "contacts:edit")
    note = Note.objects.get(pk=note_id)
    with _atomic():
        note.delete()
        _audit("note.deleted", principal=principal, request=request, target_type="note", target_id=note_id)


def _check_note(text: str, type: str) -> None:
    if not (text or "").strip():
        raise ValidationError({"text": "a note needs text"})
    if type not in NoteType.values:
        raise ValidationError({"type": f"choose one of {', '.join(NoteType.values)}"})


def _reencrypt_notes(from_contact_id: int, to_contact_id: int) -> int:
    """Move a contact's notes to another contact, re-encrypting each under the new contact's key."""
    ring = keyring()
    keys = ring.data_keys([from_contact_id, to_contact_id])
    notes = list(Note.objects.filter(contact_id=from_contact_id))
    source, target = keys.get(from_contact_id), keys[to_contact_id]
    for note in notes:
        text = source.decrypt_text(NOTE, note.text_enc) if source else ""
        note.text_enc = target.encrypt_text(NOTE, text)
        note.contact_id = to_contact_id
    Note.objects.bulk_update(notes, ["text_enc", "contact_id"], batch_size=200)
    return len(notes)


def _merge_notes(model, winner_id: int, loser_id: int) -> int:
    """Merge hook of Note (tidings.privacy.registry): move the loser's notes to the winner's key."""
    return _reencrypt_notes(loser_id, winner_id)
