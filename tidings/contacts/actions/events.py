"""Appending to and purging the contacts' event store."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from tidings.contacts.actions.common import BATCH_SIZE, MAX_EVENT_DATA_BYTES, _atomic, _audit, _require
from tidings.contacts.actions.state import _State
from tidings.contacts.events import check_event_data
from tidings.contacts.models import (
    ContactEvent,
    EventType,
)
from tidings.tenancy import bulk
from tidings.tenancy.context import require_workspace


def _events(states: Sequence[_State], event_type: int, data: dict | None = None) -> None:
    data = check_event_data(event_type, data)
    workspace_id = require_workspace().id
    now = timezone.now()
    rows = [(workspace_id, s.contact.id, int(event_type), now, data) for s in states]
    bulk.insert(ContactEvent, ["workspace_id", "contact_id", "type", "at", "data"], rows)


@dataclass(frozen=True)
class EventRow:
    contact_id: int
    type: int
    at: datetime.datetime | None = None
    data: dict | None = None


def events_append(rows: Iterable[EventRow | Mapping[str, Any]], *, batch_size: int = BATCH_SIZE, principal) -> int:
    """Append events to the store in batches (bulk inserts); return how many were written.

    Each row is an EventRow or a dict with contact_id, type (EventType), at (default now) and
    data (small JSON of ids; at most 256 bytes) holding only the keys and value kinds its type's
    schema declares (tidings.contacts.events); IPs are truncated to their network (/24, /48)
    before storage. Contact ids are trusted to belong to the workspace in context
    (callers hold them from a scoped read). Not audited: the event store is itself a record,
    written at tracking rates. Raise ValueError on an unknown type or oversized data, and
    EventDataRejected (a ValueError) on a key outside the type's schema or a value of the
    wrong kind; nothing of the call is written then if it fits in one batch.
    """
    _require(principal, "contacts:edit")
    import json

    workspace_id = require_workspace().id
    now = timezone.now()
    written = 0
    pending: list[tuple] = []
    valid_types = set(EventType.values)

    def flush():
        nonlocal written, pending
        if pending:
            with _atomic():
                bulk.insert(ContactEvent, ["workspace_id", "contact_id", "type", "at", "data"], pending)
            written += len(pending)
            pending = []

    for row in rows:
        if isinstance(row, Mapping):
            row = EventRow(**row)
        if row.type not in valid_types:
            raise ValueError(f"unknown event type {row.type}")
        data = check_event_data(row.type, row.data)
        if len(json.dumps(data, separators=(",", ":"))) > MAX_EVENT_DATA_BYTES:
            raise ValueError(f"event data larger than {MAX_EVENT_DATA_BYTES} bytes")
        pending.append((workspace_id, int(row.contact_id), int(row.type), row.at or now, data))
        if len(pending) >= batch_size:
            flush()
    flush()
    return written


def events_purge_before(cutoff: datetime.datetime, *, batch_size: int = 5000, principal) -> int:
    """Delete the workspace's events older than cutoff in batches (retention); return how many went.

    Each batch is its own short transaction, so purging millions of rows never holds the write
    lock for long. One audit entry records the cutoff and the count.
    """
    _require(principal, "contacts:delete")
    deleted = 0
    while True:
        with _atomic():
            ids = list(ContactEvent.objects.filter(at__lt=cutoff).values_list("id", flat=True)[:batch_size])
            if not ids:
                break
            ContactEvent.objects.filter(id__in=ids).delete()
        deleted += len(ids)
    with _atomic():
        _audit("events.purged", principal=principal, target_type="contact_event", cutoff=cutoff.isoformat(),
               deleted=deleted)  # fmt: skip
    return deleted
