"""Export a filtered contact list as CSV or JSON, streamed in batches, audited once.

The response is streamed: contacts are read page by page through the keyset selector
(contacts_page, ordered by id), decrypted in bulk, and written out batch by batch, so an export
of a million contacts never holds them all in memory. Streaming happens after the view has
returned, outside the request's workspace context, so the generator enters it again itself.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError

from tidings.accounts.permissions import require
from tidings.audit.actions import audit_record
from tidings.contacts.fields import to_json
from tidings.contacts.models import FieldType
from tidings.contacts.search_query import parse_search
from tidings.contacts.selectors import ContactView, contacts_count, contacts_page
from tidings.contacts.selectors_fields import field_definitions
from tidings.tenancy.context import require_workspace, use_workspace

EXPORT_BATCH = 500
FORMATS = ("csv", "json")
# Filter values safe to keep in the audit log (ids and codes); others are recorded by name only.
_AUDITABLE_FILTER_VALUES = {"tag_id", "owner_id", "stage_id", "dnc", "is_anonymous", "unowned", "lawful_basis"}


def export_contacts(
    *, fmt: str, search: str = "", filters: Mapping[str, Any] | None = None, me: int | None = None,
    columns: Sequence[str] | None = None, principal, request=None,
) -> tuple[Iterator[str], int]:  # fmt: skip
    """Audit an export of the contacts matching search and filters; return (chunks of text, count).

    columns picks the field aliases exported, in the workspace's field order ("tags" for the
    tags; None: every field and the tags); id, lawful basis and creation time always come.
    In CSV a yes/no field reads Yes or No (JSON keeps true and false). The audit entry
    (contacts.exported) holds the format, the count, the filter names (values only for ids and
    codes), the search commands and the columns, never a searched value. Raise ValueError on
    an unknown format, ValidationError on a bad filter (from the selector) or an unknown column.
    """
    require(principal, "contacts:export", workspace_id=require_workspace().id)
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    filters = dict(filters or {})
    definitions = field_definitions()
    if columns is not None:
        unknown = set(columns) - {f.alias for f in definitions} - {"tags"}
        if unknown or not columns:
            raise ValidationError({"columns": ["choose columns among the contact fields and tags"]})
    count = contacts_count(search=search, filters=filters, me=me)
    audit_record(
        "contacts.exported",
        principal=principal,
        request=request,
        target_type="contact",
        data={
            "format": fmt,
            "count": count,
            "filters": {k: (v if k in _AUDITABLE_FILTER_VALUES else "*") for k, v in sorted(filters.items())},
            "search_commands": sorted({command for command, _ in parse_search(search)}),
            **({"columns": list(columns)} if columns is not None else {}),
        },
    )
    workspace = require_workspace()
    chosen = set(columns) if columns is not None else None
    aliases = [f.alias for f in definitions if chosen is None or f.alias in chosen]
    with_tags = chosen is None or "tags" in chosen
    booleans = {f.alias for f in definitions if f.type == FieldType.BOOLEAN}
    pages = _pages(workspace, search, filters, me)
    if fmt == "csv":
        return _csv_chunks(pages, aliases, with_tags=with_tags, booleans=booleans), count
    return _json_chunks(pages, aliases, with_tags=with_tags), count


def _pages(workspace, search: str, filters: dict, me: int | None) -> Iterator[list[ContactView]]:
    after = None
    while True:
        with use_workspace(workspace):
            page = contacts_page(search=search, filters=filters, order="id", after=after, limit=EXPORT_BATCH, me=me)
        if page.items:
            yield page.items
        if not page.has_more:
            return
        after = page.next_cursor


def _record(view: ContactView, aliases: list[str], *, with_tags: bool = True) -> dict[str, Any]:
    return {
        "id": view.id,
        **{alias: to_json(view.fields.get(alias)) for alias in aliases},
        **({"tags": list(view.tags)} if with_tags else {}),
        "lawful_basis": view.lawful_basis,
        "created_at": view.created_at.isoformat(),
    }


def _csv_chunks(pages, aliases: list[str], *, with_tags: bool = True, booleans=frozenset()) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", *aliases, *(["tags"] if with_tags else []), "lawful_basis", "created_at"])
    yield out.getvalue()
    for views in pages:
        out = io.StringIO()
        writer = csv.writer(out)
        for view in views:
            record = _record(view, aliases, with_tags=with_tags)
            if with_tags:
                record["tags"] = "|".join(record["tags"])
            writer.writerow([_cell(value, yes_no=key in booleans) for key, value in record.items()])
        yield out.getvalue()


def _cell(value: Any, *, yes_no: bool = False) -> Any:
    """Write a value as a CSV cell; a yes/no field as Yes or No; a text starting like a formula is quoted."""
    if value is None:
        return ""
    if yes_no and isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        value = "|".join(str(v) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return f"'{value}"
    return value


def _json_chunks(pages, aliases: list[str], *, with_tags: bool = True) -> Iterator[str]:
    yield "["
    first = True
    for views in pages:
        parts = [json.dumps(_record(view, aliases, with_tags=with_tags), ensure_ascii=False) for view in views]
        yield ("" if first else ",") + "\n" + ",\n".join(parts)
        first = False
    yield "\n]\n"
