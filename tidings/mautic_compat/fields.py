"""Mautic's field API (FieldApiController) at /fields/contact and /fields/company.

Facts read from Mautic 5.1 (not copied): a field is {id, label, alias, type, group, order, object
("lead" or "company"), defaultValue, isRequired, isFixed, isListable, isVisible, isShortVisible,
isUniqueIdentifier, isPubliclyUpdatable, properties}, with the publish details; the alias is
made from the label when the body has none.

What differs, by design: DELETE archives the field instead of dropping its column, so no value
is lost silently (restore it in the UI or with the native API); a core field cannot be deleted.
A field's personal-data category, which Mautic does not have, may be sent as "category"
(with "acknowledgeSensitive" for financial, health and government-id data).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.urls import path

from tidings.contacts import actions, selectors_fields
from tidings.contacts.models import FieldObject, FieldType
from tidings.inputs import parse_bool
from tidings.mautic_compat.contacts import field_properties
from tidings.mautic_compat.parsing import ListParams, sort_of
from tidings.mautic_compat.responses import mautic_datetime
from tidings.mautic_compat.standard import Resource, standard_views

OBJECTS = {"contact": FieldObject.CONTACT, "company": FieldObject.COMPANY}
# Mautic field types Tidings stores as one of its own.
TYPES = {"lookup": FieldType.TEXT, "html": FieldType.TEXTAREA, "time": FieldType.TEXT, "phone": FieldType.TEL}
_FLAGS = {
    "isRequired": "is_required",
    "isPubliclyUpdatable": "is_publicly_updatable",
    "isUniqueIdentifier": "is_unique_identifier",
    "isUniqueIdentifer": "is_unique_identifier",  # Mautic's form spells it so; clients send both
    "isListable": "is_listable",
}


def _object(object: str) -> str:
    if object not in OBJECTS:
        raise ObjectDoesNotExist(f"no field object {object!r}")
    return OBJECTS[object]


SELECTABLE = frozenset(
    {
        "isPublished", "dateAdded", "dateModified", "createdBy", "createdByUser", "modifiedBy", "modifiedByUser",
        "id", "label", "alias", "type", "group", "order", "object", "defaultValue", "isRequired", "isFixed",
        "isListable", "isVisible", "isShortVisible", "isUniqueIdentifier", "isPubliclyUpdatable", "properties",
    }
)  # fmt: skip


def serialize_fields(fields: list, **kwargs) -> list[dict]:
    return [
        {
            "isPublished": f.archived_at is None,
            "dateAdded": mautic_datetime(f.created_at),
            "dateModified": mautic_datetime(f.updated_at),
            "createdBy": None,
            "createdByUser": None,
            "modifiedBy": None,
            "modifiedByUser": None,
            "id": f.id,
            "label": f.label,
            "alias": f.alias,
            "type": f.type,
            "group": f.group,
            "order": f.order,
            "object": "lead" if f.object == FieldObject.CONTACT else "company",
            "defaultValue": f.default_value,
            "isRequired": f.is_required,
            "isFixed": f.is_core,
            "isListable": f.is_listable,
            "isVisible": True,
            "isShortVisible": f.is_listable,
            "isUniqueIdentifier": f.is_unique_identifier,
            "isPubliclyUpdatable": f.is_publicly_updatable,
            "properties": field_properties(f),
        }
        for f in fields
    ]


def _get(field_id: int, object: str = "contact"):
    field = selectors_fields.field_get(field_id)
    if field.object != _object(object):
        raise ObjectDoesNotExist(f"field {field_id} is not a {object} field")
    return field


# A workspace has few fields, read whole: any of these sorts them (Mautic's column or property names).
ORDER_COLUMNS = {
    "id": "id",
    "label": "label",
    "alias": "alias",
    "type": "type",
    "group": "group",
    "field_group": "group",
    "order": "order",
    "field_order": "order",
    "object": "object",
    "date_added": "created_at",
    "dateAdded": "created_at",
}


def _list(params: ListParams, request, object: str = "contact") -> tuple[list[dict], int]:
    fields = selectors_fields.field_definitions(_object(object), include_archived=True)
    if params.search:
        wanted = params.search.lower()
        fields = [f for f in fields if wanted in f.label.lower() or wanted in f.alias]
    if params.published_only:
        fields = [f for f in fields if f.archived_at is None]  # an archived field is Mautic's unpublished one
    sort = sort_of(params, ORDER_COLUMNS)
    if sort is not None:
        key, descending = sort
        fields = sorted(fields, key=lambda f: (getattr(f, key), f.id), reverse=descending)
    return serialize_fields(fields[params.start : params.start + params.limit]), len(fields)


def _alias_from(label: str) -> str:
    folded = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")[:64]


def _options(properties) -> list | None:
    if not isinstance(properties, dict) or "list" not in properties:
        return None
    options = properties["list"]
    if isinstance(options, dict):
        options = list(options.values())
    if isinstance(options, str):
        options = [part for part in options.split("|") if part]
    return options


def _changes(data: dict) -> dict:
    changes: dict[str, Any] = {}
    if "label" in data:
        changes["label"] = str(data["label"] or "")
    if "group" in data:
        changes["group"] = str(data["group"] or "core")
    if "order" in data and str(data["order"]).isdigit():
        changes["order"] = int(data["order"])
    if "defaultValue" in data:
        changes["default_value"] = data["defaultValue"]
    if "category" in data:
        changes["category"] = str(data["category"] or "")
    for key, name in _FLAGS.items():
        if key in data:
            changes[name] = parse_bool(data[key])
    options = _options(data.get("properties"))
    if options is not None:
        changes["options"] = options
    return changes


def _acknowledged(data: dict) -> bool:
    return parse_bool(data.get("acknowledgeSensitive", ""))


def _create(request, data: dict, principal, *, method: str, object: str = "contact"):
    changes = _changes(data)
    field_type = str(data.get("type") or "text")
    return actions.field_create(
        alias=str(data.get("alias") or _alias_from(changes.get("label", ""))),
        label=changes.pop("label", ""),
        type=TYPES.get(field_type, field_type),
        object=_object(object),
        acknowledge_sensitive=_acknowledged(data),
        principal=principal,
        request=request,
        **changes,
    ), True


def _update(request, field_id: int, data: dict, method: str, principal, object: str = "contact"):
    _get(field_id, object)
    return actions.field_update(
        field_id, acknowledge_sensitive=_acknowledged(data), principal=principal, request=request, **_changes(data)
    )


def _delete(request, field_id: int, principal, object: str = "contact"):
    _get(field_id, object)
    actions.field_archive(field_id, principal=principal, request=request)


FIELDS = Resource(
    one="field",
    many="fields",
    list=_list,
    get=_get,
    serialize=serialize_fields,
    create=_create,
    update=_update,
    delete=_delete,
    view_permission="contacts:view",
    edit_permission="contacts:edit",
    delete_permission="contacts:edit",
    extra_route_kwargs=("object",),
    selectable=SELECTABLE,
    published="filter",
)

_views = standard_views(FIELDS)
_base = "fields/<str:object>"
urlpatterns = [
    path(_base, _views["list"], name="fields_list"),
    path(f"{_base}/new", _views["new"], name="fields_new"),
    path(f"{_base}/batch/new", _views["batch_new"], name="fields_batch_new"),
    path(f"{_base}/batch/edit", _views["batch_edit"], name="fields_batch_edit"),
    path(f"{_base}/batch/delete", _views["batch_delete"], name="fields_batch_delete"),
    path(f"{_base}/<int:id>", _views["get"], name="fields_get"),
    path(f"{_base}/<int:id>/edit", _views["edit"], name="fields_edit"),
    path(f"{_base}/<int:id>/delete", _views["delete"], name="fields_delete"),
]
