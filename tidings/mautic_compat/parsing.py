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

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from tidings.mautic_compat.responses import MauticError

DEFAULT_LIMIT = 30  # Mautic's default_pagelimit
MAX_LIMIT = 200  # Mautic's api_batch_max_limit; a larger page is refused rather than silently cut

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
_TRUE = {"1", "true", "yes", "on"}


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
    """
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


def _truthy(value) -> bool:
    return str(value).strip().lower() in _TRUE


def _as_int(name: str, value, *, minimum: int, maximum: int | None = None) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise MauticError(400, f"{name}: must be a whole number.", {name: ["must be a whole number"]}) from None
    if number < minimum or (maximum is not None and number > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise MauticError(400, f"{name}: must be {bound}.", {name: [f"must be {bound}"]})
    return number


def _column(name: str, value, columns: set[str] | None) -> str:
    column = str(value or "").strip()
    if not _IDENTIFIER.match(column) or (columns is not None and column.split(".")[-1] not in columns):
        raise MauticError(400, f"{name}: unknown column “{column}”.", {name: [f"unknown column “{column}”"]})
    return column.split(".")[-1]  # a table alias prefix ("l.email") names the same column


def _ordered(mapping) -> list:
    if isinstance(mapping, list):
        return mapping
    if isinstance(mapping, dict):
        return [mapping[key] for key in sorted(mapping, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else k))]
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
        published_only=_truthy(params.get("publishedOnly", "")) or _truthy(params.get("published", "")),
        minimal=_truthy(params.get("minimal", "")),
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


def request_data(request) -> dict:
    """Return the request body as a dict: JSON, or form-encoded with PHP bracket nesting.

    Raise MauticError(400) on malformed JSON or a JSON body that is not an object.
    """
    content_type = (request.content_type or "").lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        if not request.body:
            return {}
        try:
            data = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            raise MauticError(400, "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise MauticError(400, "The request body must be a JSON object.")
        return data
    if request.method == "POST":
        return php_params(request.POST)
    return php_params(QueryDict(request.body, encoding=request.encoding))
