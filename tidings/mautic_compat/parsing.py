"""Read what Mautic clients send: PHP-style bracket parameters, list parameters, and request bodies.

``parse_list_params(request.GET, columns={...})`` turns Mautic's list query
(``search``, ``start``, ``limit``, ``orderBy``, ``orderByDir``, ``published``/``publishedOnly``,
``minimal``, ``where[n][col|expr|val]``, ``order[n][col|dir]``, ``select[]``) into a validated
``ListParams``; each domain maps it onto its own selector. Anything malformed raises
``MauticError(400, ..., details={param: [messages]})``. where[] columns are checked against the
caller's allowlist, sort columns by ``sort_of`` against the resource's sortable columns, so no
client string ever reaches SQL as an identifier. A sort is honoured or refused, never ignored.

``request_data(request)`` reads a JSON or form-encoded body (POST, PUT and PATCH alike), as
Mautic's body listener does, with ``a[b][]=1`` nesting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from tidings.inputs import (
    INT64_MAX,
    INT64_MIN,
    InvalidInput,
    check_text,
    is_ascii_digits,
    loads_json,
    parse_bool,
    parse_int,
)
from tidings.mautic_compat.responses import MauticError

DEFAULT_LIMIT = 30  # Mautic's default_pagelimit
MAX_LIMIT = 200  # Mautic's api_batch_max_limit; a larger page is refused rather than silently cut
MAX_START = INT64_MAX - MAX_LIMIT  # an OFFSET the databases accept, with the page's rows after it
# Bodies the API reads (Mautic's FOSRest body listener decodes JSON; PHP reads forms); any
# other type would be read as no fields at all, so it is refused with 415 instead.
BODY_TYPES = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")

EXPRESSIONS = {
    "eq",
    "neq",
    "lt",
    "lte",
    "gt",
    "gte",
    "in",
    "notIn",
    "like",
    "notLike",
    "isNull",
    "isNotNull",
    "andX",
    "orX",
}
NO_VALUE = {"isNull", "isNotNull"}
LIST_VALUE = {"in", "notIn"}
GROUPS = {"andX", "orX"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass(frozen=True)
class Condition:
    """One where[] statement: col expr val, or a group (andX/orX) whose val is a tuple of Conditions."""

    expr: str
    col: str = ""
    val: Any = None


@dataclass(frozen=True)
class ListParams:
    search: str = ""
    start: int = 0
    limit: int = DEFAULT_LIMIT
    order_by: tuple[str, ...] = ()
    order_by_dir: str = "ASC"
    order: tuple[tuple[str, str], ...] = ()
    published_only: bool = False
    minimal: bool = False
    where: tuple[Condition, ...] = ()
    select: tuple[str, ...] = field(default_factory=tuple)


def php_params(data: QueryDict) -> dict:
    """Return data with PHP bracket keys nested: a[b][]=1&a[b][]=2 -> {"a": {"b": ["1", "2"]}}.

    Numeric keys stay strings in dicts (where[0][col]); [] appends to a list.
    Raise MauticError(400) when a key or value holds a NUL character.
    """
    for key in data:
        _check_text(key, data.getlist(key))
    result: dict = {}
    for raw_key in data:
        for value in data.getlist(raw_key):
            head, _, rest = raw_key.partition("[")
            parts = [head] + (re.findall(r"([^\[\]]*)\]", "[" + rest) if rest else [])
            node: Any = result
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                next_is_append = not last and parts[index + 1] == ""
                if part == "":
                    if not isinstance(node, list):
                        break
                    if last:
                        node.append(value)
                    else:
                        node.append({})
                        node = node[-1]
                    continue
                if not isinstance(node, dict):
                    break
                if last:
                    node[part] = value
                else:
                    default: Any = [] if next_is_append else {}
                    node = node.setdefault(part, default)
    return result


def _as_int(name: str, value, *, minimum: int, maximum: int = MAX_START) -> int:
    try:
        return parse_int(value if isinstance(value, int) else str(value), minimum=minimum, maximum=maximum)
    except InvalidInput as error:
        raise MauticError(400, f"{name}: {error}.", {name: [str(error)]}) from None


def strict_int(name: str, value, *, minimum: int = INT64_MIN, maximum: int = INT64_MAX) -> int:
    """Return value as a whole number (ASCII digits, 64-bit by default); raise MauticError(400) naming name.

    The one integer reader of the Mautic-compatible API (list parameters, where[] values, ids
    in bodies and batches): "²" and numbers beyond a column's range are refused, not a 500.
    """
    return _as_int(name, value, minimum=minimum, maximum=maximum)


def _column(name: str, value, columns: set[str] | None) -> str:
    column = str(value or "").strip()
    if not _IDENTIFIER.match(column) or (columns is not None and column.split(".")[-1] not in columns):
        raise MauticError(400, f"{name}: unknown column “{column}”.", {name: [f"unknown column “{column}”"]})
    return column.split(".")[-1]  # a table alias prefix ("l.email") names the same column


def _key_order(key) -> tuple:
    """Sort PHP array keys as PHP keeps them: numeric keys (ASCII digits only; "²" is a name) by number."""
    key = str(key)
    return (False, int(key), "") if is_ascii_digits(key) and len(key) < 20 else (True, 0, key)


def _ordered(mapping) -> list:
    if isinstance(mapping, list):
        return mapping
    if isinstance(mapping, dict):
        return [mapping[key] for key in sorted(mapping, key=_key_order)]
    return []


def _conditions(raw, columns: set[str] | None, path: str, depth: int = 0) -> tuple[Condition, ...]:
    if depth > 4:
        raise MauticError(400, f"{path}: nested too deeply.", {path: ["nested too deeply"]})
    result = []
    for index, statement in enumerate(_ordered(raw)):
        where = f"{path}[{index}]"
        if not isinstance(statement, dict):
            raise MauticError(400, f"{where}: expected col, expr and val.", {where: ["expected col, expr and val"]})
        if "internal" in statement:
            continue  # Mautic strips internal statements a client tries to pass
        expr = str(statement.get("expr", "")).strip()
        if expr not in EXPRESSIONS:
            raise MauticError(400, f"{where}[expr]: unknown expression “{expr}”.", {f"{where}[expr]": ["unknown"]})
        if expr in GROUPS:
            result.append(
                Condition(expr=expr, val=_conditions(statement.get("val"), columns, f"{where}[val]", depth + 1))
            )
            continue
        col = _column(f"{where}[col]", statement.get("col"), columns)
        value = statement.get("val")
        if expr in NO_VALUE:
            value = None
        elif expr in LIST_VALUE:
            value = (
                tuple(_ordered(value))
                if isinstance(value, list | dict)
                else tuple(part.strip() for part in str(value or "").split(",") if part.strip())
            )
        elif value is None or isinstance(value, list | dict):
            raise MauticError(400, f"{where}[val]: expected one value.", {f"{where}[val]": ["expected one value"]})
        result.append(Condition(expr=expr, col=col, val=value))
    return tuple(result)


def parse_list_params(
    query: QueryDict, *, columns: set[str] | None = None, default_limit: int = DEFAULT_LIMIT, max_limit: int = MAX_LIMIT
) -> ListParams:
    """Return Mautic's list parameters from query, validated.

    columns, when given, is the allowlist for orderBy, order[] and where[] columns.
    Raise MauticError(400) naming the parameter on a bad number, column, direction or expression.
    """
    params = php_params(query)
    order_by_dir = str(params.get("orderByDir", "ASC")).strip().upper() or "ASC"
    if order_by_dir not in {"ASC", "DESC"}:
        raise MauticError(400, "orderByDir: use ASC or DESC.", {"orderByDir": ["use ASC or DESC"]})
    # Sort and select columns are checked by the resource (sort_of, select), which names what it supports.
    order_by = tuple(
        _column("orderBy", part, None) for part in str(params.get("orderBy", "")).split(",") if part.strip()
    )
    order = []
    for index, item in enumerate(_ordered(params.get("order", []))):
        if not isinstance(item, dict):
            raise MauticError(400, f"order[{index}]: expected col and dir.", {f"order[{index}]": ["expected col, dir"]})
        direction = str(item.get("dir", "ASC")).strip().upper()
        if direction not in {"ASC", "DESC"}:
            raise MauticError(
                400, f"order[{index}][dir]: use ASC or DESC.", {f"order[{index}][dir]": ["use ASC or DESC"]}
            )
        order.append((_column(f"order[{index}][col]", item.get("col"), None), direction))
    select = _select(params)
    search = params.get("search", "")
    return ListParams(
        search=search.strip() if isinstance(search, str) else "",
        start=_as_int("start", params.get("start", 0), minimum=0),
        limit=_as_int("limit", params.get("limit", default_limit), minimum=1, maximum=max_limit),
        order_by=order_by,
        order_by_dir=order_by_dir,
        order=tuple(order),
        published_only=parse_bool(params.get("publishedOnly", "")) or parse_bool(params.get("published", "")),
        minimal=parse_bool(params.get("minimal", "")),
        where=_conditions(params.get("where", []), columns, "where"),
        select=select,
    )


def _select(params: dict) -> tuple[str, ...]:
    raw = params.get("select", [])
    items = raw.split(",") if isinstance(raw, str) else _ordered(raw)  # select=a,b as Mautic's repository splits it
    return tuple(_column("select", item, None) for item in items if str(item).strip())


def parse_select(query: QueryDict) -> tuple[str, ...]:
    """Return the columns of select[] in query (a single GET takes it too); raise MauticError(400) on a bad name."""
    return _select(php_params(query))


def sort_of(params: ListParams, sortable: dict[str, str], *, encrypted=frozenset()) -> tuple[str, bool] | None:
    """Return (sort key, descending) for the client's sort, or None when it asked for none.

    order[] wins over orderBy, as in Mautic. sortable maps each Mautic column the resource can
    sort by (efficiently) to its sort key. One column at a time: a further column is accepted
    only when it sorts the same way (id as a tie-breaker, which every sort has). Raise
    MauticError(400) naming the sortable columns for any other column, saying so when its
    values are encrypted (they cannot be sorted in SQL).
    """
    param = "order" if params.order else "orderBy"
    requested = list(params.order) if params.order else [(column, params.order_by_dir) for column in params.order_by]
    supported = ", ".join(sorted(sortable))
    keys: list[tuple[str, bool]] = []
    for column, direction in requested:
        if column not in sortable:
            why = "its values are encrypted" if column in encrypted else "it is not sortable"
            message = f"cannot sort by {column} ({why}); sortable columns: {supported}"
            raise MauticError(400, f"{param}: {message}.", {param: [message]})
        keys.append((sortable[column], direction == "DESC"))
    if not keys:
        return None
    first = keys[0]
    for key in keys[1:]:
        if key != first and not (key[0] in (sortable.get("id"), "id") and key[1] == first[1]):
            message = f"sort by one column at a time (ties are broken by id); sortable columns: {supported}"
            raise MauticError(400, f"{param}: {message}.", {param: [message]})
    return first


def _check_text(*values) -> None:
    try:
        check_text(list(values))
    except InvalidInput as error:
        raise MauticError(400, f"{error}.") from None


def is_json(request) -> bool:
    """Return whether the request says its body is JSON (application/json or a +json type)."""
    content_type = (request.content_type or "").lower()
    return content_type == "application/json" or content_type.endswith("+json")


def json_body(request):
    """Return the JSON document of the body, read strictly; raise MauticError(400) when it cannot be read."""
    try:
        return loads_json(request.body)
    except InvalidInput as error:
        raise MauticError(400, f"The request body cannot be read: {error}.") from None


def check_body_type(request) -> None:
    """Raise MauticError(415) for a body that is neither JSON nor a form (it would be read as no fields)."""
    if not request.body or is_json(request):
        return
    content_type = (request.content_type or "").lower()
    if content_type not in BODY_TYPES:
        raise MauticError(
            415,
            "Send the body as application/json or application/x-www-form-urlencoded.",
            {"Content-Type": [f"use one of {', '.join(BODY_TYPES)}"]},
        )


def request_data(request) -> dict:
    """Return the request body as a dict: JSON, or form-encoded with PHP bracket nesting.

    Raise MauticError(400) on malformed JSON (NaN, 1e400, nesting deeper than 32 and NUL
    characters included) or a JSON body that is not an object; MauticError(415) on a body of
    another type (text/plain JSON would otherwise be read as an empty form).
    """
    check_body_type(request)
    if is_json(request):
        if not request.body:
            return {}
        data = json_body(request)
        if not isinstance(data, dict):
            raise MauticError(400, "The request body must be a JSON object.")
        return data
    if request.method == "POST":
        return php_params(request.POST)
    return php_params(QueryDict(request.body, encoding=request.encoding))


def optional_text(data: dict, key: str) -> str | None:
    """Return data[key] as text (numbers are taken as Mautic clients send them), None when absent or null;
    raise MauticError(400) for anything else."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise MauticError(400, f"{key}: text.", {key: ["text"]})
    return str(value)
