"""from_mautic: Mautic's segment filter list to a Tidings definition (see the package docstring)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from tidings.mautic_compat.segment_filters.vocabulary import (
    CAMPAIGN_FIELD,
    DATE_TYPES,
    DEVICE_TYPES,
    DNC_FIELDS,
    EVENT_ANY,
    EVENT_COUNTS,
    EVENT_DATES,
    EVENT_IDS,
    FIELD_OPERATORS,
    MAX_COUNT,
    MAX_DAYS,
    MAX_DEPTH,
    MAX_FILTERS,
    MAX_TEXT,
    MAX_VALUES,
    NOT_RECORDED,
    OPERATORS,
    PASS_THROUGH,
    RENAMED,
    SPECIAL_TYPES,
    TRAFFIC_FIELDS,
    UNSUPPORTED,
    FilterLookup,
)

_DATE_OR_RELATIVE = (
    "a date (YYYY-MM-DD) or date and time; relative dates other than today, yesterday, anniversary"
    " and -N days are not supported in Tidings"
)


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
    if field in NOT_RECORDED:
        raise filter.invalid("field", f"{field} is not recorded by Tidings' tracking: not supported in Tidings")
    special = _SPECIAL.get(field)
    if special is not None:
        return glue, special(filter)
    alias = RENAMED.get(field, field)
    if alias in SPECIAL_TYPES:
        return glue, _field(filter, "contact", alias, SPECIAL_TYPES[alias])
    field_type = lookup.field_type("contact", field)
    if field_type is None or object == "behaviors":
        raise filter.invalid("field", "unknown contact field")
    return glue, _field(filter, "contact", field, field_type)


def _pass_through(filter: _Filter) -> dict:
    """Return the Tidings node a to_mautic pass-through filter carries (checked later by the segments app)."""
    node = filter.value
    if not isinstance(node, dict) or not isinstance(node.get("kind"), str):
        raise filter.value_error("a Tidings filter object")
    if not _clear_and_shallow(node, depth=1):
        # Sealed values are made by Tidings from a clear value, never taken from a client.
        raise filter.value_error("a Tidings filter object with clear values and groups nested a few deep")
    return node


def _clear_and_shallow(node: Any, depth: int) -> bool:
    """Whether node holds no sealed value and is not nested past what any definition needs.

    The segments app checks the depth of groups exactly; this bound (objects inside objects,
    event data included) only keeps a hostile body from recursing far.
    """
    if isinstance(node, list):
        return all(_clear_and_shallow(child, depth) for child in node)
    if not isinstance(node, dict):
        return True
    if "value_sealed" in node or depth > 2 * MAX_DEPTH + 2:
        return False
    return all(_clear_and_shallow(child, depth + 1) for child in node.values())


# Fields ------------------------------------------------------------------------------------------


def _field(filter: _Filter, object: str, alias: str, field_type: str) -> dict:
    node = {"kind": "field", "object": object, "field": alias}
    operator = filter.operator
    if operator in ("empty", "!empty"):
        return {**node, "operator": FIELD_OPERATORS[operator]}
    is_date = field_type in DATE_TYPES or filter.type in DATE_TYPES
    if is_date and isinstance(filter.value, str):
        relative = _relative_field(filter, filter.value)
        if relative is not None:
            return {**node, **relative}
    if operator == "=" and is_date and "datetime" in (field_type, filter.type) and _is_day(filter.value):
        # Mautic compares a day with a date and time as "that day": Tidings states it as a range.
        return {**node, "operator": "between", "value": list(_day_bounds(filter.value.strip()))}
    if operator in ("like", "!like", "contains", "startsWith", "endsWith"):
        return {**node, **_text_match(filter, negate=operator == "!like")}
    if operator == "=" and isinstance(filter.value, list):
        operator = "in"  # Mautic reads old segments' "=" with a list as "in"
    if operator in ("in", "!in"):
        values = _values(filter)
        return {
            **node,
            "operator": FIELD_OPERATORS[operator],
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
        return {**node, "operator": FIELD_OPERATORS[operator], "value": _text(filter, filter.value)}
    return {**node, "operator": FIELD_OPERATORS[operator], "value": _scalar(filter, filter.value, field_type)}


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
    if field_type in DATE_TYPES:
        return _absolute_date(filter, value)
    return _text(filter, value)


def _text(filter: _Filter, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise filter.value_error("a text")
    text = value if isinstance(value, str) else str(value)
    if not text or len(text) > MAX_TEXT:
        raise filter.value_error(f"a text of 1 to {MAX_TEXT} characters")
    return text


_NUMBER = re.compile(r"[+-]?\d{1,18}(?:\.\d{1,18})?", re.ASCII)


def _number(filter: _Filter, value: Any, *, whole: bool = False) -> int | float:
    if isinstance(value, str):
        text = value.strip()
        if not _NUMBER.fullmatch(text):  # plain ASCII decimals: no "1e400", "nan", "1_000" nor other scripts' digits
            raise filter.value_error("a number")
        value = int(text) if "." not in text else float(text)
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


def _campaigns(filter: _Filter) -> dict:
    """Mautic's campaign membership filter: in / not in any of the campaigns (the campaigns app's filter)."""
    operator = _in_operator(filter)
    resolve = getattr(filter.lookup, "campaign_id", None)
    if resolve is None:  # a caller that knows no campaigns
        raise filter.invalid("field", "this Mautic filter is not supported in Tidings")
    return {"kind": CAMPAIGN_FIELD, "operator": operator, "value": _ids(filter, resolve, "campaign")}


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
    name, key = EVENT_IDS[filter.field]
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


def _is_day(value: Any) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip(), re.ASCII):
        return False
    try:
        datetime.date.fromisoformat(value.strip())
    except ValueError:
        return False
    return True


def _day_bounds(day: str) -> tuple[str, str]:
    start = datetime.datetime.fromisoformat(day[:10])
    return start.isoformat(), (start + datetime.timedelta(days=1, seconds=-1)).isoformat()


def _event_date(filter: _Filter) -> dict:
    name = EVENT_DATES[filter.field]
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
    if operator in ("=", "!=") and _is_day(value):
        since, until = _day_bounds(value)
        return _event(name, "has" if operator == "=" else "has_not", since=since, until=until)
    raise filter.not_supported()


def _event_count(filter: _Filter) -> dict:
    name = EVENT_COUNTS[filter.field]
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
    name = EVENT_ANY[filter.field]
    presence = _presence(filter, name)
    if presence is not None:
        return presence
    if filter.operator not in ("=", "!="):
        raise filter.not_supported()
    flag = _flag(filter.value)
    if flag is None:
        raise filter.value_error("a yes/no value (1 or 0)")
    return _event(name, "has" if (filter.operator == "=") == flag else "has_not")


def _traffic(filter: _Filter) -> dict:
    """Return the traffic filter of a Mautic UTM or device filter: has (or has not) a page hit whose part compares.

    Existence tests like Mautic's: = / in / like "has a hit with", != / !in / !like "has none with";
    empty "has no hit with a value", !empty "has one". Device types are Mautic's names (smartphone is
    Tidings' mobile); one Tidings does not record is refused.
    """
    attribute = TRAFFIC_FIELDS[filter.field]
    node = {"kind": "traffic", "attribute": attribute, "operator": "has", "min_count": 1, "max_count": None,
            "within_days": None, "since": None, "until": None}  # fmt: skip
    operator = filter.operator
    if operator in ("empty", "!empty"):
        return {**node, "comparison": "not_empty", "operator": "has_not" if operator == "empty" else "has"}
    negate = operator in ("!=", "!in", "!like")
    node["operator"] = "has_not" if negate else "has"
    if operator in ("in", "!in"):
        values = [_traffic_value(filter, value) for value in _values(filter)]
        return {**node, "comparison": "in", "value": sorted(set(values))}
    if operator in ("=", "!="):
        return {**node, "comparison": "equals", "value": _traffic_value(filter, filter.value)}
    if attribute == "device" or operator not in ("like", "!like", "contains", "startsWith"):
        raise filter.not_supported()  # endsWith, regexp: not stated on a label's part
    match = _text_match(filter, negate=False)
    comparison = {"contains": "contains", "starts_with": "starts_with", "equals": "equals"}.get(match["operator"])
    if comparison is None:
        raise filter.value_error("only patterns of contains, starts with or equals are supported on this filter")
    if not match["value"].strip():
        raise filter.value_error("a text that is not blank")
    return {**node, "comparison": comparison, "value": match["value"]}


def _traffic_value(filter: _Filter, value: Any) -> str:
    text = _text(filter, value).strip()
    if not text:  # a blank label matches no hit; refused here, as the definition would refuse it on the way back
        raise filter.value_error("a text that is not blank")
    if filter.field != "device_type":
        return text
    device = DEVICE_TYPES.get(text.lower())
    if device is None:
        raise filter.value_error("Tidings records the device types desktop, smartphone (mobile) and tablet only")
    return device


_SPECIAL: dict[str, Callable[[_Filter], dict]] = {
    "tags": _tags,
    "leadlist": _segments,
    CAMPAIGN_FIELD: _campaigns,
    "hit_url": _hit_url,
    **dict.fromkeys(DNC_FIELDS, _dnc),
    **dict.fromkeys(EVENT_IDS, _event_ids),
    **dict.fromkeys(EVENT_DATES, _event_date),
    **dict.fromkeys(EVENT_COUNTS, _event_count),
    **dict.fromkeys(EVENT_ANY, _event_any),
    **dict.fromkeys(TRAFFIC_FIELDS, _traffic),
}
