"""Mautic's tag API (TagApiController): {id, tag, description}; POST /tags/new returns an existing tag of that name."""

from __future__ import annotations

from tidings.contacts import actions, selectors
from tidings.mautic_compat.parsing import ListParams, sort_of
from tidings.mautic_compat.responses import MauticError
from tidings.mautic_compat.standard import Resource, standard_urls


def serialize_tags(tags: list) -> list[dict]:
    return [{"id": tag.id, "tag": tag.name, "description": tag.description or None} for tag in tags]


ORDER_COLUMNS = {"id": "id", "tag": "name"}


def _list(params: ListParams, request) -> tuple[list[dict], int]:
    sort = sort_of(params, ORDER_COLUMNS)
    order = "name" if sort is None else ("-" if sort[1] else "") + sort[0]
    page = selectors.tags_page(search=params.search, order=order, start=params.start, limit=params.limit)
    return serialize_tags(page.items), page.total or 0


def _name(data: dict) -> str:
    """Return the tag name of a body; raise MauticError(400) when it is not text."""
    name = data.get("tag")
    if name is not None and not isinstance(name, str | int):
        raise MauticError(400, "tag: A tag name is text.", {"tag": ["A tag name is text."]})
    return str(name or "").strip()


def _create(request, data: dict, principal, *, method: str):
    name = _name(data)
    if not name:
        raise MauticError(400, "tag: A tag name is required.", {"tag": ["A tag name is required."]})
    existing = selectors.tags_by_name([name]).get(name)
    if existing is not None:
        if "description" in data:
            existing = actions.tag_update(
                existing.id, description=str(data["description"] or ""), principal=principal, request=request
            )
        return existing, False
    return actions.tag_create(
        name, description=str(data.get("description") or ""), principal=principal, request=request
    ), True


def _update(request, tag_id: int, data: dict, method: str, principal):
    changes = {}
    if "tag" in data or method == "PUT":
        changes["name"] = _name(data)
    if "description" in data or method == "PUT":
        changes["description"] = str(data.get("description") or "")
    return actions.tag_update(tag_id, **changes, principal=principal, request=request)


TAGS = Resource(
    one="tag",
    many="tags",
    list=_list,
    get=selectors.tag_get,
    serialize=serialize_tags,
    create=_create,
    update=_update,
    delete=lambda request, tag_id, principal: actions.tag_delete(tag_id, principal=principal, request=request),
    view_permission="contacts:view",
    edit_permission="contacts:edit",
    delete_permission="contacts:edit",
    selectable=frozenset({"id", "tag", "description"}),
    published="none",  # Mautic's tags have no published state
)

urlpatterns = standard_urls("tags", "tags", TAGS)
