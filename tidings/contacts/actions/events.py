"""Contacts' events: its own writes go through the event store's one write path (tidings.events)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tidings.contacts.actions.common import BATCH_SIZE, _require
from tidings.contacts.actions.state import _State
from tidings.events import actions as event_actions
from tidings.events import store
from tidings.events.store import EventRow

__all__ = ["EventRow", "events_append", "events_purge_before"]


def _events(states: Sequence[_State], event_type: int, data: dict | None = None) -> None:
    # Inside the contacts action that checked its own permission (create, import, merge...).
    store.write_for_contacts([s.contact.id for s in states], event_type, data)


def _event_rows(rows: Iterable[EventRow]) -> None:
    # The same path for events whose data differs per contact (each tag link added or removed).
    store.write(rows)


def events_append(rows: Iterable[EventRow | Mapping[str, Any]], *, batch_size: int = BATCH_SIZE, principal) -> int:
    """Append events to the store in batches; return how many were written (tidings.events.actions.events_record)."""
    _require(principal, "contacts:edit")
    return event_actions.events_record(rows, batch_size=batch_size, principal=principal)


def events_purge_before(cutoff: datetime.datetime, *, batch_size: int = 5000, principal) -> int:
    """Delete the workspace's events older than cutoff; return how many went (tidings.events.actions)."""
    _require(principal, "contacts:delete")
    return event_actions.events_purge_before(cutoff, batch_size=batch_size, principal=principal)
