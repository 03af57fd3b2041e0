"""Cursor pagination for native list endpoints: ``?limit=&cursor=`` in, ``{"items": [...], "next_cursor": ...}`` out.

The paging itself is ``tidings.pagination.keyset_page`` (signed keyset cursors, no OFFSET, no
total; read its docstring); this module only adapts it to django-ninja and answers a bad
cursor with 400 ``invalid_cursor``. Reuse it in any ninja endpoint that returns a queryset::

    from ninja.pagination import paginate
    from tidings.api.pagination import CursorPagination

    @router.get("/segments", response=list[SegmentOut])
    @paginate(CursorPagination, ordering="-created_at")   # or "name", "id", "-seq", "user__email"
    @require_permission("segments:view")                   # tidings.accounts.decorators
    def segments(request):
        return Segment.objects.all()                       # already workspace-scoped

Outside ninja, call ``paginate_keyset``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from ninja import Field, Schema
from ninja.pagination import PaginationBase

from tidings.api.errors import BadRequest
from tidings.pagination import DEFAULT_LIMIT, MAX_LIMIT, InvalidCursor, keyset_page


def paginate_keyset(queryset: QuerySet, *, ordering: str = "id", limit: int | None = None, cursor: str | None = None):
    """Return {"items": [...], "next_cursor": str | None} for one page of queryset in ordering.

    Raise BadRequest (400 invalid_cursor) on a cursor this list did not issue.
    """
    try:
        page = keyset_page(queryset, ordering=ordering, after=cursor, limit=limit, max_limit=MAX_LIMIT)
    except InvalidCursor as error:
        raise BadRequest("The cursor is not valid for this list.", code="invalid_cursor") from error
    return {"items": page.items, "next_cursor": page.next_cursor}


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
