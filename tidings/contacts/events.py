"""Contacts' declaration of its event types (and, for now, those of the domains still to be built).

The registry, the value kinds and the checks live in tidings.events.registry; contacts calls
register_contact_event_types() from its AppConfig.ready(). The names below (EVENT_SCHEMAS,
register_event_schema, check_event_data, EventDataRejected) stay importable for existing callers.
"""

from __future__ import annotations

from collections.abc import Mapping

from tidings.contacts.event_types import EventType
from tidings.events.registry import (
    INT,
    TOKEN,
    EventDataRejected,
    Retention,
    check_event_data,
    event_type,
    event_types,
    register_event_type,
    reserve_codes,
)

__all__ = ["EVENT_SCHEMAS", "EventDataRejected", "check_event_data", "register_event_schema"]

# The domain each range belongs to; the placeholders move to their domain's apps.py with their types.
RANGES = {
    "contacts": [range(1, 20), range(60, 70)],
}
FIELDS_SEPARATOR = ":"  # aliases are [a-z0-9_], so a colon joins them into one token
MAX_TOKEN = 64  # the registry's longest token
RECORD = Retention.RECORD  # kept as long as the contact: what was decided about or by the person


def _domain(code: int) -> str:
    return next(domain for domain, ranges in RANGES.items() if any(code in r for r in ranges))


def register_event_schema(code: int, /, *, retention: Retention = Retention.BEHAVIOUR, **keys: str):
    """Declare code (an EventType) with its data keys, in the domain whose range holds it; return the declaration."""
    return register_event_type(_domain(int(code)), code, EventType(code).label, retention=retention, **keys)  # type: ignore[arg-type]  # keys are data kinds, not the bool flags


class _Schemas(Mapping):
    """The declared types by code (read-only view of the registry), for callers of the former EVENT_SCHEMAS."""

    def __getitem__(self, code):
        return event_type(code)

    def __iter__(self):
        return iter(spec.code for spec in event_types())

    def __len__(self):
        return len(event_types())


EVENT_SCHEMAS = _Schemas()


def fields_token(aliases) -> tuple[str, int]:
    """Return (the token of the sorted aliases that fit an event's token, how many aliases there are)."""
    kept: list[str] = []
    size = 0
    ordered = sorted(aliases)
    for alias in ordered:
        size += len(alias) + (1 if kept else 0)
        if size > MAX_TOKEN:
            break
        kept.append(alias)
    return FIELDS_SEPARATOR.join(kept), len(ordered)


def register_contact_event_types() -> None:
    """Reserve the ranges and register every EventType with its schema and retention class (idempotent)."""
    for domain, ranges in RANGES.items():
        for codes in ranges:
            reserve_codes(domain, codes)
    E = EventType
    register_event_schema(E.CONTACT_CREATED, source=TOKEN, retention=RECORD)  # ui, api, form or system
    register_event_schema(E.CONTACT_IDENTIFIED, retention=RECORD)
    register_event_schema(E.CONTACT_MERGED, merged_id=INT, retention=RECORD)
    register_event_schema(E.CONTACT_IMPORTED, **{"import": INT}, retention=RECORD)
    # by: the user id of the member who did it (absent for API clients and the system); named on the timeline.
    register_event_schema(E.TAG_ADDED, tag_id=INT, by=INT)
    register_event_schema(E.TAG_REMOVED, tag_id=INT, by=INT)
    register_event_schema(E.DNC_ADDED, channel=TOKEN, reason=TOKEN, retention=RECORD)
    register_event_schema(E.DNC_REMOVED, channel=TOKEN, retention=RECORD)
    register_event_schema(E.NOTE_ADDED, note_id=INT, by=INT)
    # The aliases of the changed fields ("email:city", whole aliases that fit a token) and how many changed:
    # field names only, never a value, so the event holds nothing about the person beyond "this changed".
    register_event_schema(E.FIELDS_CHANGED, fields=TOKEN, count=INT, by=INT)
    register_event_schema(E.COMPANY_LINKED, company_id=INT, by=INT)
    register_event_schema(E.COMPANY_UNLINKED, company_id=INT, by=INT)
    register_event_schema(E.POINTS_CHANGED, op=TOKEN, delta=INT, points=INT)
    register_event_schema(E.STAGE_CHANGED, stage_id=INT, previous_stage_id=INT)
