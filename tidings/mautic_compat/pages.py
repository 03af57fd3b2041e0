"""Mautic's page API (PageApiController): /api/pages with Mautic's field names, as far as they apply.

Serialised: id, title, alias, customHtml, metaDescription, redirectType, redirectUrl, noIndex,
isPublished, isPreferenceCenter, dateAdded, dateModified, createdBy, hits, uniqueHits (names read from
Mautic's Page entity, not its code). What differs, by design: content is HTML sanitised on save (no
template, builder content, head or footer scripts: those are always null and ignored on input); there
are no categories, variants, translations or publish dates; hits are counted by the tracker as page.hit
events, not on the page (hits and uniqueHits are 0); isPreferenceCenter is always false (the
preference centre is the workspace's own page, /m/<workspace>/preferences/<token>). An alias that is
taken gets a number appended, as Mautic's PageModel does.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from tidings.inputs import InvalidInput, parse_bool
from tidings.mautic_compat.parsing import ListParams, optional_text
from tidings.mautic_compat.responses import MauticError, mautic_datetime
from tidings.mautic_compat.standard import Resource, listed, standard_urls
from tidings.pages import actions, content, selectors

ORDER_COLUMNS = {"id": "id", "title": "title", "alias": "slug", "dateAdded": "created_at", "dateModified": "updated_at"}
_ALIAS_TRIES = 50


def serialize_pages(pages: list) -> list[dict]:
    result = []
    for page in pages:
        modified = (page.updated_at - page.created_at).total_seconds() >= 1
        result.append(
            {
                "isPublished": page.is_published,
                "dateAdded": mautic_datetime(page.created_at),
                "dateModified": mautic_datetime(page.updated_at) if modified else None,
                "createdBy": page.created_by,
                "id": page.pk,
                "title": page.title,
                "alias": page.slug,
                "template": None,
                "customHtml": page.content,
                "content": None,
                "publishUp": None,
                "publishDown": None,
                "hits": 0,
                "uniqueHits": 0,
                "metaDescription": page.meta_description or None,
                "redirectType": page.redirect_type or None,
                "redirectUrl": page.redirect_url or None,
                "isPreferenceCenter": False,
                "noIndex": page.noindex,
                "category": None,
                "language": "en",
            }
        )
    return result


def _list(params: ListParams, request) -> tuple[list[dict], int]:
    found, total = listed(selectors.pages(search=params.search), params, ORDER_COLUMNS, published_field="is_published")
    return serialize_pages(found), total


def _bool(data: dict, key: str) -> bool:
    try:
        return parse_bool(data[key], strict=True)
    except InvalidInput as error:
        raise MauticError(400, f"{key}: 0 or 1.", {key: ["0 or 1"]}) from error


def _free_alias(wanted: str, *, exclude_id: int | None = None) -> str:
    """Return wanted as a slug, with a number appended while another page has it (Mautic's PageModel)."""
    base = content.slug_from_title(wanted)[:180]
    alias = base
    for count in range(1, _ALIAS_TRIES + 1):
        try:
            holder = selectors.page_by_slug(alias)
        except ObjectDoesNotExist:
            return alias
        if holder.pk == exclude_id:
            return alias
        alias = f"{base}{count}"
    return alias  # still taken: the action names the slug in its error


# Mautic's name -> the action's argument, for the plain text fields.
_TEXT_FIELDS = {"customHtml": "content", "metaDescription": "meta_description", "redirectUrl": "redirect_url"}


def _changes(data: dict, method: str, *, page_id: int | None) -> dict[str, Any]:
    """Return page_create/page_update arguments of a Mautic body (PUT clears what it leaves out)."""
    full = method in {"PUT", "POST"}
    changes: dict[str, Any] = {}
    title = optional_text(data, "title")
    if title is not None or full:
        changes["title"] = title or ""
    alias = optional_text(data, "alias")
    if alias:
        changes["slug"] = _free_alias(alias, exclude_id=page_id) if method == "POST" else alias.strip().lower()
    elif full:
        changes["slug"] = _free_alias(changes["title"] or "page", exclude_id=page_id)
    for key, name in _TEXT_FIELDS.items():
        value = optional_text(data, key)
        if value is not None or full:
            changes[name] = value or ""
    redirect_type = optional_text(data, "redirectType")
    if redirect_type is not None or full:
        changes["redirect_type"] = redirect_type or ""
    if "noIndex" in data:
        changes["noindex"] = _bool(data, "noIndex")
    elif full:
        changes["noindex"] = False
    if "isPublished" in data:
        changes["is_published"] = _bool(data, "isPublished")
    elif method == "PUT":
        changes["is_published"] = False
    elif method == "POST":
        changes["is_published"] = True  # Mautic publishes a new entity unless told otherwise
    return changes


def _create(request, data: dict, principal, *, method: str):
    return actions.page_create(principal=principal, request=request, **_changes(data, method, page_id=None)), True


def _update(request, page_id: int, data: dict, method: str, principal):
    changes = _changes(data, method, page_id=page_id)
    return actions.page_update(page_id, principal=principal, request=request, **changes)


PAGES = Resource(
    one="page",
    many="pages",
    list=_list,
    get=selectors.page_get,
    serialize=serialize_pages,
    create=_create,
    update=_update,
    delete=lambda request, page_id, principal: actions.page_delete(page_id, principal=principal, request=request),
    view_permission="pages:view",
    edit_permission="pages:edit",
    delete_permission="pages:edit",
    columns=set(ORDER_COLUMNS),
    selectable=frozenset(
        {
            "isPublished",
            "dateAdded",
            "dateModified",
            "createdBy",
            "id",
            "title",
            "alias",
            "template",
            "customHtml",
            "content",
            "publishUp",
            "publishDown",
            "hits",
            "uniqueHits",
            "metaDescription",
            "redirectType",
            "redirectUrl",
            "isPreferenceCenter",
            "noIndex",
            "category",
            "language",
        }
    ),  # fmt: skip
    published="filter",
    list_as_array=True,  # {"total": N, "pages": [...]}, as Mautic's documentation shows the page list
)

urlpatterns = standard_urls("pages", "pages", PAGES)
