"""Page through lists the one way every surface does: signed keyset cursors, or offsets where a client needs them.

A list selector returns a ``Page``: its ``items``, the ``next_cursor`` (None on the last page)
and, when asked, the ``total``. Two ways to cut a page:

- **Keyset** (``keyset_page``, the default everywhere): the page after a cursor is
  ``WHERE (sort_key, id) > (last_key, last_id) ORDER BY sort_key, id LIMIT n``, an index range
  scan that costs the same on page 1 and page 50,000. There is no page number and no total.
  The sort key must be NOT NULL and, for speed, indexed together with the id (tenant indexes
  lead with workspace_id); ``id`` breaks ties, so the sort key need not be unique. A list whose
  order needs more (a nullable key, a search that reads windows) builds its own WHERE and uses
  ``encode_cursor``/``decode_cursor`` for the cursor itself.
- **Offset** (``offset_page``): for clients whose protocol has ``start``/``limit`` (Mautic's
  API). It reads and skips ``start`` rows, so use it only where the client leaves no choice.

Cursors are opaque to clients: the last row's position, signed with the SECRET_KEY
(``django.core.signing``) and salted with the list (model and ordering, ``cursor_salt``), so a
cursor cannot be forged, edited or replayed on another list or another order. A bad cursor
raises ``InvalidCursor``, a ValidationError ``{"after": ["not a valid cursor"]}`` (``after`` is
the selectors' name for the cursor): the UI shows it, the contacts API answers 422, and the
native API's generic lists (``tidings.api.pagination``) turn it into 400 ``invalid_cursor``.

This module imports nothing from Tidings, so every layer may use it.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
CURSOR_PARAMETER = "after"  # the key an InvalidCursor names, as the selectors call their cursor argument
_INT64 = 2**63


@dataclass(frozen=True)
class Page:
    """A page of results, the cursor of the next one (None on the last page) and, when counted, the total."""

    items: list
    next_cursor: str | None = None
    total: int | None = None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


class InvalidCursor(ValidationError):
    """A cursor this list did not issue: forged, edited, truncated, or made for another list or order."""

    def __init__(self) -> None:
        super().__init__({CURSOR_PARAMETER: ["not a valid cursor"]})


def clamp_limit(limit: Any, *, maximum: int = MAX_LIMIT, default: int = DEFAULT_LIMIT) -> int:
    """Return limit as a page size between 1 and maximum (default when limit is None or 0)."""
    return max(1, min(int(limit or default), maximum))


def cursor_salt(queryset_or_model: Any, ordering: str) -> str:
    """Return the salt that binds a cursor to one list: the model and the ordering it walks."""
    model = getattr(queryset_or_model, "model", queryset_or_model)
    # The prefix is the one cursors were first issued under (tidings.api), so those stay valid.
    return f"tidings.api.cursor:{model._meta.label_lower}:{ordering}"


def _plain(value: Any) -> Any:
    """Return value as JSON holds it; datetimes keep their microseconds (a keyset needs the exact value)."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def encode_cursor(position: list, *, salt: str) -> str:
    """Return the signed cursor that carries position (the last row's sort values and id)."""
    return signing.dumps([_plain(value) for value in position], salt=salt, compress=True)


def decode_cursor(cursor: Any, *, salt: str, length: int) -> list:
    """Return the position a cursor carries, a list of length values (null, text or 64-bit whole numbers).

    Raise InvalidCursor when the cursor was not signed for salt (forged, edited, or made for
    another list or order) or does not hold such a list.
    """
    try:
        position = signing.loads(cursor, salt=salt)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError) as error:  # forged, or not even a string
        raise InvalidCursor() from error
    if not isinstance(position, list) or len(position) != length:
        raise InvalidCursor()
    for value in position:
        plain = value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
        if not plain or (isinstance(value, int) and not -_INT64 <= value < _INT64):
            raise InvalidCursor()
    return position


def _split(ordering: str) -> tuple[str, bool]:
    descending = ordering.startswith("-")
    field = ordering.lstrip("-")
    return ("pk" if field == "id" else field), descending


def order_keys(ordering: str) -> list[str]:
    """Return the ORDER BY of ordering ("name", "-created_at", "id"...) with the id breaking ties."""
    field, descending = _split(ordering)
    sign = "-" if descending else ""
    return [f"{sign}pk"] if field == "pk" else [f"{sign}{field}", f"{sign}pk"]


def _value_of(item: Any, path: str) -> Any:
    if isinstance(item, dict):
        return item[path]
    value = item
    for part in path.split("__"):
        value = getattr(value, part)
    return value


def keyset_page(
    queryset: QuerySet,
    *,
    ordering: str = "id",
    after: str | None = None,
    limit: Any = DEFAULT_LIMIT,
    max_limit: int = MAX_LIMIT,
) -> Page:
    """Return the page of queryset in ordering that follows the cursor after (the first page without one).

    ordering is one field, "-" for descending ("name", "-created_at", "id", "user__email").
    Fetch limit + 1 rows to learn whether another page exists, without counting.
    Raise InvalidCursor on a cursor this list did not issue.
    """
    limit = clamp_limit(limit, maximum=max_limit)
    field, descending = _split(ordering)
    salt = cursor_salt(queryset, ordering)
    page = queryset.order_by(*order_keys(ordering))
    if after:
        direction = "lt" if descending else "gt"
        if field == "pk":
            (last_id,) = decode_cursor(after, salt=salt, length=1)
            page = page.filter(**{f"pk__{direction}": last_id})
        else:
            key, last_id = decode_cursor(after, salt=salt, length=2)
            page = page.filter(Q(**{f"{field}__{direction}": key}) | Q(**{field: key, f"pk__{direction}": last_id}))
    rows = list(page[: limit + 1])
    if len(rows) <= limit:
        return Page(items=rows)
    last = rows[limit - 1]
    position = [_value_of(last, "pk")] if field == "pk" else [_value_of(last, field), _value_of(last, "pk")]
    return Page(items=rows[:limit], next_cursor=encode_cursor(position, salt=salt))


def offset_page(
    queryset: QuerySet,
    *,
    start: Any = 0,
    limit: Any = DEFAULT_LIMIT,
    max_limit: int = MAX_LIMIT,
    ordering: str | None = None,
    count: bool = False,
) -> Page:
    """Return rows start..start+limit of queryset, and their total when count (one more query).

    queryset comes ordered, or ordering orders it as keyset_page does (the id breaking ties).
    Offsets read and skip start rows: use keyset_page unless the client's protocol has offsets.
    """
    limit = clamp_limit(limit, maximum=max_limit)
    start = max(0, int(start or 0))
    if ordering is not None:
        queryset = queryset.order_by(*order_keys(ordering))
    total = queryset.count() if count else None
    return Page(items=list(queryset[start : start + limit]), total=total)


def page_of(
    queryset: QuerySet,
    *,
    ordering: str = "id",
    after: str | None = None,
    start: Any = None,
    limit: Any = DEFAULT_LIMIT,
    max_limit: int = MAX_LIMIT,
    count: bool = False,
) -> Page:
    """Return one page of queryset in ordering: by offset when start is given (Mautic), else by keyset cursor.

    count adds the total (offset pages only: a keyset page has no total). Raise InvalidCursor on a bad cursor.
    """
    if start is not None:
        return offset_page(queryset, start=start, limit=limit, max_limit=max_limit, ordering=ordering, count=count)
    return keyset_page(queryset, ordering=ordering, after=after, limit=limit, max_limit=max_limit)
