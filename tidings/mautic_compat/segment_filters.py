"""Translate Mautic's segment filter list into a Tidings segment definition, and back.

Pure translation: no database, no import of the segments app. What needs the workspace (is this a
field, which tag a Mautic tag id names) is asked of the ``lookup`` the caller passes in; the
result is then checked by the segments app (definition_check) like any native definition.

Facts read from Mautic 5 (not copied; see docs/decisions/0016-mautic-segment-filters.md):

- A filter is ``{glue, field, object, type, operator, properties: {filter, display}, filter, display}``;
  the value is ``properties.filter``, falling back to the older top-level ``filter``.
- Glue: the filters form a disjunctive normal form. The first filter's glue is ignored, every
  later ``or`` starts a new AND-group, so ``a and b or c and d`` is ``(a AND b) OR (c AND d)``.
- Behaviour filters on other tables (page hits, email stats, downloads, tags) are existence tests:
  the positive operators mean "has a row matching", the negative ones (``!=``, ``!in``, ``!like``)
  "has no row matching", and ``empty``/``!empty`` "has no row / has a row" whatever the value.
- Date values may be relative: "today", "yesterday", "anniversary" (or "birthday"), "-7 days",
  "7 days ago", or calendar periods ("last week", "this month") that Tidings cannot express.

Errors are ``ValidationError({"filters.3.field": [...]})``; no message repeats a value the
client sent (filters may search personal data).
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.exceptions import ValidationError

MAX_FILTERS = 100  # the segments app's limit on conditions; a longer Mautic list cannot fit
MAX_VALUES = 500  # values in one in/!in filter (the segments app's MAX_IDS)
MAX_TEXT = 2000
MAX_DAYS = 36_600
MAX_COUNT = 1_000_000
# to_mautic expands OR-inside-AND into Mautic's one-level OR of ANDs; past this many Mautic
# filters the group is handed back as one pass-through filter instead (see PASS_THROUGH).
MAX_EXPANDED = 100

# A filter Mautic cannot express is answered as one item of this field, its Tidings node in
# properties.filter; from_mautic takes it back as is, so a client that reads a segment and
# sends the filters back unchanged keeps them.
PASS_THROUGH = "tidings_filter"

OPERATORS = frozenset(
    {
        "=", "!=", "gt", "gte", "lt", "lte", "empty", "!empty", "like", "!like", "between", "!between",
        "in", "!in", "regexp", "!regexp", "startsWith", "endsWith", "contains", "date",
    }
)  # fmt: skip
_FIELD_OPERATORS = {
    "=": "equals",
    "!=": "not_equals",
    "gt": "gt",
    "gte": "gte",
    "lt": "lt",
    "lte": "lte",
    "empty": "empty",
    "!empty": "not_empty",
    "in": "in",
    "!in": "not_in",
    "regexp": "regex",
    "!regexp": "not_regex",
    "between": "between",
}
_DATE_TYPES = ("date", "datetime")
_DATE_OR_RELATIVE = (
    "a date (YYYY-MM-DD) or date and time; relative dates other than today, yesterday, anniversary"
    " and -N days are not supported in Tidings"
)
_NO_VALUE = ("empty", "not_empty", "today", "yesterday", "anniversary")

# Mautic's DNC filters: field -> (channel, reason). Any field with "_manual", "_bounced" or
# neither (unsubscribed) and "_sms" or not, as Mautic reads them.
DNC_FIELDS = {
    "dnc_bounced": ("email", "bounced"),
    "dnc_unsubscribed": ("email", "unsubscribed"),
    "dnc_manual_email": ("email", "manual"),
    "dnc_bounced_sms": ("sms", "bounced"),
    "dnc_unsubscribed_sms": ("sms", "unsubscribed"),
    "dnc_manual_sms": ("sms", "manual"),
}
# Mautic filters with no Tidings counterpart (no data for them, or a meaning the definition
# cannot state); refused with "not supported" rather than approximated.
UNSUPPORTED = frozenset(
    {
        "campaign", "globalcategory", "device_type", "device_brand", "device_os", "device_model",
        "utm_campaign", "utm_content", "utm_medium", "utm_source", "utm_term", "source", "source_id",
        "referer", "url_title", "sessions", "page_id", "redirect_id", "notification", "sms_clicked_link",
        "sms_clicked_link_date", "integration_campaigns", "date_identified", "date_modified",
    }
)  # fmt: skip
# Core columns Tidings names otherwise.
_RENAMED = {"owner_id": "owner"}
_SPECIAL_TYPES = {
    "owner": "lookup_id",
    "stage": "stage",
    "points": "number",
    "date_added": "date",
    "last_active": "datetime",
}
# Event filters: Mautic field -> (Tidings event, what the filter tests).
_EVENT_IDS = {  # "in" lists of ids: has an event naming one of them
    "lead_email_received": ("email.opened", "email_id"),
    "lead_email_sent": ("email.sent", "email_id"),
    "lead_asset_download": ("asset.download", "asset_id"),
}
_EVENT_DATES = {
    "hit_url_date": "page.hit",
    "lead_email_read_date": "email.opened",
    "lead_email_sent_date": "email.sent",
    "email_clicked_link_date": "email.clicked",
}
_EVENT_COUNTS = {"hit_url_count": "page.hit", "lead_email_read_count": "email.opened"}
_EVENT_ANY = {"email_id": "email.clicked"}  # Mautic's boolean "clicked any link from any email"


class FilterLookup(Protocol):
    """What translating needs to know about the workspace; the caller answers from its selectors."""

    def field_type(self, object: str, alias: str) -> str | None:
        """Return the type ("text", "number", "date"...) of the field alias of object ("contact" or
        "company"), or None when the workspace has no such field."""

    def tag_id(self, value: str) -> int | None:
        """Return the Tidings id of the tag Mautic names value (a tag id sent as text), None when unknown.

        The Mautic-compatible tag API shows Tidings' tag ids, so to_mautic writes them back as text.
        """

    def segment_id(self, value: str) -> int | None:
        """Return the id of the segment a leadlist filter names, None when unknown."""


class _Invalid(Exception):
    def __init__(self, key: str, message: str):
        super().__init__(key, message)
        self.key = key
        self.message = message


@dataclass(frozen=True)
class _Filter:
    """One Mautic filter, read but not yet translated."""

    key: str  # "filters.3"
    field: str
    object: str
    type: str | None
    operator: str
    value: Any
    lookup: FilterLookup

    def invalid(self, part: str, message: str) -> _Invalid:
        return _Invalid(f"{self.key}.{part}" if part else self.key, message)

    def value_error(self, message: str) -> _Invalid:
        return self.invalid("properties.filter", message)

    def not_supported(self) -> _Invalid:
        return self.invalid("operator", "this operator is not supported on this filter in Tidings")


# ----------------------------------------------------------------------------------------- from Mautic


def from_mautic(filters: Any, *, lookup: FilterLookup) -> dict:
    """Return the Tidings definition (root group) of Mautic's segment filter list.

    Raise ValidationError keyed by position ("filters.3.field", "filters.3.operator",
    "filters.3.properties.filter") for a filter that is malformed, names an unknown field, tag or
    segment, or that Tidings cannot express ("not supported"); messages never repeat a value.
    """
    if filters in (None, ""):
        filters = []
    if not isinstance(filters, list):
        raise ValidationError({"filters": ["filters is a list of filters"]}, code="invalid")
    if len(filters) > MAX_FILTERS:
        raise ValidationError({"filters": [f"at most {MAX_FILTERS} filters in a segment"]}, code="invalid")
    errors: dict[str, list[str]] = {}
    groups: list[list[dict]] = [[]]
    for index, item in enumerate(filters):
        try:
            glue, node = _translate(item, f"filters.{index}", lookup)
        except _Invalid as invalid:
            errors.setdefault(invalid.key, []).append(invalid.message)
            continue
        if index > 0 and glue == "or" and groups[-1]:
            groups.append([])
        groups[-1].append(node)
    if errors:
        raise ValidationError(errors, code="invalid")
    groups = [group for group in groups if group]
    if len(groups) <= 1:
        return {"match": "all", "filters": groups[0] if groups else []}
    return {"match": "any", "filters": [_all(group) for group in groups]}


def _all(nodes: list[dict]) -> dict:
    return nodes[0] if len(nodes) == 1 else {"kind": "group", "match": "all", "filters": nodes}


def _text_or_none(item: dict, key: str, prefix: str, message: str) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 191:
        raise _Invalid(f"{prefix}.{key}", message)
    return value


def _translate(item: Any, prefix: str, lookup: FilterLookup) -> tuple[str, dict]:
    """Return (glue, Tidings node) of one Mautic filter; raise _Invalid."""
    if not isinstance(item, dict):
        raise _Invalid(prefix, "a filter is an object")
    glue = (_text_or_none(item, "glue", prefix, "glue is and or or") or "and").strip().lower()
    if glue not in ("and", "or"):
        raise _Invalid(f"{prefix}.glue", "glue is and or or")
    field = _text_or_none(item, "field", prefix, "unknown field")
    if not field:
        raise _Invalid(f"{prefix}.field", "a filter names a field")
    object = _text_or_none(item, "object", prefix, "object is lead, company or behaviors") or "lead"
    if object not in ("lead", "company", "behaviors", "tidings"):
        raise _Invalid(f"{prefix}.object", "object is lead, company or behaviors")
    operator = item.get("operator")
    if not isinstance(operator, str) or operator not in OPERATORS:
        raise _Invalid(f"{prefix}.operator", "unknown operator")
    properties = item.get("properties")
    value = properties.get("filter") if isinstance(properties, dict) else None
    if value is None:
        value = item.get("filter")
    type = item.get("type") if isinstance(item.get("type"), str) else None
    filter = _Filter(prefix, field, object, type, operator, value, lookup)
    if field == PASS_THROUGH or object == "tidings":
        if field != PASS_THROUGH or object != "tidings":
            raise filter.invalid("object", "object is lead, company or behaviors")
        return glue, _pass_through(filter)
    if object == "company":
        field_type = lookup.field_type("company", field)
        if field_type is None:
            raise filter.invalid("field", "unknown company field")
        return glue, _field(filter, "company", field, field_type)
    if field in UNSUPPORTED:
        raise filter.invalid("field", "this Mautic filter is not supported in Tidings")
    special = _SPECIAL.get(field)
    if special is not None:
        return glue, special(filter)
    alias = _RENAMED.get(field, field)
    if alias in _SPECIAL_TYPES:
        return glue, _field(filter, "contact", alias, _SPECIAL_TYPES[alias])
    field_type = lookup.field_type("contact", field)
    if field_type is None or object == "behaviors":
        raise filter.invalid("field", "unknown contact field")
    return glue, _field(filter, "contact", field, field_type)


def _pass_through(filter: _Filter) -> dict:
    """Return the Tidings node a to_mautic pass-through filter carries (checked later by the segments app)."""
    node = filter.value
    if not isinstance(node, dict) or not isinstance(node.get("kind"), str):
        raise filter.value_error("a Tidings filter object")
    return node


# Fields ------------------------------------------------------------------------------------------


def _field(filter: _Filter, object: str, alias: str, field_type: str) -> dict:
    node = {"kind": "field", "object": object, "field": alias}
    operator = filter.operator
    if operator in ("empty", "!empty"):
        return {**node, "operator": _FIELD_OPERATORS[operator]}
    is_date = field_type in _DATE_TYPES or filter.type in _DATE_TYPES
    if is_date and isinstance(filter.value, str):
        relative = _relative_field(filter, filter.value)
        if relative is not None:
            return {**node, **relative}
    if operator in ("like", "!like", "contains", "startsWith", "endsWith"):
        return {**node, **_text_match(filter, negate=operator == "!like")}
    if operator == "=" and isinstance(filter.value, list):
        operator = "in"  # Mautic reads old segments' "=" with a list as "in"
    if operator in ("in", "!in"):
        values = _values(filter)
        return {
            **node,
            "operator": _FIELD_OPERATORS[operator],
            "value": [_scalar(filter, v, field_type) for v in values],
        }
    if operator in ("between", "!between"):
        low, high = _pair(filter, field_type)
        if operator == "between":
            return {**node, "operator": "between", "value": [low, high]}
        # NOT BETWEEN in SQL leaves out contacts with no value, as Mautic's query does.
        return {
            "kind": "group",
            "match": "any",
            "filters": [{**node, "operator": "lt", "value": low}, {**node, "operator": "gt", "value": high}],
        }
    if operator == "date":
        raise filter.not_supported()
    if operator in ("regexp", "!regexp"):
        return {**node, "operator": _FIELD_OPERATORS[operator], "value": _text(filter, filter.value)}
    return {**node, "operator": _FIELD_OPERATORS[operator], "value": _scalar(filter, filter.value, field_type)}


def _scalar(filter: _Filter, value: Any, field_type: str) -> Any:
    """Return value as the field's type takes it: numbers for number fields, yes/no for booleans."""
    if isinstance(value, bool):
        if field_type == "boolean":
            return value
        raise filter.value_error("a text or number")
    if field_type == "boolean":
        flag = _flag(value)
        if flag is None:
            raise filter.value_error("a yes/no value (1 or 0)")
        return flag
    if field_type in ("number", "lookup_id", "stage"):
        return _number(filter, value, whole=field_type != "number")
    if field_type in _DATE_TYPES:
        return _absolute_date(filter, value)
    return _text(filter, value)


def _text(filter: _Filter, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise filter.value_error("a text")
    text = value if isinstance(value, str) else str(value)
    if not text or len(text) > MAX_TEXT:
        raise filter.value_error(f"a text of 1 to {MAX_TEXT} characters")
    return text


def _number(filter: _Filter, value: Any, *, whole: bool = False) -> int | float:
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if re.fullmatch(r"[+-]?\d{1,18}", text) else float(text)
        except ValueError:
            raise filter.value_error("a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or abs(value) > 1e18:
        raise filter.value_error("a number")
    if whole:
        if isinstance(value, float) and not value.is_integer():
            raise filter.value_error("a whole number")
        return int(value)
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in (1, 0):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("1", "0", "true", "false", "yes", "no", ""):
        return value.strip().lower() in ("1", "true", "yes")
    return None


def _values(filter: _Filter) -> list:
    values = filter.value if isinstance(filter.value, list) else [filter.value]
    if not 1 <= len(values) <= MAX_VALUES:
        raise filter.value_error(f"a list of 1 to {MAX_VALUES} values")
    return values


def _pair(filter: _Filter, field_type: str) -> tuple[Any, Any]:
    value = filter.value
    if isinstance(value, dict):  # PHP arrays arrive as {"0": low, "1": high} from form bodies
        value = [value.get("0"), value.get("1")]
    if not isinstance(value, list) or len(value) != 2:
        raise filter.value_error("a list of two values, low and high")
    return _scalar(filter, value[0], field_type), _scalar(filter, value[1], field_type)


def _absolute_date(filter: _Filter, value: Any) -> str:
    if not isinstance(value, str) or len(value) > 40:
        raise filter.value_error("a date (YYYY-MM-DD) or date and time")
    try:
        datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        raise filter.value_error(_DATE_OR_RELATIVE) from None
    return value.strip()


# Mautic "like" patterns -------------------------------------------------------------------------


def _like_pattern(filter: _Filter) -> str:
    """Return the SQL LIKE pattern Mautic builds for a like/contains/startsWith/endsWith filter."""
    text = _text(filter, filter.value)
    if filter.operator in ("like", "!like"):
        return text if "%" in text else f"%{text}%"
    return {"contains": "%{}%", "startsWith": "{}%", "endsWith": "%{}"}[filter.operator].format(text)


def _like_parts(pattern: str) -> list[str | None]:
    """Split a LIKE pattern into literal text and wildcards (None for %, "" never; "_" kept as a marker)."""
    parts: list[str | None] = []
    literal = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            literal.append(next(chars, "\\"))
        elif char in "%_":
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(None if char == "%" else "\x00_")
        else:
            literal.append(char)
    if literal:
        parts.append("".join(literal))
    return parts


def _text_match(filter: _Filter, *, negate: bool) -> dict:
    """Return {"operator", "value"} of a Mautic LIKE filter on a field: contains, starts/ends with, equals or regex."""
    parts = _like_parts(_like_pattern(filter))
    literals = [part for part in parts if part is not None and part != "\x00_"]
    shape = tuple("%" if part is None else ("_" if part == "\x00_" else "t") for part in parts)
    simple = {("%", "t", "%"): "contains", ("t", "%"): "starts_with", ("%", "t"): "ends_with", ("t",): "equals"}
    operator = simple.get(shape)
    if operator is not None and not negate:
        return {"operator": operator, "value": literals[0]}
    if operator in ("contains", "equals") and negate:
        return {"operator": "not_" + operator, "value": literals[0]}
    if not literals:  # "%" alone: anything non-empty (Mautic's LIKE '%' matches any value)
        return {"operator": "empty" if negate else "not_empty"}
    regex = "".join(".*" if part is None else "." if part == "\x00_" else re.escape(part) for part in parts)
    return {"operator": "not_regex" if negate else "regex", "value": f"^{regex}$"}


# Relative dates ----------------------------------------------------------------------------------

_INTERVAL = re.compile(r"^(?:([+-])\s*(\d{1,5})\s*(day|days|week|weeks)|(\d{1,5})\s*(day|days|week|weeks)\s+ago)$")
_CALENDAR = (
    "tomorrow", "last week", "next week", "this week", "last month", "next month", "this month",
    "last year", "next year", "this year",
)  # fmt: skip


def _days_ago(value: str) -> int | None:
    """Return N for "-N days", "N days ago" (weeks too), a negative number for "+N days", None otherwise."""
    match = _INTERVAL.match(value.strip().lower())
    if match is None:
        return None
    sign, number, unit = (match[1], match[2], match[3]) if match[2] else ("-", match[4], match[5])
    days = int(number) * (7 if unit.startswith("week") else 1)
    return days if sign == "-" else -days


def _relative_field(filter: _Filter, value: str) -> dict | None:
    """Return the Tidings relative operator of a relative Mautic date, None for an absolute date.

    Raise _Invalid for relative values Tidings cannot state (calendar weeks, months and years,
    "not today", exact days N days ago).
    """
    word = value.strip().lower()
    try:
        datetime.datetime.fromisoformat(word)
    except ValueError:
        pass
    else:
        return None
    operator = filter.operator
    if "anniversary" in word or "birthday" in word:
        return {"operator": "anniversary"}  # Mautic compares month and day whatever the operator
    if word in ("today", "yesterday"):
        if operator != "=":
            raise filter.not_supported()
        return {"operator": word}
    if word in _CALENDAR:
        raise filter.value_error("calendar weeks, months and years are not supported in Tidings")
    days = _days_ago(word)
    if days is None:
        raise filter.value_error(_DATE_OR_RELATIVE)
    if days < 0 or days > MAX_DAYS:
        raise filter.value_error("relative dates in the future are not supported in Tidings (only -N days)")
    if operator in ("gt", "gte"):
        return {"operator": "in_last_days", "value": days}
    if operator in ("lt", "lte"):
        return {"operator": "more_than_days_ago", "value": days}
    raise filter.not_supported()


# Special filters ---------------------------------------------------------------------------------


def _ids(filter: _Filter, resolve: Callable[[str], int | None], what: str) -> list[int]:
    found = []
    for value in _values(filter):
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise filter.value_error(f"a list of {what} ids")
        number = resolve(str(value).strip())
        if number is None:
            raise filter.value_error(f"unknown {what}")
        found.append(number)
    return sorted(set(found))


def _in_operator(filter: _Filter) -> str:
    operator = filter.operator
    if operator == "=":
        return "in"
    if operator == "!=":
        return "not_in"
    if operator not in ("in", "!in"):
        raise filter.not_supported()
    return "in" if operator == "in" else "not_in"


def _tags(filter: _Filter) -> dict:
    operator = _in_operator(filter)
    return {"kind": "tag", "operator": operator, "value": _ids(filter, filter.lookup.tag_id, "tag")}


def _segments(filter: _Filter) -> dict:
    operator = _in_operator(filter)
    return {"kind": "segment", "operator": operator, "value": _ids(filter, filter.lookup.segment_id, "segment")}


def _dnc(filter: _Filter) -> dict:
    channel, reason = DNC_FIELDS[filter.field]
    if filter.operator not in ("=", "!="):
        raise filter.not_supported()
    flag = _flag(filter.value)
    if flag is None:
        raise filter.value_error("a yes/no value (1 or 0)")
    present = (filter.operator == "=") == flag
    return {"kind": "dnc", "operator": "is" if present else "is_not", "channel": channel, "reason": reason}


def _event(name: str, operator: str = "has", **changes: Any) -> dict:
    node = {
        "kind": "event",
        "event": name,
        "operator": operator,
        "min_count": 1,
        "max_count": None,
        "within_days": None,
        "since": None,
        "until": None,
        "data": {},
    }
    node.update(changes)
    return node


def _presence(filter: _Filter, name: str) -> dict | None:
    """Return has/has_not for empty/!empty on a behaviour filter (Mautic ignores the value there)."""
    if filter.operator == "empty":
        return _event(name, "has_not")
    if filter.operator == "!empty":
        return _event(name)
    return None


def _hit_url(filter: _Filter) -> dict:
    presence = _presence(filter, "page.hit")
    if presence is not None:
        return presence
    if filter.operator in ("=", "!="):
        url = _text(filter, filter.value)
        return _event("page.hit", "has" if filter.operator == "=" else "has_not", data={"url": url})
    if filter.operator not in ("like", "!like", "contains", "startsWith"):
        raise filter.not_supported()  # endsWith, regexp: page hit data has no such condition
    match = _text_match(filter, negate=False)
    key = {"contains": "url__contains", "starts_with": "url__startswith", "equals": "url"}.get(match["operator"])
    if key is None:
        raise filter.value_error("only patterns of contains, starts with or equals are supported on visited URLs")
    return _event("page.hit", "has_not" if filter.operator == "!like" else "has", data={key: match["value"]})


def _event_ids(filter: _Filter) -> dict:
    name, key = _EVENT_IDS[filter.field]
    presence = _presence(filter, name)
    if presence is not None:
        return presence
    operator = _in_operator(filter)
    ids = []
    for value in _values(filter):
        number = _number(filter, value, whole=True) if not isinstance(value, bool) else None
        if number is None or not 0 < number < 2**63:
            raise filter.value_error("a list of ids")
        ids.append(number)
    ids = sorted(set(ids))
    if operator == "in":
        events = [_event(name, data={key: number}) for number in ids]
        return events[0] if len(events) == 1 else {"kind": "group", "match": "any", "filters": events}
    events = [_event(name, "has_not", data={key: number}) for number in ids]
    return events[0] if len(events) == 1 else {"kind": "group", "match": "all", "filters": events}


def _day_bounds(day: str) -> tuple[str, str]:
    start = datetime.datetime.fromisoformat(day[:10])
    return start.isoformat(), (start + datetime.timedelta(days=1, seconds=-1)).isoformat()


def _event_date(filter: _Filter) -> dict:
    name = _EVENT_DATES[filter.field]
    presence = _presence(filter, name)
    if presence is not None:
        return presence
    operator = filter.operator
    if isinstance(filter.value, str):
        word = filter.value.strip().lower()
        days = _days_ago(word)
        if days is not None:
            if 0 <= days <= MAX_DAYS and operator in ("gt", "gte"):
                return _event(name, within_days=days)
            raise filter.value_error(
                "on event dates, relative dates other than gt or gte -N days are not supported in Tidings"
            )
        if word in ("today", "yesterday", "anniversary", "birthday", *_CALENDAR):
            raise filter.value_error("this relative date is not supported on event dates in Tidings")
    value = _absolute_date(filter, filter.value)
    if operator in ("gt", "gte"):
        return _event(name, since=value)
    if operator in ("lt", "lte"):
        return _event(name, until=value)
    if operator in ("=", "!=") and len(value) == 10:
        since, until = _day_bounds(value)
        return _event(name, "has" if operator == "=" else "has_not", since=since, until=until)
    raise filter.not_supported()


def _event_count(filter: _Filter) -> dict:
    name = _EVENT_COUNTS[filter.field]
    if filter.operator not in ("=", "gt", "gte", "lt", "lte"):
        raise filter.not_supported()
    number = _number(filter, filter.value, whole=True)
    low, high = {
        "=": (number, number),
        "gt": (number + 1, None),
        "gte": (number, None),
        "lt": (None, number - 1),
        "lte": (None, number),
    }[filter.operator]
    if high is not None and (high < 0 or (low is not None and low > high)):
        raise filter.value_error("a count no contact can have")
    if high is not None and high > MAX_COUNT or low is not None and low > MAX_COUNT:
        raise filter.value_error(f"a count up to {MAX_COUNT}")
    if low is None or low <= 0:
        if high is None:
            raise filter.value_error("a count every contact has")
        return _event(name, "has_not", min_count=high + 1)  # fewer than high + 1, none included
    return _event(name, min_count=low, max_count=high)


def _event_any(filter: _Filter) -> dict:
    name = _EVENT_ANY[filter.field]
    presence = _presence(filter, name)
    if presence is not None:
        return presence
    if filter.operator not in ("=", "!="):
        raise filter.not_supported()
    flag = _flag(filter.value)
    if flag is None:
        raise filter.value_error("a yes/no value (1 or 0)")
    return _event(name, "has" if (filter.operator == "=") == flag else "has_not")


_SPECIAL: dict[str, Callable[[_Filter], dict]] = {
    "tags": _tags,
    "leadlist": _segments,
    "hit_url": _hit_url,
    **dict.fromkeys(DNC_FIELDS, _dnc),
    **dict.fromkeys(_EVENT_IDS, _event_ids),
    **dict.fromkeys(_EVENT_DATES, _event_date),
    **dict.fromkeys(_EVENT_COUNTS, _event_count),
    **dict.fromkeys(_EVENT_ANY, _event_any),
}


# ------------------------------------------------------------------------------------------- to Mautic


def to_mautic(definition: Any, *, lookup: FilterLookup | None = None) -> list[dict]:
    """Return Mautic's filter list for a (checked) Tidings definition, for GET answers.

    Mautic reads its list as an OR of AND-groups, so nested groups are expanded into that form;
    a group whose expansion would pass MAX_EXPANDED filters, and any filter Mautic has no words
    for (form submissions, DNC for any reason, has_words...), is answered as one PASS_THROUGH
    item carrying the Tidings node, which from_mautic takes back unchanged. lookup, when given,
    names the type of custom fields; without it the type is guessed from the value. Never raises
    on a definition the segments app accepted.
    """
    if not isinstance(definition, dict) or not definition.get("filters"):
        return []
    items: list[dict] = []
    for index, conjunction in enumerate(_dnf(_as_group(definition), lookup)):
        for position, item in enumerate(conjunction):
            glue = "or" if index and not position else "and"
            items.append({**item, "glue": glue})
    return items


def _as_group(definition: dict) -> dict:
    return {"kind": "group", "match": definition.get("match", "all"), "filters": list(definition.get("filters", []))}


def _dnf(node: Any, lookup: FilterLookup | None) -> list[list[dict]]:
    """Return node as an OR of AND-lists of Mautic items (a single pass-through item when too large)."""
    if not isinstance(node, dict):
        return [[_pass_through_item(node)]]
    if node.get("kind", "group" if "filters" in node else None) != "group":
        items = _leaf_items(node, lookup)
        return [items if items is not None else [_pass_through_item(node)]]
    folded = _fold_ids(node) or _fold_not_between(node)
    if folded is not None:
        return [[folded]]
    children = node.get("filters")
    if not isinstance(children, list) or not children:
        return [[_pass_through_item(node)]]
    if node.get("match") == "any":
        result = [conjunction for child in children for conjunction in _dnf(child, lookup)]
        if sum(map(len, result)) <= MAX_EXPANDED:
            return result
        return [[_pass_through_item(node)]]
    expanded: list[list[dict]] = [[]]
    for child in children:
        options = _dnf(child, lookup)
        if len(expanded) * len(options) > MAX_EXPANDED:
            return [[_pass_through_item(node)]]
        expanded = [left + right for left, right in itertools.product(expanded, options)]
        if sum(map(len, expanded)) > MAX_EXPANDED:
            return [[_pass_through_item(node)]]
    return expanded


def _item(field: str, operator: str, value: Any = None, *, type: str = "text", object: str = "lead") -> dict:
    return {
        "glue": "and",
        "field": field,
        "object": object,
        "type": type,
        "operator": operator,
        "properties": {"filter": value},
        "filter": value,
        "display": None,
    }


def _pass_through_item(node: Any) -> dict:
    return _item(PASS_THROUGH, "=", node, type="tidings", object="tidings")


def _leaf_items(node: dict, lookup: FilterLookup | None) -> list[dict] | None:
    """Return the Mautic items (ANDed) stating node, or None when Mautic cannot."""
    kind = node.get("kind")
    if kind == "field":
        return _field_items(node, lookup)
    if kind == "tag":
        return _list_items(node, "tags", "tags")
    if kind == "segment":
        return _list_items(node, "leadlist", "leadlist")
    if kind == "dnc":
        field = next(
            (name for name, pair in DNC_FIELDS.items() if pair == (node.get("channel"), node.get("reason"))), None
        )
        if field is None or node.get("operator") not in ("is", "is_not"):
            return None
        return [_item(field, "=", "1" if node["operator"] == "is" else "0", type="boolean")]
    if kind == "event":
        return _event_items(node)
    return None


def _list_items(node: dict, field: str, type: str) -> list[dict] | None:
    values = node.get("value")
    if not isinstance(values, list) or not values:
        return None
    ids = [str(value) for value in values]
    operator = node.get("operator")
    if operator == "all":
        return [_item(field, "in", [one], type=type) for one in ids]
    if operator not in ("in", "not_in"):
        return None
    return [_item(field, "in" if operator == "in" else "!in", ids, type=type)]


_REVERSE_FIELD_OPERATORS = {tidings: mautic for mautic, tidings in _FIELD_OPERATORS.items()}
_LIKE_SPECIAL = re.compile(r"[%_\\]")


def _like_escape(text: str) -> str:
    return _LIKE_SPECIAL.sub(lambda match: "\\" + match[0], text)


def _text_items(operator: str, value: str, field: str, **options: Any) -> list[dict] | None:
    """Return the Mautic item of a contains/starts_with/ends_with/not_contains condition."""
    plain = not _LIKE_SPECIAL.search(value)
    if operator == "contains":
        return [
            _item(field, "contains", value, **options)
            if plain
            else _item(field, "like", f"%{_like_escape(value)}%", **options)
        ]
    if operator == "starts_with":
        return [
            _item(field, "startsWith", value, **options)
            if plain
            else _item(field, "like", f"{_like_escape(value)}%", **options)
        ]
    if operator == "ends_with":
        return [
            _item(field, "endsWith", value, **options)
            if plain
            else _item(field, "like", f"%{_like_escape(value)}", **options)
        ]
    if operator == "not_contains":
        return [_item(field, "!like", f"%{_like_escape(value)}%", **options)]
    return None


def _guess_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "text"


def _field_items(node: dict, lookup: FilterLookup | None) -> list[dict] | None:
    object, alias, operator = node.get("object", "contact"), node.get("field"), node.get("operator")
    if object not in ("contact", "company") or not isinstance(alias, str) or "value_sealed" in node:
        return None
    value = node.get("value")
    field = {"owner": "owner_id"}.get(alias, alias) if object == "contact" else alias
    type = _SPECIAL_TYPES.get(alias) if object == "contact" else None
    if type is None and lookup is not None:
        type = lookup.field_type(object, alias)
    if type is None:
        type = _guess_type(value[0] if isinstance(value, list) and value else value)
    options = {"type": type, "object": "lead" if object == "contact" else "company"}
    if operator in ("today", "yesterday", "anniversary"):
        return [_item(field, "=", operator, **{**options, "type": _date_type(type)})]
    if operator in ("in_last_days", "more_than_days_ago") and isinstance(value, int):
        mautic = "gte" if operator == "in_last_days" else "lt"
        return [_item(field, mautic, f"-{value} days", **{**options, "type": _date_type(type)})]
    if operator in ("contains", "starts_with", "ends_with", "not_contains"):
        return _text_items(operator, value, field, **options) if isinstance(value, str) else None
    mautic_operator = _REVERSE_FIELD_OPERATORS.get(operator) if isinstance(operator, str) else None
    if mautic_operator is None:
        return None  # has_words, in_next_days: Mautic has no such operator
    if operator in ("empty", "not_empty"):
        return [_item(field, mautic_operator, None, **options)]
    if operator in ("in", "not_in") and not isinstance(value, list):
        return None
    return [_item(field, mautic_operator, value, **options)]


def _date_type(type: str) -> str:
    return type if type in _DATE_TYPES else "datetime"


_DEFAULT_EVENT: dict[str, Any] = {
    "min_count": 1,
    "max_count": None,
    "within_days": None,
    "since": None,
    "until": None,
    "data": {},
}
_ID_FIELDS = {(name, key): field for field, (name, key) in _EVENT_IDS.items()}
_DATE_FIELDS = {name: field for field, name in _EVENT_DATES.items()}
_COUNT_FIELDS = {name: field for field, name in _EVENT_COUNTS.items()}
_PRESENCE_FIELDS = {
    "page.hit": "hit_url",
    "email.opened": "lead_email_received",
    "email.sent": "lead_email_sent",
    "asset.download": "lead_asset_download",
}


def _differs(node: dict) -> set[str]:
    """Return the event settings of node that are not their defaults."""
    changed = {key for key, default in _DEFAULT_EVENT.items() if node.get(key, default) != default}
    if not node.get("data"):
        changed.discard("data")  # an absent, null or empty data is no condition
    return changed


def _event_items(node: dict) -> list[dict] | None:
    name, operator = node.get("event"), node.get("operator", "has")
    if operator not in ("has", "has_not") or not isinstance(name, str):
        return None
    has = operator == "has"
    changed = _differs(node)
    data = node.get("data") or {}
    if not changed:
        if name == "email.clicked":
            return [_item("email_id", "=", "1" if has else "0", type="boolean")]
        field = _PRESENCE_FIELDS.get(name)
        return None if field is None else [_item(field, "!empty" if has else "empty")]
    if changed == {"data"} and isinstance(data, dict) and len(data) == 1:
        return _event_data_items(name, has, *next(iter(data.items())))
    if changed <= {"min_count", "max_count"} and name in _COUNT_FIELDS:
        return _count_items(_COUNT_FIELDS[name], has, node.get("min_count") or 1, node.get("max_count"))
    if changed <= {"within_days", "since", "until"} and name in _DATE_FIELDS:
        return _date_items(_DATE_FIELDS[name], has, node)
    return None


def _event_data_items(name: str, has: bool, key: str, value: Any) -> list[dict] | None:
    if name == "page.hit" and isinstance(value, str):
        if key == "url":
            return [_item("hit_url", "=" if has else "!=", value)]
        if key in ("url__contains", "url__startswith"):
            if has:
                return _text_items(key.removeprefix("url__").replace("startswith", "starts_with"), value, "hit_url")
            pattern = f"%{_like_escape(value)}%" if key == "url__contains" else f"{_like_escape(value)}%"
            return [_item("hit_url", "!like", pattern)]
        return None
    field = _ID_FIELDS.get((name, key))
    if field is None or isinstance(value, bool) or not isinstance(value, int):
        return None
    return [_item(field, "in" if has else "!in", [str(value)], type=_MAUTIC_ID_TYPES[field])]


_MAUTIC_ID_TYPES = {
    "lead_email_received": "lead_email_received",
    "lead_email_sent": "lead_email_received",
    "lead_asset_download": "assets",
}


def _count_items(field: str, has: bool, low: int, high: int | None) -> list[dict] | None:
    if not has:
        return [_item(field, "lt", low, type="number")] if high is None else None
    if high is None:
        return [_item(field, "gte", low, type="number")]
    if high == low:
        return [_item(field, "=", low, type="number")]
    return [_item(field, "gte", low, type="number"), _item(field, "lte", high, type="number")]


def _date_items(field: str, has: bool, node: dict) -> list[dict] | None:
    within, since, until = node.get("within_days"), node.get("since"), node.get("until")
    if within is not None:
        if since is None and until is None and has:
            return [_item(field, "gte", f"-{within} days", type="datetime")]
        return None
    if since is not None and until is not None:
        day = _whole_day(since, until)
        return None if day is None else [_item(field, "=" if has else "!=", day, type="datetime")]
    if not has:
        return None
    return (
        [_item(field, "gte", since, type="datetime")]
        if since is not None
        else [_item(field, "lte", until, type="datetime")]
    )


def _whole_day(since: Any, until: Any) -> str | None:
    """Return the day (YYYY-MM-DD) since..until spans exactly, None when they are not one whole day."""
    try:
        start, end = datetime.datetime.fromisoformat(since), datetime.datetime.fromisoformat(until)
    except (TypeError, ValueError):
        return None
    if start.time() != datetime.time() or end - start != datetime.timedelta(days=1, seconds=-1):
        return None
    return start.date().isoformat()


def _fold_ids(group: dict) -> dict | None:
    """Return one lead_email_received/lead_email_sent/lead_asset_download item for a group of id events.

    from_mautic turns "in [a, b]" into any(has a, has b) and "!in [a, b]" into all(has_not a, has_not b);
    folding them back keeps the Mautic list as the client sent it.
    """
    children = group.get("filters")
    if not isinstance(children, list) or len(children) < 2:
        return None
    operator = "has" if group.get("match") == "any" else "has_not"
    fields, ids = set(), []
    for child in children:
        if not isinstance(child, dict) or child.get("kind") != "event" or child.get("operator", "has") != operator:
            return None
        data = child.get("data") or {}
        if _differs(child) != {"data"} or not isinstance(data, dict) or len(data) != 1:
            return None
        key, value = next(iter(data.items()))
        field = _ID_FIELDS.get((str(child.get("event")), key))
        if field is None or isinstance(value, bool) or not isinstance(value, int):
            return None
        fields.add(field)
        ids.append(str(value))
    if len(fields) != 1:
        return None
    field = fields.pop()
    return _item(field, "in" if operator == "has" else "!in", ids, type=_MAUTIC_ID_TYPES[field])


def _fold_not_between(group: dict) -> dict | None:
    """Return Mautic's "!between" item for any(field lt low, field gt high), as from_mautic writes it."""
    children = group.get("filters")
    if group.get("match") != "any" or not isinstance(children, list) or len(children) != 2:
        return None
    low, high = children
    if not all(isinstance(child, dict) and child.get("kind") == "field" for child in children):
        return None
    if (low.get("operator"), high.get("operator")) != ("lt", "gt") or "value_sealed" in low or "value_sealed" in high:
        return None
    if (low.get("object"), low.get("field")) != (high.get("object"), high.get("field")):
        return None
    items = _field_items({**low, "operator": "between", "value": [low.get("value"), high.get("value")]}, None)
    return {**items[0], "operator": "!between"} if items else None
