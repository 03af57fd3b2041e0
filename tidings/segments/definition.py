"""A segment's filters as JSON: their shape, their limits and the checks that give clear errors.

    {"match": "all" | "any", "filters": [NODE, ...]}            the root group; no filter = nobody

    NODE: {"kind": "group", "match": ..., "filters": [...]}
          {"kind": "field", "object": "contact"|"company", "field": ALIAS, "operator": OP, "value": V}
          {"kind": "tag", "operator": "in"|"not_in"|"all", "value": [TAG_ID, ...]}
          {"kind": "segment", "operator": "in"|"not_in", "value": [SEGMENT_ID, ...]}
          {"kind": "dnc", "operator": "is"|"is_not", "channel": CHANNEL, "reason": ""|REASON}
          {"kind": "event", "event": NAME, "operator": "has"|"has_not", "min_count": 1, "max_count": null,
           "within_days": N|null, "since": ISO|null, "until": ISO|null, "data": {KEY[__LOOKUP]: VALUE}}

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
from dataclasses import dataclass
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
KINDS = ("group", "field", "tag", "segment", "dnc", "event")
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
DNC_OPERATORS = ("is", "is_not")
EVENT_OPERATORS = ("has", "has_not")
_EVENT_LOOKUPS = {"int": ("", "gt", "gte", "lt", "lte"), "token": ("",), "url": ("", "contains", "startswith")}


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
        }.get(kind if isinstance(kind, str) else "")
        if check is None:
            self.error(_join(path, "kind"), f"kind is one of {', '.join(KINDS)}")
            return None
        return check(node, path)

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
        name, operator = node.get("event"), node.get("operator", "has")
        keys = self.lookups.event_keys.get(name) if isinstance(name, str) else None
        if keys is None:
            self.error(_join(path, "event"), "unknown event type")
            return None
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
        checked: dict[str, Any] = {
            "kind": "event",
            "event": name,
            "operator": operator,
            "min_count": min_count,
            "max_count": max_count,
            "within_days": None if within is None else self.days(within, _join(path, "within_days")),
            "since": self.instant(node.get("since"), _join(path, "since")),
            "until": self.instant(node.get("until"), _join(path, "until")),
            "data": self.event_data(node.get("data") or {}, keys, _join(path, "data")),
        }
        return checked

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
            if kind is None or suffix not in _EVENT_LOOKUPS.get(kind, ()):
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
