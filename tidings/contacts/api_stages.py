"""The native API of contact stages under /api/v1/: list, read, create, change, delete, and a contact's stage.

As the rest of contacts' native API (tidings.contacts.api): contacts:view to read, contacts:edit
to write (the stage actions check it again); a stage or contact of another workspace is a 404
exactly like one that does not exist; invalid values are a 422 naming each field. The list is
keyset-paginated (?limit=&cursor=, {"items": [...], "next_cursor": ...}) in one query a page.
"""

from __future__ import annotations

import datetime

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tidings.accounts.decorators import require_permission
from tidings.api.errors import NotFound, found
from tidings.api.types import Int32
from tidings.contacts import actions, selectors_stages
from tidings.contacts.actions.stages import MAX_STAGE_DESCRIPTION, MAX_STAGE_NAME
from tidings.contacts.selectors import DEFAULT_LIMIT, MAX_LIMIT

router = Router(tags=["stages"])

VIEW, EDIT = "contacts:view", "contacts:edit"


class StageOut(Schema):
    id: int = Field(..., description="The stage's id (of this workspace).")
    name: str = Field(..., description="Unique in the workspace, case ignored.")
    description: str = Field(..., description="What the stage means to the team.")
    weight: int = Field(..., description="Stages are listed by weight, lowest first (Mautic's order); may tie.")
    is_published: bool = Field(..., description="An unpublished stage is offered nowhere new; contacts keep it.")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class StagePage(Schema):
    items: list[StageOut]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null on the last one.")


class StageIn(Schema):
    name: str = Field(..., description=f"1 to {MAX_STAGE_NAME} characters; spaces are collapsed.")
    description: str = Field("", description=f"At most {MAX_STAGE_DESCRIPTION} characters.")
    weight: Int32 = Field(0, description="The order among stages, lowest first (a 32-bit whole number).")
    is_published: bool = Field(True, description="Whether the stage is offered for new choices.")


class StagePatch(Schema):
    name: str | None = Field(None, description=f"1 to {MAX_STAGE_NAME} characters; spaces are collapsed.")
    description: str | None = Field(None, description=f"At most {MAX_STAGE_DESCRIPTION} characters; null clears it.")
    weight: Int32 | None = Field(None, description="The order among stages, lowest first; null sets 0.")
    is_published: bool | None = Field(None, description="Whether the stage is offered for new choices.")


class ContactStageOut(Schema):
    contact_id: int
    stage: StageOut | None = Field(..., description="The contact's stage now (null: none).")


@router.get("/stages", response=StagePage, summary="List stages by weight")
@require_permission(VIEW)
def list_stages(
    request,
    search: str = Query("", description="Name prefix, case-insensitive."),
    published_only: bool = Query(False, description="Only the stages offered for new choices."),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, description="next_cursor of the previous page."),
):
    """List the workspace's stages by weight (ties by id), one keyset page at a time (needs contacts:view)."""
    page = selectors_stages.stages_page(
        search=search, start=None, after=cursor, limit=limit, published_only=published_only
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/stages/{stage_id}", response=StageOut, summary="Get a stage")
@found
@require_permission(VIEW)
def get_stage(request, stage_id: int):
    """Return one stage (needs contacts:view)."""
    return selectors_stages.stage_get(stage_id)


@router.post("/stages", response={201: StageOut}, summary="Create a stage")
@require_permission(EDIT)
def create_stage(request, payload: StageIn):
    """Create a stage (needs contacts:edit); 422 on an empty, long or taken name (case ignored)."""
    return Status(201, actions.stage_create(payload.dict(), principal=request.principal, request=request))


@router.patch("/stages/{stage_id}", response=StageOut, summary="Change a stage")
@found
@require_permission(EDIT)
def update_stage(request, stage_id: int, payload: StagePatch):
    """Change the stage values the body names; the others are kept (needs contacts:edit). 422 as for create."""
    values = payload.dict(exclude_unset=True)
    return actions.stage_update(stage_id, values, principal=request.principal, request=request)


@router.delete("/stages/{stage_id}", response={204: None}, summary="Delete a stage")
@found
@require_permission(EDIT)
def delete_stage(request, stage_id: int):
    """Delete a stage and take it off its contacts, who keep their timelines (needs contacts:edit)."""
    actions.stage_delete(stage_id, principal=request.principal, request=request)
    return Status(204, None)


@router.put("/stages/{stage_id}/contacts/{contact_id}", response=ContactStageOut, summary="Put a contact in a stage")
@found
@require_permission(EDIT)
def add_stage_contact(request, stage_id: int, contact_id: int):
    """Move a contact to the stage, from any other (idempotent; needs contacts:edit). 404 for either id not found."""
    stage = selectors_stages.stage_get(stage_id)
    selectors_stages.contact_stage_id(contact_id)
    actions.contacts_stage_change([contact_id], stage.id, principal=request.principal, request=request)
    return {"contact_id": contact_id, "stage": stage}


@router.delete(
    "/stages/{stage_id}/contacts/{contact_id}", response={204: None}, summary="Take a contact out of a stage"
)
@found
@require_permission(EDIT)
def remove_stage_contact(request, stage_id: int, contact_id: int):
    """Leave the contact without a stage; 404 when it is not in this one (needs contacts:edit)."""
    stage = selectors_stages.stage_get(stage_id)
    if selectors_stages.contact_stage_id(contact_id) != stage.id:
        raise NotFound("This contact is not in this stage.")
    actions.contacts_stage_change([contact_id], None, principal=request.principal, request=request)
    return Status(204, None)
