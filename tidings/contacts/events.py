"""The schema of each event type's data: which keys it may carry and what kind of value each holds.

The event store is copied widely (timelines, exports, scoring, segments), so what goes into an
event's `data` is allow-listed per type, not deny-listed: a key that is not declared for the
type, or a value of the wrong kind, is rejected (EventDataRejected, a ValueError) at every
append path (actions.events_append, the bulk writers' _events, ContactEvent.save), before
anything reaches the table. Rejecting rather than dropping: events are written by code, not by
visitors, so an undeclared key is a bug to fix where it is written, and dropping it silently
would hide that bug (and the personal value it may carry) until someone read the table.

Value kinds: INT (an integer, not a bool), TOKEN (a short code: letters, digits and _.:/- only,
so no address, name or sentence fits), IP (truncated to its network before storage).

Each domain declares its types where it defines them:

    register_event_schema(EventType.PAGE_HIT, page=INT, ip=IP)

The registry lives here beside EventType for now; a later `events` app can take it over with
the same calls, each domain app registering its own types from its AppConfig.ready().
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tidings.audit.actions import truncate_ip
from tidings.contacts.models import EventType

INT = "int"
TOKEN = "token"
IP = "ip"
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_.:/-]{1,64}$")


class EventDataRejected(ValueError):
    """Event data carried an undeclared key or a value of the wrong kind; the message names keys, never values."""


@dataclass(frozen=True)
class EventSchema:
    type: int
    keys: Mapping[str, str]


EVENT_SCHEMAS: dict[int, EventSchema] = {}


def register_event_schema(event_type: int, **keys: str) -> EventSchema:
    """Declare the keys (and their kind: INT, TOKEN or IP) that data of event_type may carry; return the schema.

    Raise ValueError on an unknown kind or a type declared twice with different keys.
    """
    unknown = {kind for kind in keys.values() if kind not in (INT, TOKEN, IP)}
    if unknown:
        raise ValueError(f"unknown value kinds {sorted(unknown)}")
    schema = EventSchema(int(event_type), dict(keys))
    existing = EVENT_SCHEMAS.get(schema.type)
    if existing is not None and existing != schema:
        raise ValueError(f"event type {schema.type} already has another schema")
    EVENT_SCHEMAS[schema.type] = schema
    return schema


def _fits(kind: str, value: Any) -> bool:
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str) and bool(_TOKEN_RE.match(value)) if kind == TOKEN else isinstance(value, str)


def check_event_data(event_type: int, data: Mapping[str, Any] | None) -> dict:
    """Return data checked against event_type's schema, IPs truncated; raise EventDataRejected otherwise.

    Raised for a type with no schema, a key the schema does not declare, or a value of the
    wrong kind (None counts as absent). The message names the type and keys only.
    """
    schema = EVENT_SCHEMAS.get(int(event_type))
    label = EventType(event_type).label if event_type in EventType.values else str(event_type)
    if schema is None:
        raise EventDataRejected(f"event type {label} has no data schema")
    data = {key: value for key, value in (data or {}).items() if value is not None}
    undeclared = sorted(set(data) - set(schema.keys))
    if undeclared:
        raise EventDataRejected(f"event {label}: keys not in its schema: {', '.join(map(str, undeclared))}")
    wrong = sorted(key for key, value in data.items() if not _fits(schema.keys[key], value))
    if wrong:
        raise EventDataRejected(f"event {label}: values of the wrong kind for {', '.join(wrong)}")
    for key, kind in schema.keys.items():
        if kind == IP and key in data:
            data[key] = truncate_ip(data[key])
    return data


E = EventType
register_event_schema(E.CONTACT_CREATED, source=TOKEN)  # ui, api, form or system (actions._creation_source)
register_event_schema(E.CONTACT_IDENTIFIED)
register_event_schema(E.CONTACT_MERGED, merged_id=INT)
register_event_schema(E.CONTACT_IMPORTED, **{"import": INT})
register_event_schema(E.TAG_ADDED, tag_id=INT)
register_event_schema(E.TAG_REMOVED, tag_id=INT)
register_event_schema(E.DNC_ADDED, channel=TOKEN, reason=TOKEN)
register_event_schema(E.DNC_REMOVED, channel=TOKEN)
register_event_schema(E.NOTE_ADDED, note_id=INT)
register_event_schema(E.PAGE_HIT, page=INT, ip=IP)
register_event_schema(E.ASSET_DOWNLOAD, asset_id=INT, page=INT, ip=IP)
register_event_schema(E.VIDEO_HIT, page=INT, seconds=INT, ip=IP)
register_event_schema(E.FORM_SUBMITTED, form_id=INT, page=INT, submission_id=INT, ip=IP)
for _type in (E.EMAIL_SENT, E.EMAIL_OPENED, E.EMAIL_COMPLAINED, E.EMAIL_UNSUBSCRIBED):
    register_event_schema(_type, email_id=INT, send_id=INT)
register_event_schema(E.EMAIL_CLICKED, email_id=INT, send_id=INT, link_id=INT, page=INT)
register_event_schema(E.EMAIL_BOUNCED, email_id=INT, send_id=INT, kind=TOKEN)
register_event_schema(E.EMAIL_FAILED, email_id=INT, send_id=INT, code=TOKEN)
for _type in (E.CAMPAIGN_ENTERED, E.CAMPAIGN_STEP, E.CAMPAIGN_LEFT):
    register_event_schema(_type, campaign_id=INT, step_id=INT)
register_event_schema(E.POINTS_CHANGED, op=TOKEN, delta=INT, points=INT)
register_event_schema(E.STAGE_CHANGED, stage_id=INT, previous_stage_id=INT)
register_event_schema(E.SEGMENT_ADDED, segment_id=INT)
register_event_schema(E.SEGMENT_REMOVED, segment_id=INT)
register_event_schema(E.CONSENT_GIVEN, purpose=TOKEN, notice_version=INT, method=TOKEN)
register_event_schema(E.CONSENT_WITHDRAWN, purpose=TOKEN, method=TOKEN)
