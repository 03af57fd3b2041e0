"""The one write path of the event store: check, encode and insert events in batches.

store.write() is the engine (as tenancy.bulk is for rows): it checks each row against its
type's declaration, truncates IPs, replaces repeated strings by their dictionary id and inserts
through tidings.tenancy.bulk, in the workspace in context only. It checks no permission:
domain actions call it inside their own checked, atomic action (a contact's creation writes
its contact.created event); everyone else goes through actions.events_record.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from tidings.events import listeners
from tidings.events.models import Event, EventString
from tidings.events.registry import DICTIONARY_KINDS, check_event_data, event_type
from tidings.tenancy import bulk
from tidings.tenancy.context import require_workspace

COLUMNS = ["workspace_id", "contact_id", "visitor_id", "type", "at", "data"]


@dataclass(frozen=True, kw_only=True)
class EventRow:
    """An event to write: its type's code, the contact or anonymous visitor, when (default now) and data."""

    contact_id: int | None = None
    type: int
    at: datetime.datetime | None = None
    data: Mapping[str, Any] | None = None
    visitor_id: int | None = None


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()[:16]


def string_ids(kind: int, values: Iterable[str]) -> dict[str, int]:
    """Return the dictionary id of each value of kind, storing the missing ones (get-or-create in bulk).

    One query when every value is known (the steady state of tracking); two more (insert of the
    missing, ignoring a concurrent writer's, then read back) otherwise.
    """
    wanted = {_digest(value): value for value in set(values)}
    if not wanted:
        return {}

    def known() -> dict[bytes, int]:
        rows = EventString.objects.filter(kind=kind, digest__in=list(wanted)).values_list("digest", "id")
        return {bytes(digest): pk for digest, pk in rows}

    found = known()
    missing = [digest for digest in wanted if digest not in found]
    if missing:
        workspace_id = require_workspace().id
        bulk.insert(
            EventString,
            ["workspace_id", "kind", "digest", "value"],
            [(workspace_id, kind, digest, wanted[digest]) for digest in missing],
            ignore_conflicts=True,
        )
        found = known()
    return {wanted[digest]: pk for digest, pk in found.items()}


def _encode(batch: list[tuple[int, dict]]) -> None:
    """Replace, in place, each dictionary-kind value of the batch's data by its string id."""
    by_kind: dict[int, set[str]] = {}
    slots: list[tuple[dict, str, int]] = []  # (data, key, string kind) of each value to replace
    keys_of: dict[int, list[tuple[str, int]]] = {}  # per type code: its dictionary keys and their string kinds
    for code, data in batch:
        keys = keys_of.get(code)
        if keys is None:
            keys = keys_of[code] = [
                (key, DICTIONARY_KINDS[kind]) for key, kind in event_type(code).dictionary_keys.items()
            ]
        for key, kind_code in keys:
            if key in data:
                by_kind.setdefault(kind_code, set()).add(data[key])
                slots.append((data, key, kind_code))
    if by_kind:
        ids = {kind: string_ids(kind, values) for kind, values in by_kind.items()}
        for data, key, kind_code in slots:
            data[key] = ids[kind_code][data[key]]


def encode_data(code: int, data: Mapping[str, Any] | None) -> dict:
    """Return one event's data checked and encoded as write() stores it (for Event.save)."""
    checked = check_event_data(code, data)
    _encode([(int(code), checked)])
    return checked


def write(rows: Iterable[EventRow | Mapping[str, Any]], *, batch_size: int = bulk.BATCH_SIZE) -> int:
    """Check, encode and insert rows in batches in the workspace in context; return how many were written.

    Each row is an EventRow or a dict of its fields; it names a contact_id, a visitor_id or both.
    Contact and visitor ids are trusted to belong to the workspace in context (callers hold them
    from a scoped read). Raise UnknownEventType for a code no domain registered, EventDataRejected
    for data outside the type's schema, ValueError for a row with neither contact nor visitor (data
    cannot outgrow 256 bytes: each schema's worst case is checked when it is declared). A batch is
    checked whole before it is written. Call inside a transaction.
    """
    workspace_id = require_workspace().id
    now = timezone.now()
    written = 0
    pending: list[tuple] = []

    def flush() -> None:
        nonlocal written, pending
        if pending:
            _encode([(row[3], row[5]) for row in pending])
            bulk.insert(Event, COLUMNS, pending)
            written += len(pending)
            pending = []

    codes: set[int] = set()
    for row in rows:
        if isinstance(row, Mapping):
            row = EventRow(**row)
        if row.contact_id is None and row.visitor_id is None:
            raise ValueError("an event belongs to a contact or a visitor")
        data = check_event_data(row.type, row.data)
        codes.add(int(row.type))
        pending.append(
            (
                workspace_id,
                None if row.contact_id is None else int(row.contact_id),
                None if row.visitor_id is None else int(row.visitor_id),
                int(row.type),
                row.at or now,
                data,
            )
        )
        if len(pending) >= batch_size:
            flush()
    flush()
    if written:
        listeners.notify(codes)
    return written


def write_for_contacts(contact_ids: Sequence[int], code: int, data: Mapping[str, Any] | None = None) -> int:
    """Write one event of type code, with the same data, for each contact (contacts created, imported...)."""
    return write(EventRow(type=code, contact_id=contact_id, data=data) for contact_id in contact_ids)


def write_select(code: int, contact_ids, data: Mapping[str, Any] | None = None) -> int:
    """Write one event of type code, with the same data, for each contact id a queryset selects; return the count.

    For set changes too large to pass through Python (a segment's rebuild adding a million
    members): one INSERT ... SELECT. contact_ids is a values_list("id"...) queryset of a tenant
    model in the workspace in context. Call inside the action's transaction.
    """
    checked = encode_data(code, data)
    constants = {"workspace_id": require_workspace().id, "type": int(code), "at": timezone.now(), "data": checked}
    written = bulk.insert_select(Event, constants, ["contact_id"], contact_ids)
    if written:
        listeners.notify({int(code)})
    return written
