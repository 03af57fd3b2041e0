"""to_mautic: a Tidings definition to Mautic's segment filter list, for GET answers (see the package docstring)."""

from __future__ import annotations

import datetime
import itertools
import re
from typing import Any

from tidings.mautic_compat.segment_filters.vocabulary import (
    CAMPAIGN_FIELD,
    DATE_TYPES,
    DNC_FIELDS,
    EVENT_COUNTS,
    EVENT_DATES,
    EVENT_IDS,
    FIELD_OPERATORS,
    MAX_EXPANDED,
    PASS_THROUGH,
    SPECIAL_TYPES,
    TIDINGS_DEVICE_TYPES,
    TRAFFIC_FIELDS,
    FilterLookup,
)


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
    if kind == CAMPAIGN_FIELD:
        return _list_items(node, CAMPAIGN_FIELD, CAMPAIGN_FIELD)
    if kind == "dnc":
        field = next(
            (name for name, pair in DNC_FIELDS.items() if pair == (node.get("channel"), node.get("reason"))), None
        )
        if field is None or node.get("operator") not in ("is", "is_not"):
            return None
        return [_item(field, "=", "1" if node["operator"] == "is" else "0", type="boolean")]
    if kind == "event":
        return _event_items(node)
    if kind == "traffic":
        return _traffic_items(node)
    return None


_LIKE_COMPARISONS = ("contains", "starts_with")  # said only for has: Mautic's !like is "has none with"
_TRAFFIC_OPERATORS: dict[tuple[Any, bool], str | None] = {  # (comparison, has) -> Mautic operator
    ("equals", True): "=",
    ("equals", False): "!=",
    ("in", True): "in",
    ("in", False): "!in",
    ("not_empty", True): "!empty",
    ("not_empty", False): "empty",
}


def _traffic_items(node: dict) -> list[dict] | None:
    """Return the Mautic UTM or device filter of a traffic node without count or window, None otherwise."""
    field = next((name for name, attribute in TRAFFIC_FIELDS.items() if attribute == node.get("attribute")), None)
    has = node.get("operator", "has") == "has"
    comparison = node.get("comparison")
    operator = _TRAFFIC_OPERATORS.get((comparison, has), "like" if has and comparison in _LIKE_COMPARISONS else None)
    windowed = any(node.get(key, default) != default for key, default in _DEFAULT_EVENT.items() if key != "data")
    if field is None or operator is None or windowed or node.get("operator", "has") not in ("has", "has_not"):
        return None
    value: Any = node.get("value")
    if field == "device_type" and comparison != "not_empty":
        values = value if isinstance(value, list) else [value]
        if comparison not in ("equals", "in") or any(v not in TIDINGS_DEVICE_TYPES for v in values):
            return None  # only the exact names Mautic reads back as the same device type
        value = [TIDINGS_DEVICE_TYPES[v] for v in values] if isinstance(value, list) else TIDINGS_DEVICE_TYPES[value]
    texts = [] if comparison == "not_empty" else value if isinstance(value, list) else [value]
    if any(not isinstance(text, str) or text != text.strip() for text in texts):
        return None  # from_mautic trims: said as is, the value would not come back the same
    if comparison in _LIKE_COMPARISONS:
        return _text_items(comparison, value, field)  # LIKE patterns when the value holds % or _
    return [_item(field, operator, value, type="select" if field == "device_type" else "text")]


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


_REVERSE_FIELD_OPERATORS = {tidings: mautic for mautic, tidings in FIELD_OPERATORS.items()}
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
    type = SPECIAL_TYPES.get(alias) if object == "contact" else None
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
    return type if type in DATE_TYPES else "datetime"


_DEFAULT_EVENT: dict[str, Any] = {
    "min_count": 1,
    "max_count": None,
    "within_days": None,
    "since": None,
    "until": None,
    "data": {},
}
_ID_FIELDS = {(name, key): field for field, (name, key) in EVENT_IDS.items()}
_DATE_FIELDS = {name: field for field, name in EVENT_DATES.items()}
_COUNT_FIELDS = {name: field for field, name in EVENT_COUNTS.items()}
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
