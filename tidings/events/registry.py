"""The event types of every domain: code, name, allow-listed data schema, retention class, personal or not.

Each domain declares its own types from its AppConfig.ready(), in the code range it reserved:

    reserve_codes("contacts", range(1, 20))
    register_event_type("contacts", ContactEventType.TAG_ADDED, tag_id=INT)
    register_event_type("tracking", 20, name="page.hit", url=URL, ip=IP)

so a new domain adds its events without editing another app. Codes are small ints (the store's
`type` column), unique across domains: a code outside the domain's reserved range, or a code or
name registered twice differently, is refused at start-up. A code nobody registered is refused
at write (UnknownEventType).

The event store is copied widely (timelines, exports, scoring, segments), so what goes into an
event's `data` is allow-listed per type, not deny-listed: a key that is not declared for the
type, or a value of the wrong kind, is rejected (EventDataRejected, a ValueError) before
anything reaches the table. Rejecting rather than dropping: events are written by code, not by
visitors, so an undeclared key is a bug to fix where it is written.

Value kinds: INT (an integer, not a bool), TOKEN (a short code: letters, digits and _.:/- only,
so no address, name or sentence fits), IP (truncated to its network before storage), URL (a
web address without its query string and fragment, stored once per workspace in the string
dictionary; the event keeps the dictionary id, see tidings.events.store), LABEL (a short printable
string of few distinct values, such as a referrer host, UTM tags or "mobile|iOS|Safari": stored once per
workspace in the string dictionary, like URL, so repeated labels cost an id in each event).
"""

from __future__ import annotations

import datetime
import enum
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from tidings.audit.actions import truncate_ip

INT = "int"
TOKEN = "token"
IP = "ip"
URL = "url"
LABEL = "label"
KINDS = (INT, TOKEN, IP, URL, LABEL)
# Kinds stored in the string dictionary (EventString.kind holds their code).
DICTIONARY_KINDS = {URL: 1, LABEL: 2}
MAX_LABEL = 200
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_.:/-]{1,64}$")
MAX_URL = 2000
MAX_EVENT_DATA_BYTES = 256
# The longest JSON each kind can take once stored (an int, a quoted token or network, a dictionary id),
# so a schema's worst case is known when it is declared and no row needs measuring at write.
_KIND_BYTES = {INT: 20, TOKEN: 66, IP: 45, URL: 20, LABEL: 20}
_OCTET = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$")


class Retention(enum.StrEnum):
    """How long events of a type are kept (tidings.events.actions.events_purge_expired)."""

    # Tracking and engagement (page hits, opens, clicks): 13 months, the CNIL's bound for audience
    # measurement, and enough for year-on-year comparisons.
    BEHAVIOUR = "behaviour"
    # What a person decided or what was done to their record (consent, DNC, merges): kept as long as
    # the contact, as proof; purged with the contact (erasure) or by an explicit cutoff only.
    RECORD = "record"


RETENTION_PERIODS: dict[Retention, datetime.timedelta | None] = {
    Retention.BEHAVIOUR: datetime.timedelta(days=396),
    Retention.RECORD: None,
}


class EventDataRejected(ValueError):
    """Event data carried an undeclared key or a value of the wrong kind; the message names keys, never values."""


class UnknownEventType(ValueError):
    """No domain registered this event type code."""


@dataclass(frozen=True)
class EventTypeSpec:
    code: int
    name: str
    domain: str
    keys: Mapping[str, str]
    retention: Retention = Retention.BEHAVIOUR
    personal: bool = True

    @functools.cached_property  # read twice per event written: the flusher's hot path (read-only mapping)
    def dictionary_keys(self) -> Mapping[str, str]:
        return MappingProxyType({key: kind for key, kind in self.keys.items() if kind in DICTIONARY_KINDS})

    @functools.cached_property  # each key's check of its value, looked up once per value written
    def checks(self) -> Mapping[str, Callable[[Any], bool]]:
        return MappingProxyType({key: _CHECKS.get(kind, _is_text) for key, kind in self.keys.items()})

    @functools.cached_property  # the keys check_event_data rewrites (IP truncated, URL stripped), in schema order
    def rewritten_keys(self) -> tuple[tuple[str, str], ...]:
        return tuple((key, kind) for key, kind in self.keys.items() if kind in (IP, URL))


_RANGES: dict[str, list[range]] = {}
_TYPES: dict[int, EventTypeSpec] = {}
_NAMES: dict[str, int] = {}


def reserve_codes(domain: str, codes: range) -> None:
    """Reserve a range of type codes for domain (idempotent); raise ValueError if it overlaps another range."""
    if codes in _RANGES.get(domain, []):
        return
    if codes.start < 1 or codes.stop > 32768:
        raise ValueError("event type codes are small positive ints (1..32767)")
    for other, ranges in _RANGES.items():
        for taken in ranges:
            if codes.start < taken.stop and taken.start < codes.stop:
                raise ValueError(f"codes {codes.start}..{codes.stop - 1} overlap a range of {other}")
    _RANGES.setdefault(domain, []).append(codes)


def register_event_type(
    domain: str,
    code: int,
    name: str | None = None,
    /,
    *,
    retention: Retention = Retention.BEHAVIOUR,
    personal: bool = True,
    **keys: str,
) -> EventTypeSpec:
    """Declare event type code of domain: its name, data keys (and their kinds), retention, personal or not.

    name defaults to the label of an IntegerChoices member. Raise ValueError for a code outside
    the domain's reserved range, an unknown kind, or a code or name already registered differently.
    Registering the same declaration again is a no-op (ready() may run twice in tests).
    """
    if name is None:
        name = getattr(code, "label", None)
    if not name:
        raise ValueError(f"event type {int(code)} needs a name")
    if not any(int(code) in codes for codes in _RANGES.get(domain, [])):
        raise ValueError(f"event type {int(code)} is outside the codes reserved by {domain}")
    unknown = {kind for kind in keys.values() if kind not in KINDS}
    if unknown:
        raise ValueError(f"unknown value kinds {sorted(unknown)}")
    worst = 2 + sum(len(key) + 4 + _KIND_BYTES[kind] for key, kind in keys.items())
    if worst > MAX_EVENT_DATA_BYTES:
        raise ValueError(f"event type {int(code)}: its data could take {worst} bytes, over {MAX_EVENT_DATA_BYTES}")
    spec = EventTypeSpec(int(code), str(name), domain, dict(keys), Retention(retention), personal)
    existing = _TYPES.get(spec.code)
    if existing is not None and existing != spec:
        raise ValueError(f"event type {spec.code} already has another schema or declaration")
    if _NAMES.get(spec.name, spec.code) != spec.code:
        raise ValueError(f"event name {spec.name} is taken by another code")
    _TYPES[spec.code] = spec
    _NAMES[spec.name] = spec.code
    return spec


def event_type(code: int) -> EventTypeSpec:
    """Return the declaration of code; raise UnknownEventType when no domain registered it."""
    try:
        return _TYPES[int(code)]
    except (KeyError, TypeError, ValueError):
        raise UnknownEventType(f"unknown event type {code!r}") from None


def event_types() -> list[EventTypeSpec]:
    """Return every registered event type, by code."""
    return [_TYPES[code] for code in sorted(_TYPES)]


def code_for(name: str) -> int:
    """Return the code of the event type called name; raise UnknownEventType."""
    try:
        return _NAMES[name]
    except KeyError:
        raise UnknownEventType(f"unknown event type {name!r}") from None


def label(code: int) -> str:
    """Return the name of code, or the code itself as text for a type no longer registered."""
    spec = _TYPES.get(int(code))
    return spec.name if spec else str(int(code))


def strip_url(value: str) -> str:
    """Return value without its query string and fragment, where personal values ride (?email=, #token)."""
    return value.split("#", 1)[0].split("?", 1)[0]


@functools.lru_cache(maxsize=65536)
def _network(ip: str) -> str:
    """Return truncate_ip(ip), fast for a plain IPv4 address (tracking repeats them)."""
    match = _IPV4.match(ip)
    if match:
        return f"{match[1]}.{match[2]}.{match[3]}.0/24"
    address, slash, _prefix = ip.partition("/")
    if slash:  # already a network (tracking reduces the address before its spool): keep it at most /24 or /48
        return truncate_ip(address)
    return truncate_ip(ip)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_token(value: Any) -> bool:
    return isinstance(value, str) and bool(_TOKEN_RE.match(value))


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://")) and len(value) <= MAX_URL


def _is_label(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_LABEL and value.isprintable()


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


_CHECKS = {INT: _is_int, TOKEN: _is_token, URL: _is_url, LABEL: _is_label}  # any other kind (IP): text


def check_event_data(code: int, data: Mapping[str, Any] | None) -> dict:
    """Return data checked against code's schema, IPs truncated, URLs stripped; raise EventDataRejected otherwise.

    Raise UnknownEventType for a code no domain registered; EventDataRejected for a key the
    schema does not declare or a value of the wrong kind (None counts as absent). Messages
    name the type and keys only.
    """
    spec = event_type(code)
    keys = spec.keys
    data = {key: value for key, value in (data or {}).items() if value is not None}
    # Called once per event written (the tracking flusher: thousands a second): the checks' sets and sorted
    # lists are built only for the message of a refusal.
    if not keys.keys() >= data.keys():
        undeclared = sorted(set(data) - set(keys))
        raise EventDataRejected(f"event {spec.name}: keys not in its schema: {', '.join(map(str, undeclared))}")
    checks = spec.checks
    for key, value in data.items():
        if not checks[key](value):
            wrong = sorted(key for key, value in data.items() if not checks[key](value))
            raise EventDataRejected(f"event {spec.name}: values of the wrong kind for {', '.join(wrong)}")
    for key, kind in spec.rewritten_keys:
        if key in data:
            data[key] = _network(data[key]) if kind == IP else strip_url(data[key])
    return data
