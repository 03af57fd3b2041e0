"""Cursor (keyset) pagination for list endpoints: ``?limit=&cursor=`` in, ``{"items": [...], "next_cursor": ...}`` out.

Why keyset: the page after a cursor is ``WHERE (sort_key, id) > (last_key, last_id) ORDER BY
sort_key, id LIMIT n``, an index range scan that costs the same on page 1 and page 50,000.
OFFSET would read and throw away every earlier row. So there is no page number and no total.

The cursor is opaque to clients: the last row's sort key and id, signed with the
SECRET_KEY (``django.core.signing``) and salted with the model and ordering, so a cursor
cannot be forged, edited or replayed on another list; a bad one answers 400 ``invalid_cursor``.

Reuse it in any ninja endpoint that returns a queryset::

    from ninja.pagination import paginate
    from tidings.api.pagination import CursorPagination

    @router.get("/segments", response=list[SegmentOut])
    @paginate(CursorPagination, ordering="-created_at")   # or "name", "id", "-seq", "user__email"
    @require_permission("segments:view")                   # tidings.accounts.decorators
    def segments(request):
        return Segment.objects.all()                       # already workspace-scoped

Rules: the sort key must be NOT NULL and, for speed, indexed together with the id (tenant
indexes lead with workspace_id: ``Index(fields=["workspace_id", "created_at", "id"])``);
``id`` breaks ties, so the sort key need not be unique. Outside ninja, call ``paginate_keyset``.
"""

from __future__ import annotations

import json
from typing import Any

from django.core import signing
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q, QuerySet
from ninja import Field, Schema
from ninja.pagination import PaginationBase

from tidings.api.errors import BadRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def _split(ordering: str) -> tuple[str, bool]:
    descending = ordering.startswith("-")
    field = ordering.lstrip("-")
    return ("pk" if field == "id" else field), descending


def _value_of(item: Any, path: str) -> Any:
    if isinstance(item, dict):
        return item[path]
    value = item
    for part in path.split("__"):
        value = getattr(value, part)
    return value


def _salt(queryset: QuerySet, ordering: str) -> str:
    return f"tidings.api.cursor:{queryset.model._meta.label_lower}:{ordering}"


def encode_cursor(queryset: QuerySet, ordering: str, item: Any) -> str:
    """Return the signed cursor pointing just after item."""
    field, _ = _split(ordering)
    position = [_value_of(item, "pk")] if field == "pk" else [_value_of(item, field), _value_of(item, "pk")]
    payload = json.loads(json.dumps(position, cls=DjangoJSONEncoder))
    return signing.dumps(payload, salt=_salt(queryset, ordering), compress=True)


def decode_cursor(queryset: QuerySet, ordering: str, cursor: str) -> list:
    """Return the position a cursor carries; raise BadRequest when it was forged, edited or made for another list."""
    try:
        position = signing.loads(cursor, salt=_salt(queryset, ordering))
    except (signing.BadSignature, ValueError, TypeError) as error:  # forged, edited, or not even a string
        raise BadRequest("The cursor is not valid for this list.", code="invalid_cursor") from error
    expected = 1 if _split(ordering)[0] == "pk" else 2
    if not isinstance(position, list) or len(position) != expected:
        raise BadRequest("The cursor is not valid for this list.", code="invalid_cursor")
    return position


def paginate_keyset(queryset: QuerySet, *, ordering: str = "id", limit: int | None = None, cursor: str | None = None):
    """Return {"items": [...], "next_cursor": str | None} for one page of queryset in ordering.

    Fetch limit + 1 rows to learn whether another page exists, without counting.
    Raise BadRequest on an invalid cursor.
    """
    limit = min(max(int(limit or DEFAULT_LIMIT), 1), MAX_LIMIT)
    field, descending = _split(ordering)
    sign = "-" if descending else ""
    order = [f"{sign}pk"] if field == "pk" else [f"{sign}{field}", f"{sign}pk"]
    page = queryset.order_by(*order)
    if cursor:
        position = decode_cursor(queryset, ordering, cursor)
        after = "lt" if descending else "gt"
        if field == "pk":
            page = page.filter(**{f"pk__{after}": position[0]})
        else:
            key, pk = position
            page = page.filter(Q(**{f"{field}__{after}": key}) | Q(**{field: key, f"pk__{after}": pk}))
    rows = list(page[: limit + 1])
    next_cursor = encode_cursor(queryset, ordering, rows[limit - 1]) if len(rows) > limit else None
    return {"items": rows[:limit], "next_cursor": next_cursor}


class CursorPagination(PaginationBase):
    """django-ninja pagination class around paginate_keyset (see the module docstring)."""

    class Input(Schema):
        limit: int | None = Field(
            None, ge=1, description=f"Rows per page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})."
        )
        cursor: str | None = Field(None, description="The next_cursor of the previous page.")

    class Output(Schema):
        items: list[Any]
        next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null on the last page.")

    items_attribute = "items"

    def __init__(self, *, ordering: str = "id", **kwargs: Any) -> None:
        self.ordering = ordering
        super().__init__(**kwargs)

    def paginate_queryset(self, queryset, pagination: Input, request, **params):
        return paginate_keyset(queryset, ordering=self.ordering, limit=pagination.limit, cursor=pagination.cursor)
