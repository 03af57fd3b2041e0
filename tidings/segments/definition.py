"""A segment's filters as JSON: their shape, their limits and the checks that give clear errors.

    {"match": "all" | "any", "filters": [NODE, ...]}            the root group; no filter = nobody

    NODE: {"kind": "group", "match": ..., "filters": [...]}
          {"kind": "field", "object": "contact"|"company", "field": ALIAS, "operator": OP, "value": V}
          {"kind": "tag", "operator": "in"|"not_in"|"all", "value": [TAG_ID, ...]}
          {"kind": "segment", "operator": "in"|"not_in", "value": [SEGMENT_ID, ...]}
          {"kind": "dnc", "operator": "is"|"is_not", "channel": CHANNEL, "reason": ""|REASON}
          {"kind": "event", "event": NAME, "operator": "has"|"has_not", "min_count": 1, "max_count": null,
           "within_days": N|null, "since": ISO|null, "until": ISO|null, "data": {KEY[__LOOKUP]: VALUE}}
          {"kind": "traffic", "attribute": ATTRIBUTE, "comparison": COMPARISON, "value": TEXT|[TEXT, ...],
           "operator", "min_count", "max_count", "within_days", "since", "until": as for event}
          {"kind": "consent", "purpose": PURPOSE_KEY, "operator": "has"|"has_not"}
          {"kind": "campaign", "operator": "in"|"not_in", "value": [CAMPAIGN_ID, ...]}   (and any other kind
           another domain registers with contacts.conditions.register_membership)

ATTRIBUTE is utm_source, utm_medium, utm_campaign (the parts of a page hit's utm label) or device,
os, browser (of its ctx label); COMPARISON is equals, in (a list), contains, starts_with or
not_empty (no value).

Field operators are those of contacts' field capabilities (tidings.contacts.capabilities) plus
the relative dates below, which are turned into ranges when the filter runs. The system attribute
"date_added" is when the contact was created. Errors are keyed by the node's path
("filters.2.filters.0.value") and never repeat a value: filters may search encrypted fields.

What filters mean (tidings.segments.tests.oracle evaluates the same rules in plain Python and the
tests hold the SQL of both engines to it):

- Groups: "all" is AND, "any" is OR. A group with no filter matches nobody, wherever it sits (an
  empty group under "all" empties the segment).
- Negations are exactly NOT of their positive: not_equals, not_in, not_contains and not_regex
  match contacts without a value. "empty" is no value (or "" or an empty list), not_empty its opposite.
- equals and in compare the value as the field's type coerces it (country names become codes,
  an email's domain is lowercased); text equality is exact, case included. Encrypted identifiers
  compare normalised (email lowercased, phone digits only, custom identifiers casefolded without
  accents). Whole-number fields (points, owner, stage, employees) refuse fractions. between is
  inclusive at both ends.
- contains, starts_with and ends_with ignore case, accented letters included, and read their text
  literally (% and _ are characters). regex ignores case and accepts the subset PostgreSQL and
  Python read alike (capabilities.check_pattern). has_words: every whole word of the text is a
  word of the first or last name, accents and case ignored.
- Relative dates count whole UTC days when the filter runs (compiler.relative_range), for dates
  and date-times alike: today; yesterday; in_last_days N = today and the N days before it;
  more_than_days_ago N = before the day N days ago; in_next_days N = today and the N days after.
  A date or instant in the future is never "in the last N days".
- anniversary: the month and day of the value (the UTC day of an instant) are "MM-DD", or today's
  when the filter has no value; on February 28th of a year without a 29th, February 29th counts.
- Company fields: a contact matches when ANY linked company matches; negations and empty are NOT
  of that (no linked company matches), so they match contacts without a company.
- tag: in = any of the tags, all = every one of them, not_in = none of them. segment: a member
  (by filter or added by hand, not removed by hand) of any of the segments; not_in = of none.
- dnc: a Do-Not-Contact row on the channel (with that reason, when one is given); is_not = none.
- traffic: an event filter on the contact's page.hit events (counts and windows as below) whose
  UTM or device label has the attribute's part equal to the value (in: to one of them), containing
  it, starting with it, or not empty. Parts compare ignoring case, accented letters included; a
  "|" in a value is read as "/" (tracking stores it so). A hit without the label (no UTM tags)
  has every part empty.
- campaign (a registered membership): "in" when the contact is an active member of any of them (a
  campaign: enrolled and neither finished nor exited); not_in = of none. An id not of the workspace is
  refused by the check; one deleted since the segment was saved matches nobody.
- consent: "has" when the purpose allows processing the contact now, as consent.selectors'
  allowed_condition says (a consent purpose: a current "given" record, its identified visitors'
  included; another lawful basis: no objection; an inactive purpose: nobody); has_not is NOT of that.
- event: count the contact's events of the type (its identified visitors' included) at or after
  since and within_days of now (the later start wins), before until, whose data meet every
  condition (url equality on the address without its query string, url__contains and
  url__startswith ignoring case, numbers compared as numbers); "has" when the count is from
  min_count to max_count (no maximum when null); has_not is NOT of that.

This module checks shape and names; tidings.segments.compiler turns a checked definition into SQL
(and checks values by building it).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date, parse_datetime

from tidings.contacts.capabilities import FieldCapability, FieldObject, FieldType, Operator, Storage
from tidings.contacts.conditions import DNC_CHANNELS, DNC_REASONS

MAX_DEPTH = 5
MAX_CONDITIONS = 100
MAX_IDS = 500  # tags or segments named in one filter
MAX_DAYS = 36_600  # a hundred years
MATCHES = ("all", "any")
KINDS = ("group", "field", "tag", "segment", "dnc", "event", "traffic", "consent")
DATE_ADDED = "date_added"  # system attribute: Contact.created_at

# Relative dates: turned into ranges of the field when the filter runs (compiler.relative_range).
TODAY, YESTERDAY, IN_LAST_DAYS, MORE_THAN_DAYS_AGO, IN_NEXT_DAYS = (
    "today",
    "yesterday",
    "in_last_days",
    "more_than_days_ago",
    "in_next_days",
)
RELATIVE = (TODAY, YESTERDAY, IN_LAST_DAYS, MORE_THAN_DAYS_AGO, IN_NEXT_DAYS)
RELATIVE_WITH_DAYS = (IN_LAST_DAYS, MORE_THAN_DAYS_AGO, IN_NEXT_DAYS)
_DATE_TYPES = (FieldType.DATE, FieldType.DATETIME)
# Storage whose filter values are personal identifiers: sealed in the stored definition.
SEALED_STORAGE = (Storage.BLIND_INDEX, Storage.TOKENS)

TAG_OPERATORS = ("in", "not_in", "all")
SEGMENT_OPERATORS = ("in", "not_in")
MEMBERSHIP_OPERATORS = ("in", "not_in")
DNC_OPERATORS = ("is", "is_not")
EVENT_OPERATORS = ("has", "has_not")
EVENT_LOOKUPS = {"int": ("", "gt", "gte", "lt", "lte"), "token": ("",), "url": ("", "contains", "startswith")}
CONSENT_OPERATORS = ("has", "has_not")
# Traffic filters: tracking's page hits, their "source|medium|campaign" and "device|os|browser|country" labels.
TRAFFIC_EVENT = "page.hit"
TRAFFIC_ATTRIBUTES = {
    "utm_source": ("utm", 0),
    "utm_medium": ("utm", 1),
    "utm_campaign": ("utm", 2),
    "device": ("ctx", 0),
    "os": ("ctx", 1),
    "browser": ("ctx", 2),
}
TRAFFIC_COMPARISONS = ("equals", "in", "contains", "starts_with", "not_empty")
MAX_TRAFFIC_TEXT = 200  # tracking keeps at most 100 characters of a UTM tag, 32 of a device's names
MAX_TRAFFIC_VALUES = 50


def date_added_capability() -> FieldCapability:
    """The capability of the system attribute date_added: a datetime column every contact has."""
    return FieldCapability(
        alias=DATE_ADDED,
        label="Date added",
        type=FieldType.DATETIME,
        object=FieldObject.CONTACT,
        storage=Storage.COLUMN,
        operators=frozenset(
            {Operator.GT, Operator.GTE, Operator.LT, Operator.LTE, Operator.BETWEEN, Operator.ANNIVERSARY}
        ),
        sortable=True,
        indexed=False,
        column="created_at",
    )


def supported_operators(cap: FieldCapability) -> list[str]:
    """Return every operator a segment filter can use on cap's field, relative dates included."""
    operators = sorted(str(op) for op in cap.operators)
    if is_date(cap):
        operators += list(RELATIVE)
    return operators


def is_date(cap: FieldCapability) -> bool:
    """Whether cap's field takes relative dates: a date or datetime that supports ranges."""
    return cap.type in _DATE_TYPES and {Operator.GTE, Operator.LT} <= cap.operators


@dataclass(frozen=True)
class Lookups:
    """What checking a definition needs to know about the workspace (selectors fill it in)."""

    contact_fields: Mapping[str, FieldCapability]
    company_fields: Mapping[str, FieldCapability]
    tag_ids: frozenset[int]
    segment_ids: frozenset[int]
    event_keys: Mapping[str, Mapping[str, str]]  # event type name -> {data key: kind}
    purpose_keys: frozenset[str] = frozenset()  # the consent purposes of the workspace
    # Registered memberships (contacts.conditions.memberships()): kind -> the ids of the workspace's groups.
    membership_ids: Mapping[str, frozenset[int]] = field(default_factory=dict)


class _Checker:
    def __init__(self, lookups: Lookups):
        self.lookups = lookups
        self.errors: dict[str, list[str]] = {}
        self.conditions = 0

    def error(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def group(self, node: Any, path: str, depth: int) -> dict | None:
        if not isinstance(node, Mapping):
            self.error(path or "definition", "a group is an object with match and filters")
            return None
        match = node.get("match", "all")
        if match not in MATCHES:
            self.error(_join(path, "match"), "match is all or any")
        filters = node.get("filters", [])
        if not isinstance(filters, list):
            self.error(_join(path, "filters"), "filters is a list")
            return None
        if depth > MAX_DEPTH:
            self.error(path or "definition", f"groups nest at most {MAX_DEPTH} deep")
            return None
        checked = []
        for index, child in enumerate(filters):
            child_path = _join(path, f"filters.{index}")
            result = self.node(child, child_path, depth)
            if result is not None:
                checked.append(result)
        return {"match": match if match in MATCHES else "all", "filters": checked}

    def node(self, node: Any, path: str, depth: int) -> dict | None:
        if not isinstance(node, Mapping):
            self.error(path, "a filter is an object")
            return None
        kind = node.get("kind", "group" if "filters" in node else None)
        if kind == "group":
            group = self.group(node, path, depth + 1)
            return None if group is None else {"kind": "group", **group}
        self.conditions += 1
        if self.conditions == MAX_CONDITIONS + 1:
            self.error("definition", f"at most {MAX_CONDITIONS} filters in a segment")
        check = {
            "field": self.field,
            "tag": self.tag,
            "segment": self.segment,
            "dnc": self.dnc,
            "event": self.event,
            "traffic": self.traffic,
            "consent": self.consent,
        }.get(kind if isinstance(kind, str) else "")
        if check is None and isinstance(kind, str) and kind in self.lookups.membership_ids:
            return self.membership(kind, node, path)
        if check is None:
            self.error(_join(path, "kind"), f"kind is one of {', '.join([*KINDS, *self.lookups.membership_ids])}")
            return None
        return check(node, path)

    def membership(self, kind: str, node: Mapping, path: str) -> dict | None:
        """A registered membership (a campaign): in / not_in any of the workspace's groups of that kind."""
        operator = node.get("operator")
        if operator not in MEMBERSHIP_OPERATORS:
            self.error(_join(path, "operator"), f"operator is one of {', '.join(MEMBERSHIP_OPERATORS)}")
            return None
        return {"kind": kind, "operator": operator, "value": self.ids(node, path, self.lookups.membership_ids[kind],
                                                                      kind)}  # fmt: skip

    def field(self, node: Mapping, path: str) -> dict | None:
        object = node.get("object", FieldObject.CONTACT)
        if object not in (FieldObject.CONTACT, FieldObject.COMPANY):
            self.error(_join(path, "object"), "object is contact or company")
            return None
        alias = node.get("field")
        cap = field_capability(self.lookups, object, alias)
        if cap is None:
            self.error(_join(path, "field"), "unknown field")
            return None
        operator = node.get("operator")
        allowed = supported_operators(cap)
        if operator not in allowed:
            where = f"{cap.storage}; supported: {', '.join(allowed) or 'none'}"
            self.error(_join(path, "operator"), f"not supported on this field ({where})")
            return None
        checked = {"kind": "field", "object": object, "field": alias, "operator": operator}
        if "value_sealed" in node and cap.storage in SEALED_STORAGE:
            if not isinstance(node["value_sealed"], str):
                self.error(_join(path, "value"), "a sealed value is text")
                return None
            checked["value_sealed"] = node["value_sealed"]
        elif operator in RELATIVE_WITH_DAYS:
            checked["value"] = self.days(node.get("value"), _join(path, "value"))
        elif operator == Operator.ANNIVERSARY and node.get("value") is None:
            pass  # today's month and day, resolved when the filter runs
        elif operator not in RELATIVE and operator not in (Operator.EMPTY, Operator.NOT_EMPTY):
            if "value" not in node:
                self.error(_join(path, "value"), "this operator needs a value")
                return None
            checked["value"] = node["value"]
        return checked

    def days(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
            self.error(path, f"a number of days from 0 to {MAX_DAYS}")
            return 0
        return value

    def ids(self, node: Mapping, path: str, known: frozenset[int], what: str) -> list[int]:
        value = node.get("value")
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_IDS:
            self.error(_join(path, "value"), f"a list of 1 to {MAX_IDS} {what} ids")
            return []
        ids = []
        for item in value:
            number = _as_id(item)
            if number is None or number not in known:
                self.error(_join(path, "value"), f"unknown {what}")
                return []
            ids.append(number)
        return sorted(set(ids))

    def tag(self, node: Mapping, path: str) -> dict | None:
        operator = node.get("operator")
        if operator not in TAG_OPERATORS:
            self.error(_join(path, "operator"), f"operator is one of {', '.join(TAG_OPERATORS)}")
            return None
        return {"kind": "tag", "operator": operator, "value": self.ids(node, path, self.lookups.tag_ids, "tag")}

    def segment(self, node: Mapping, path: str) -> dict | None:
        operator = node.get("operator")
        if operator not in SEGMENT_OPERATORS:
            self.error(_join(path, "operator"), f"operator is one of {', '.join(SEGMENT_OPERATORS)}")
            return None
        ids = self.ids(node, path, self.lookups.segment_ids, "segment")
        return {"kind": "segment", "operator": operator, "value": ids}

    def dnc(self, node: Mapping, path: str) -> dict | None:
        operator, channel, reason = node.get("operator"), node.get("channel", "email"), node.get("reason", "")
        if operator not in DNC_OPERATORS:
            self.error(_join(path, "operator"), f"operator is one of {', '.join(DNC_OPERATORS)}")
        if channel not in DNC_CHANNELS:
            self.error(_join(path, "channel"), f"channel is one of {', '.join(DNC_CHANNELS)}")
        if reason not in ("", *DNC_REASONS):
            self.error(_join(path, "reason"), f"reason is empty or one of {', '.join(DNC_REASONS)}")
        return {"kind": "dnc", "operator": operator, "channel": channel, "reason": reason}

    def event(self, node: Mapping, path: str) -> dict | None:
        name = node.get("event")
        keys = self.lookups.event_keys.get(name) if isinstance(name, str) else None
        if keys is None:
            self.error(_join(path, "event"), "unknown event type")
            return None
        return {
            "kind": "event",
            "event": name,
            **self.counted(node, path),
            "data": self.event_data(node.get("data") or {}, keys, _join(path, "data")),
        }

    def counted(self, node: Mapping, path: str) -> dict[str, Any]:
        """Check what event and traffic filters share: has / has_not, the count and the time window."""
        operator = node.get("operator", "has")
        if operator not in EVENT_OPERATORS:
            self.error(_join(path, "operator"), f"operator is one of {', '.join(EVENT_OPERATORS)}")
        min_count = node.get("min_count", 1)
        max_count = node.get("max_count")
        if isinstance(min_count, bool) or not isinstance(min_count, int) or not 1 <= min_count <= 1_000_000:
            self.error(_join(path, "min_count"), "min_count is a whole number from 1")
            min_count = 1
        if max_count is not None and (
            isinstance(max_count, bool) or not isinstance(max_count, int) or not min_count <= max_count <= 1_000_000
        ):
            self.error(_join(path, "max_count"), "max_count is empty or a whole number at least min_count")
            max_count = None
        within = node.get("within_days")
        return {
            "operator": operator,
            "min_count": min_count,
            "max_count": max_count,
            "within_days": None if within is None else self.days(within, _join(path, "within_days")),
            "since": self.instant(node.get("since"), _join(path, "since")),
            "until": self.instant(node.get("until"), _join(path, "until")),
        }

    def traffic(self, node: Mapping, path: str) -> dict | None:
        attribute, comparison = node.get("attribute"), node.get("comparison", "equals")
        keys = self.lookups.event_keys.get(TRAFFIC_EVENT, {})
        if not isinstance(attribute, str) or attribute not in TRAFFIC_ATTRIBUTES:
            self.error(_join(path, "attribute"), f"attribute is one of {', '.join(TRAFFIC_ATTRIBUTES)}")
            return None
        if TRAFFIC_ATTRIBUTES[attribute][0] not in keys:
            self.error(_join(path, "attribute"), "page hits do not record this attribute here")
            return None
        if comparison not in TRAFFIC_COMPARISONS:
            self.error(_join(path, "comparison"), f"comparison is one of {', '.join(TRAFFIC_COMPARISONS)}")
            return None
        checked: dict[str, Any] = {"kind": "traffic", "attribute": attribute, "comparison": comparison}
        value, value_path = node.get("value"), _join(path, "value")
        if comparison == "in":
            if not isinstance(value, list) or not 1 <= len(value) <= MAX_TRAFFIC_VALUES:
                self.error(value_path, f"a list of 1 to {MAX_TRAFFIC_VALUES} texts")
            elif not all(_traffic_text(item) for item in value):
                self.error(value_path, f"texts of 1 to {MAX_TRAFFIC_TEXT} printable characters")
            else:
                checked["value"] = sorted({item.replace("|", "/") for item in value})
        elif comparison != "not_empty":
            if not _traffic_text(value):
                self.error(value_path, f"a text of 1 to {MAX_TRAFFIC_TEXT} printable characters")
            else:
                checked["value"] = str(value).replace("|", "/")
        return {**checked, **self.counted(node, path)}

    def consent(self, node: Mapping, path: str) -> dict | None:
        purpose, operator = node.get("purpose"), node.get("operator", "has")
        if not isinstance(purpose, str) or purpose not in self.lookups.purpose_keys:
            self.error(_join(path, "purpose"), "unknown purpose")
            return None
        if operator not in CONSENT_OPERATORS:
            self.error(_join(path, "operator"), f"operator is one of {', '.join(CONSENT_OPERATORS)}")
            return None
        return {"kind": "consent", "purpose": purpose, "operator": operator}

    def instant(self, value: Any, path: str) -> str | None:
        if value in (None, ""):
            return None
        parsed = (parse_datetime(value) or _date_start(parse_date(value))) if isinstance(value, str) else None
        if parsed is None:
            self.error(path, "a date (YYYY-MM-DD) or date and time in ISO 8601")
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        return parsed.isoformat()

    def event_data(self, data: Any, keys: Mapping[str, str], path: str) -> dict:
        if not isinstance(data, Mapping) or len(data) > 5:
            self.error(path, "data is an object of at most 5 conditions")
            return {}
        checked = {}
        for lookup, value in data.items():
            key, _, suffix = str(lookup).partition("__")
            kind = keys.get(key)
            if kind is None or suffix not in EVENT_LOOKUPS.get(kind, ()):
                self.error(_join(path, str(lookup)[:64]), "not a condition this event type supports")
                continue
            if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
                self.error(_join(path, key), "a whole number")
                continue
            if kind != "int" and (not isinstance(value, str) or not 0 < len(value) <= 2000):
                self.error(_join(path, key), "a text of 1 to 2000 characters")
                continue
            checked[lookup] = value
        return checked


def _traffic_text(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_TRAFFIC_TEXT and value.isprintable() and value.strip() != ""


def _as_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def _date_start(day: datetime.date | None) -> datetime.datetime | None:
    return None if day is None else datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


def field_capability(lookups: Lookups, object: Any, alias: Any) -> FieldCapability | None:
    """Return the capability of a field named in a filter (date_added included), None when unknown."""
    if not isinstance(alias, str):
        return None
    if object == FieldObject.CONTACT and alias == DATE_ADDED:
        return date_added_capability()
    fields = lookups.company_fields if object == FieldObject.COMPANY else lookups.contact_fields
    return fields.get(alias)


def check_shape(definition: Any, lookups: Lookups) -> dict:
    """Return definition normalised (kinds explicit, ids as numbers); raise ValidationError keyed by path."""
    if definition in (None, ""):
        definition = {"match": "all", "filters": []}
    checker = _Checker(lookups)
    checked = checker.group(definition, "", 1)
    if checker.errors or checked is None:
        raise ValidationError(checker.errors or {"definition": ["not a definition"]}, code="invalid")
    return checked


def referenced_segments(definition: Mapping) -> set[int]:
    """Return the ids of the segments a (checked) definition's filters name."""
    found: set[int] = set()
    for node in walk(definition):
        if node.get("kind") == "segment":
            found.update(node["value"])
    return found


def walk(group: Mapping):
    """Yield every condition (not group) of a checked definition, depth first."""
    for node in group.get("filters", []):
        if node.get("kind") == "group":
            yield from walk(node)
        else:
            yield node
