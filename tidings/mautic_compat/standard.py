"""Mautic's standard entity routes, once for every entity: list, get, new, edit, delete and the batches.

Mautic generates the same eight routes for each entity (CoreSubscriber, CommonApiController;
facts read, not copied): ``GET /X``, ``GET /X/{id}``, ``POST /X/new``, ``PUT|PATCH /X/{id}/edit``,
``DELETE /X/{id}/delete``, ``POST /X/batch/new``, ``PUT|PATCH /X/batch/edit`` and
``DELETE /X/batch/delete?ids=1,2``. Their behaviour, kept here:

- ``new`` answers 201 with a Location header, or 200 when the entity already existed (contacts
  and tags match existing ones); ``PATCH`` of a missing id is 404 while ``PUT`` creates it (201);
  ``delete`` answers the entity as it was, with ``"id": null`` (Doctrine nulls a generated id on
  removal, and Mautic serialises after removing; clients check it). The batch delete serialises
  before removing ("so that the IDs are still populated"), so its entities keep their ids.
- ``batch/delete`` reads ids as Mautic's BatchIdToEntityHelper does: ``?ids=1,2``, ``?ids=1``,
  ``?ids[]=1&ids[]=2``, or without ``ids`` every query parameter (``?id=203``), the answer keyed
  by the request's keys (``{"contacts": {"id": {...}}}``).
- lists honour ``orderBy``/``orderByDir`` and ``order[]`` on the columns the resource sorts by
  (others are refused with 400 naming the sortable ones), ``select[]`` (only those fields or
  properties, and no null values, as Mautic's serialiser does with a custom select) and
  ``published`` (a resource without a published state refuses it with 400).
- Batches take at most 200 items (``api_batch_max_limit``), keyed as the request keyed them, and
  answer ``{"<plural>": {...}, "statusCodes": {...}, "errors": {...}}`` with 201 (new) or 200;
  a failed item is left out of the entities and reported in errors. PHP serialises an array
  whose keys are exactly 0..n-1 as a JSON list and any other as an object; ``php_array`` does the same.

A domain describes itself with a ``Resource`` (how to list, fetch, write and serialise) and
mounts ``standard_urls(resource)``; this module only translates, the domain's actions decide.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.urls import path

from tidings.accounts.decorators import require_permission
from tidings.api.errors import ApiError
from tidings.inputs import InvalidInput, is_ascii_digits, parse_id
from tidings.mautic_compat.decorators import mautic_api
from tidings.mautic_compat.parsing import (
    ListParams,
    json_body,
    parse_list_params,
    parse_select,
    php_params,
    request_data,
    sort_of,
    strict_int,
)
from tidings.mautic_compat.responses import MESSAGES, MauticError, mautic_json, validation_error
from tidings.tenancy.context import require_workspace

BATCH_LIMIT = 200


# The columns every Mautic entity with an owner and a publish state has (its FormEntity base): resources
# add their own to these for select[].
ENTITY_COLUMNS = frozenset(
    {"isPublished", "dateAdded", "dateModified", "createdBy", "createdByUser", "modifiedBy", "modifiedByUser", "id"}
)


@dataclass
class Resource:
    """How one Mautic entity maps onto Tidings' selectors and actions.

    list(params) -> (items, total); get(id) -> object (DoesNotExist when absent);
    serialize(objects) -> dicts (in bulk, so lists cost no query per item);
    create(request, data, principal) -> (object, created) for POST new and PUT of a missing id;
    update(request, id, data, method, principal) -> object; delete(request, id, principal).
    view_permission guards list and get, edit_permission new, edit and the new/edit batches,
    delete_permission delete and the delete batch (declared on each route, checked by the entry pipeline).
    """

    one: str
    many: str
    list: Callable[[ListParams, Any], tuple[builtins.list, Any]]
    get: Callable[[int], Any]
    serialize: Callable[[builtins.list], builtins.list[dict]]
    create: Callable[..., tuple[Any, bool]]
    update: Callable[..., Any]
    delete: Callable[..., None]
    # Required: each entity states its own permissions (no entity inherits contacts' by default).
    view_permission: str
    edit_permission: str
    delete_permission: str
    columns: set[str] = field(default_factory=set)
    empty_as_object: bool = False
    extra_route_kwargs: tuple[str, ...] = ()  # e.g. "object" for /fields/{object}; passed to every callable

    # select[]: select(items, columns) -> items; by default the properties named in selectable.
    select: Callable[[builtins.list[dict], tuple[str, ...]], builtins.list[dict]] | None = None
    selectable: frozenset[str] = frozenset()
    # published: "always" (every entity is published, the filter keeps them all), "filter" (list
    # honours params.published_only) or "none" (no published state: published=1 is refused).
    published: str = "always"
    # The list as a JSON array instead of an object keyed by id (segments, as issue #9 specifies).
    list_as_array: bool = False


def php_array(mapping: dict) -> dict | list:
    """Return mapping as PHP's json_encode would send an array with these keys: a list for keys 0..n-1 in order."""
    keys = list(mapping)
    if keys == list(range(len(keys))):
        return list(mapping.values())
    return {str(key): value for key, value in mapping.items()}


def listed(queryset, params: ListParams, sortable: dict[str, str], *, published_field: str = "") -> tuple[list, int]:
    """Return (the requested page of queryset, its total) as Mautic lists: published=1 keeps published rows
    (published_field), orderBy/order[] sort on the sortable columns with id breaking ties, start/limit page."""
    sort = sort_of(params, sortable)
    if published_field and params.published_only:
        queryset = queryset.filter(**{published_field: True})
    if sort is not None:
        column, descending = sort
        queryset = queryset.order_by(("-" if descending else "") + column, "-id" if descending else "id")
    total = queryset.count()
    return (list(queryset[params.start : params.start + params.limit]) if total else []), total


def allow(request, *methods: str) -> None:
    """Raise MauticError(405) unless the request uses one of methods."""
    if request.method not in methods:
        raise MauticError(405)


def atomic():
    """Return a transaction on the workspace's region database, so a request's several actions commit together."""
    return transaction.atomic(using=require_workspace().db_alias)


def one(resource: Resource, obj, kwargs) -> dict:
    return resource.serialize([obj], **kwargs)[0]


def deleted(body: dict) -> dict:
    """Return an entity's body as Mautic answers it once removed: id null, and fields.all.id null too."""
    body = {**body, "id": None}
    fields = body.get("fields")
    if isinstance(fields, dict) and isinstance(fields.get("all"), dict) and "id" in fields["all"]:
        body["fields"] = {**fields, "all": {**fields["all"], "id": None}}
    return body


def without_nulls(value):
    """Return value with every null left out, as Mautic's serialiser sends a custom select."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value if item is not None]
    return value


def _squashed(name: str) -> str:
    return name.replace("_", "").lower()  # date_added (a column) names dateAdded (a property)


def check_select(columns: tuple[str, ...], known, *, hint: str = "") -> None:
    """Raise MauticError(400) naming the columns of select[] that are none of known (compared as _squashed)."""
    names = {_squashed(name) for name in known}
    unknown = [column for column in columns if _squashed(column) not in names]
    if unknown:
        message = f"unknown column {', '.join(unknown)}" + (f"; {hint}" if hint else "")
        raise MauticError(400, f"select: {message}.", {"select": [message]})


def select_properties(resource: Resource, items: builtins.list[dict], columns: tuple[str, ...]) -> builtins.list[dict]:
    """Return items with only id and the properties named in columns, nulls left out (a custom select)."""
    check_select(columns, resource.selectable or {key for item in items for key in item})
    wanted = {_squashed(column) for column in columns} | {"id"}
    return [without_nulls({k: v for k, v in item.items() if _squashed(k) in wanted}) for item in items]


def _selected(resource: Resource, items: builtins.list[dict], columns: tuple[str, ...]) -> builtins.list[dict]:
    if not columns:
        return items
    if resource.select is not None:
        return resource.select(items, columns)
    return select_properties(resource, items, columns)


def _written(resource: Resource, request, data: dict, *, obj_id=None, method: str, principal, kwargs):
    """Write one item; return (object, status). Raise MauticError (404, 400...) for this item."""
    try:
        with atomic():
            if obj_id is None:
                obj, created = resource.create(request, data, principal, method="POST", **kwargs)
                return obj, 201 if created else 200
            try:
                resource.get(obj_id, **kwargs)
            except ObjectDoesNotExist:
                if method == "PATCH":
                    raise MauticError(404) from None
                obj, _ = resource.create(request, data, principal, method="PUT", **kwargs)
                return obj, 201
            return resource.update(request, obj_id, data, method, principal, **kwargs), 200
    except ValidationError as error:
        raise validation_error(error) from error
    except ObjectDoesNotExist as error:
        raise MauticError(404) from error
    except PermissionDenied as error:
        # The action refused (e.g. an edit that merges away another contact needs contacts:delete):
        # a batch reports it for this item, like any other item error.
        raise MauticError(403) from error


def _batch_items(request) -> dict:
    """Return the batch body as {key: item}: a JSON list is keyed 0..n-1; an object or a form keeps its keys."""
    if "json" in (request.content_type or "") and request.body:
        data = json_body(request)
        if isinstance(data, list):
            items = dict(enumerate(data))
        elif isinstance(data, dict):
            items = data
        else:
            raise MauticError(400, "A batch is a list of items.")
    else:
        items = request_data(request)
    if len(items) > BATCH_LIMIT:
        # Mautic answers this with its default 500; a client error is a 400.
        raise MauticError(400, f"A max of {BATCH_LIMIT} entities are supported at a time.")
    return {_php_key(k): v for k, v in items.items()}


def _php_key(key):
    """Return a batch key as PHP keeps it: a number for ASCII digits that fit 64 bits, else the string."""
    if isinstance(key, int) or (is_ascii_digits(str(key)) and len(str(key)) < 19):
        return int(key)
    return key


def _api_error(status: int, message: str | None = None) -> dict:
    return {"message": message or MESSAGES.get(status, "Error"), "code": status, "type": "api"}


def _form_error(error: MauticError) -> dict:
    return {"code": error.status, "message": error.message, "details": error.details, "type": None}


def standard_views(resource: Resource) -> dict[str, Callable]:
    """Return the eight standard views of resource, each wrapped by mautic_api."""

    def kwargs_of(kwargs):
        return {name: kwargs[name] for name in resource.extra_route_kwargs if name in kwargs}

    @mautic_api
    @require_permission(resource.view_permission)
    def list_view(request, **kwargs):
        allow(request, "GET")
        params = parse_list_params(request.GET, columns=resource.columns or None)
        if params.published_only and resource.published == "none":
            message = f"{resource.many} have no published state; leave published out"
            raise MauticError(400, f"published: {message}.", {"published": [message]})
        try:
            items, total = resource.list(params, request, **kwargs_of(kwargs))
        except ObjectDoesNotExist as error:
            raise MauticError(404) from error
        items = _selected(resource, items, params.select)
        if resource.list_as_array:
            return {"total": total, resource.many: items}
        results = {str(item["id"]): item for item in items}
        if not results:
            return {"total": total, resource.many: {} if resource.empty_as_object else []}
        return {"total": total, resource.many: results}

    @mautic_api
    @require_permission(resource.view_permission)
    def get_view(request, id, **kwargs):
        allow(request, "GET")
        select = parse_select(request.GET)
        try:
            obj = resource.get(id, **kwargs_of(kwargs))
        except ObjectDoesNotExist as error:
            raise MauticError(404) from error
        return {resource.one: _selected(resource, [one(resource, obj, kwargs_of(kwargs))], select)[0]}

    @mautic_api
    @require_permission(resource.edit_permission)
    def new_view(request, **kwargs):
        allow(request, "POST")
        principal = request.principal
        obj, status = _written(
            resource, request, request_data(request), method="POST", principal=principal, kwargs=kwargs_of(kwargs)
        )
        response = mautic_json({resource.one: one(resource, obj, kwargs_of(kwargs))}, status)
        if status == 201:
            response["Location"] = request.build_absolute_uri(request.path.rsplit("/new", 1)[0] + f"/{obj.id}")
        return response

    @mautic_api
    @require_permission(resource.edit_permission)
    def edit_view(request, id, **kwargs):
        allow(request, "PUT", "PATCH")
        principal = request.principal
        obj, status = _written(
            resource,
            request,
            request_data(request),
            obj_id=id,
            method=request.method,
            principal=principal,
            kwargs=kwargs_of(kwargs),
        )
        return status, {resource.one: one(resource, obj, kwargs_of(kwargs))}

    @mautic_api
    @require_permission(resource.delete_permission)
    def delete_view(request, id, **kwargs):
        allow(request, "DELETE")
        principal = request.principal
        try:
            obj = resource.get(id, **kwargs_of(kwargs))
            body = one(resource, obj, kwargs_of(kwargs))  # serialised before it is gone, as Mautic does
            with atomic():
                resource.delete(request, id, principal, **kwargs_of(kwargs))
        except ObjectDoesNotExist as error:
            raise MauticError(404) from error
        except ValidationError as error:
            raise validation_error(error) from error
        return {resource.one: deleted(body)}

    def _run_batch(request, kwargs, method_of):
        principal = request.principal  # both batch routes declare resource.edit_permission
        entities, status_codes, errors = {}, {}, {}
        for key, item in _batch_items(request).items():
            if not isinstance(item, dict):
                errors[key] = _api_error(400, "An item must be an object of fields.")
                status_codes[key] = 400
                continue
            try:
                obj_id, method = method_of(item)
                obj, status = _written(
                    resource, request, item, obj_id=obj_id, method=method, principal=principal, kwargs=kwargs_of(kwargs)
                )
            except MauticError as error:
                errors[key] = _api_error(404) if error.status == 404 else _form_error(error)
                status_codes[key] = error.status
                continue
            except ApiError as error:
                errors[key] = _api_error(error.status)
                status_codes[key] = error.status
                continue
            entities[key] = obj
            status_codes[key] = status
        serialized = resource.serialize(list(entities.values()), **kwargs_of(kwargs))
        body = {
            resource.many: php_array(dict(zip(entities, serialized, strict=True))),
            "statusCodes": php_array(status_codes),
        }
        if errors:
            body["errors"] = php_array(errors)
        return body

    @mautic_api
    @require_permission(resource.edit_permission)
    def batch_new_view(request, **kwargs):
        allow(request, "POST")
        return 201, _run_batch(request, kwargs, lambda item: (None, "POST"))

    @mautic_api
    @require_permission(resource.edit_permission)
    def batch_edit_view(request, **kwargs):
        allow(request, "PUT", "PATCH")

        def method_of(item):
            raw = item.get("id")
            if raw in (None, ""):
                raise MauticError(400, "ID is missing from the payload.")
            return strict_int("id", raw, minimum=1), request.method

        return _run_batch(request, kwargs, method_of)

    @mautic_api
    @require_permission(resource.delete_permission)
    def batch_delete_view(request, **kwargs):
        allow(request, "DELETE")
        principal = request.principal
        ids, errors = _batch_ids(request)
        found = {}
        for key, raw in ids.items():
            try:
                entity_id = parse_id(raw if isinstance(raw, int) else str(raw).strip())
                found[key] = resource.get(entity_id, **kwargs_of(kwargs))
            except (ObjectDoesNotExist, InvalidInput):  # an id no row can have is not found
                errors[key] = _api_error(404)
        serialized = dict(zip(found, resource.serialize(list(found.values()), **kwargs_of(kwargs)), strict=True))
        with atomic():
            for obj in found.values():
                resource.delete(request, obj.id, principal, **kwargs_of(kwargs))
        body = {resource.many: php_array(serialized)}
        if errors:
            body["errors"] = php_array(errors)
        return body

    return {
        "list": list_view,
        "get": get_view,
        "new": new_view,
        "edit": edit_view,
        "delete": delete_view,
        "batch_new": batch_new_view,
        "batch_edit": batch_edit_view,
        "batch_delete": batch_delete_view,
    }


# Query parameters that carry credentials or options, never an id of a batch delete.
_NOT_IDS = {"access_token"}


def _batch_ids(request) -> tuple[dict, dict]:
    """Return ({key: id}, {key: error}) of a batch delete, read as Mautic's BatchIdToEntityHelper reads it.

    ?ids=1,2 and ?ids=1 (keyed 0..n-1), ?ids[]=1&ids[]=2 or ?ids[a]=1 (keys kept); without ids,
    every query parameter is an id keyed by its name (?id=203 is keyed "id"), and an item given
    as an object takes its "id" (0[id]=1). An item without an id is a 400 error of its own.
    """
    query = {key: value for key, value in php_params(request.GET).items() if key not in _NOT_IDS}
    if "ids" not in query and not query and request.body:
        query = request_data(request)
    raw = query.get("ids")
    errors: dict = {}
    if raw is None and query:
        ids = {}
        for key, value in query.items():
            if isinstance(value, dict) and "id" in value:
                ids[_php_key(key)] = value["id"]
            elif isinstance(value, dict | list):
                errors[_php_key(key)] = _api_error(400, "ID is missing from the payload.")
            else:
                ids[_php_key(key)] = value
    elif isinstance(raw, list):
        ids = dict(enumerate(raw))
    elif isinstance(raw, dict):
        ids = {_php_key(k): v for k, v in raw.items()}
    elif isinstance(raw, str) and raw.strip():
        ids = dict(enumerate(part.strip() for part in raw.split(",")))
    else:
        raise MauticError(400, "ID is missing from the payload.")
    if len(ids) + len(errors) > BATCH_LIMIT:
        raise MauticError(400, f"A max of {BATCH_LIMIT} entities are supported at a time.")
    return ids, errors


def standard_urls(prefix: str, name: str, resource: Resource) -> list:
    """Return the eight standard routes of resource under prefix (e.g. "contacts"), named "<name>_<route>"."""
    views = standard_views(resource)
    return [
        path(f"{prefix}", views["list"], name=f"{name}_list"),
        path(f"{prefix}/new", views["new"], name=f"{name}_new"),
        path(f"{prefix}/batch/new", views["batch_new"], name=f"{name}_batch_new"),
        path(f"{prefix}/batch/edit", views["batch_edit"], name=f"{name}_batch_edit"),
        path(f"{prefix}/batch/delete", views["batch_delete"], name=f"{name}_batch_delete"),
        path(f"{prefix}/<int:id>", views["get"], name=f"{name}_get"),
        path(f"{prefix}/<int:id>/edit", views["edit"], name=f"{name}_edit"),
        path(f"{prefix}/<int:id>/delete", views["delete"], name=f"{name}_delete"),
    ]
