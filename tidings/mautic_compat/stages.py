"""Mautic's stage API (StageApiController): {id, name, category, weight, description, publishUp, publishDown}.

Besides the eight standard routes, ``POST /stages/{id}/contact/{cid}/add`` puts a contact in a
stage and ``.../remove`` takes it out (when it is in that stage), both answering {"success": 1}
and 404 for a stage or contact not in this workspace. A contact's body shows its stage with the
same keys (serialize_stage); ``"stage": null`` when it has none.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.urls import path

from tidings.accounts.decorators import require_permission
from tidings.contacts import actions, selectors_stages
from tidings.contacts.conditions import existing_contact_ids
from tidings.mautic_compat.decorators import mautic_api
from tidings.mautic_compat.parsing import ListParams, sort_of
from tidings.mautic_compat.responses import MauticError, mautic_datetime
from tidings.mautic_compat.standard import ENTITY_COLUMNS, Resource, allow, standard_urls

VIEW, EDIT = "contacts:view", "contacts:edit"

# Mautic's body keys -> the stage actions' value names.
_WRITABLE = {"name": "name", "description": "description", "weight": "weight", "isPublished": "is_published"}


def serialize_stage(stage) -> dict:
    """Return one stage as Mautic serialises it (its FormEntity columns included; stages have no category here)."""
    return {
        "isPublished": stage.is_published,
        "dateAdded": mautic_datetime(stage.created_at),
        "dateModified": mautic_datetime(stage.updated_at),
        "createdBy": None,
        "createdByUser": None,
        "modifiedBy": None,
        "modifiedByUser": None,
        "id": stage.id,
        "name": stage.name,
        "category": None,
        "weight": stage.weight,
        "description": stage.description or None,
        "publishUp": None,
        "publishDown": None,
    }


def serialize_stages(stages: list) -> list[dict]:
    return [serialize_stage(stage) for stage in stages]


ORDER_COLUMNS = {"id": "id", "name": "name", "weight": "weight"}


def _list(params: ListParams, request) -> tuple[list[dict], int]:
    sort = sort_of(params, ORDER_COLUMNS)
    order = "weight" if sort is None else ("-" if sort[1] else "") + sort[0]
    page = selectors_stages.stages_page(search=params.search, order=order, start=params.start, limit=params.limit,
                                 published_only=params.published_only)  # fmt: skip
    return serialize_stages(page.items), page.total or 0


def _values(data: dict, *, full: bool) -> dict:
    """Return the stage values a Mautic body names (full, a PUT or a create: description and weight default)."""
    values = {ours: data[theirs] for theirs, ours in _WRITABLE.items() if theirs in data}
    if full:
        values.setdefault("name", None)
        values.setdefault("description", "")
        values.setdefault("weight", 0)
    return values


def _create(request, data: dict, principal, *, method: str):
    return actions.stage_create(_values(data, full=True), principal=principal, request=request), True


def _update(request, stage_id: int, data: dict, method: str, principal):
    return actions.stage_update(stage_id, _values(data, full=method == "PUT"), principal=principal, request=request)


def _delete(request, stage_id: int, principal) -> None:
    actions.stage_delete(stage_id, principal=principal, request=request)


STAGES = Resource(
    one="stage",
    many="stages",
    list=_list,
    get=selectors_stages.stage_get,
    serialize=serialize_stages,
    create=_create,
    update=_update,
    delete=_delete,
    view_permission=VIEW,
    edit_permission=EDIT,
    delete_permission=EDIT,
    selectable=ENTITY_COLUMNS | {"name", "category", "weight", "description", "publishUp", "publishDown"},
    published="filter",
)


def _stage_and_contact(request, stage_id: int, contact_id: int):
    allow(request, "POST")
    try:
        stage = selectors_stages.stage_get(stage_id)
    except ObjectDoesNotExist as error:
        raise MauticError(404) from error
    if not existing_contact_ids([contact_id]):
        raise MauticError(404)
    return stage


@mautic_api
@require_permission(EDIT)
def add_contact(request, id, contact_id):
    """POST /stages/{id}/contact/{cid}/add: move the contact to the stage; {"success": 1}."""
    stage = _stage_and_contact(request, id, contact_id)
    actions.contacts_stage_change([contact_id], stage.id, principal=request.principal, request=request)
    return {"success": 1}


@mautic_api
@require_permission(EDIT)
def remove_contact(request, id, contact_id):
    """POST /stages/{id}/contact/{cid}/remove: take the contact out of the stage when it is in it; {"success": 1}."""
    stage = _stage_and_contact(request, id, contact_id)
    if selectors_stages.contact_stage_id(contact_id) == stage.id:
        actions.contacts_stage_change([contact_id], None, principal=request.principal, request=request)
    return {"success": 1}


urlpatterns = [
    *standard_urls("stages", "stages", STAGES),
    path("stages/<int:id>/contact/<int:contact_id>/add", add_contact, name="stages_add_contact"),
    path("stages/<int:id>/contact/<int:contact_id>/remove", remove_contact, name="stages_remove_contact"),
]
