"""The native API of campaigns under /api/v1/: CRUD, publish/unpublish, add/remove contacts, a contact's journey.

Every endpoint states its permission (campaigns:view to read, campaigns:edit to write) and calls one selector
or action; tidings.api turns errors into the one error format: a campaign or contact of another workspace is
a 404 exactly like one that does not exist, an invalid graph a 422 keyed by its path ("graph.steps.2.email_id").
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tidings.accounts.decorators import require_permission
from tidings.api.errors import NotFound, Unprocessable, found
from tidings.api.pagination import paginate_keyset
from tidings.api.types import Id
from tidings.campaigns import actions, selectors
from tidings.contacts.conditions import existing_contact_ids
from tidings.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = Router(tags=["campaigns"])

VIEW, EDIT = "campaigns:view", "campaigns:edit"


class CampaignOut(Schema):
    id: int
    name: str
    description: str
    status: str = Field(description="draft, published or unpublished.")
    version: int = Field(description="The published version new entrants start on; 0 before the first publish.")
    graph: dict[str, Any] = Field(description="The draft graph (sources, entry, start, steps).")
    published_at: datetime.datetime | None
    max_steps_per_minute: int | None = Field(description="At most this many steps a minute; null: no limit.")
    contacts: dict[str, int] = Field(description="Contacts by enrolment status: active, finished, exited.")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class CampaignPage(Schema):
    items: list[CampaignOut]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null on the last page.")


class CampaignIn(Schema):
    name: str
    description: str = ""
    graph: dict[str, Any] | None = Field(None, description="The graph; see docs/decisions/0031-campaigns.md.")
    max_steps_per_minute: int | None = Field(None, description="A throttle: at most this many steps a minute.")


class CampaignPatch(Schema):
    name: str | None = None
    description: str | None = None
    graph: dict[str, Any] | None = None
    max_steps_per_minute: int | None = Field(None, description="null removes the throttle.")


class PublishIn(Schema):
    moves: dict[str, int] | None = Field(None, description="{old step id: new step id}: where the contacts "
                                         "waiting at a step of an older version go on.")  # fmt: skip


class ContactsIn(Schema):
    ids: list[int] = Field(description="Contact ids (at most 10,000).")


class ContactsOut(Schema):
    changed: int = Field(description="How many entered (add) or left (remove).")


class EnrolmentOut(Schema):
    contact_id: int
    version: int
    status: str
    entries: int
    source: str
    entered_at: datetime.datetime
    left_at: datetime.datetime | None
    exit_reason: str


class EnrolmentPage(Schema):
    items: list[EnrolmentOut]
    next_cursor: str | None = None


class RunOut(Schema):
    step: int
    version: int
    entry: int
    seq: int
    status: str
    outcome: str = Field(description="yes/no for a decision or condition; armed/waiting while it waits.")
    reason: str = Field(description="Why the step was skipped: a code.")
    due_at: datetime.datetime
    done_at: datetime.datetime | None


class EventOut(Schema):
    type: str
    at: datetime.datetime
    data: dict[str, Any]


class JourneyOut(Schema):
    enrolment: EnrolmentOut | None
    steps: list[RunOut]
    events: list[EventOut]


class StepCountsOut(Schema):
    steps: dict[str, dict[str, int]] = Field(description="{step id: {run status: count}}.")


def _out(campaign, counts: dict[str, int] | None = None) -> dict:
    names = ("id", "name", "description", "status", "version", "graph", "published_at", "max_steps_per_minute",
             "created_at", "updated_at")  # fmt: skip
    out = {name: getattr(campaign, name) for name in names}
    out["contacts"] = counts if counts is not None else selectors.enrolment_counts([campaign.pk])[campaign.pk]
    return out


def _enrolment(row) -> dict:
    return {name: getattr(row, name) for name in EnrolmentOut.model_fields}


@router.get("/campaigns", response=CampaignPage, summary="List campaigns")
@require_permission(VIEW)
def list_campaigns(request, limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT), cursor: str | None = None,
                   search: str = Query("", max_length=100)):  # fmt: skip
    """List the workspace's campaigns, newest first, with their contacts by status (needs campaigns:view)."""
    page = paginate_keyset(selectors.campaigns(search=search), ordering="-id", limit=limit, cursor=cursor)
    counts = selectors.enrolment_counts([c.pk for c in page["items"]])
    return {"items": [_out(c, counts[c.pk]) for c in page["items"]], "next_cursor": page["next_cursor"]}


@router.post("/campaigns", response={201: CampaignOut}, summary="Create a campaign")
@require_permission(EDIT)
def create_campaign(request, payload: CampaignIn):
    """Create a draft campaign (needs campaigns:edit); 422 keyed by field on an invalid name or graph."""
    try:
        campaign = actions.campaign_create(principal=request.principal, request=request, name=payload.name,
                                           description=payload.description, graph=payload.graph,
                                           max_steps_per_minute=payload.max_steps_per_minute)  # fmt: skip
    except ValidationError as error:
        raise Unprocessable.of(error) from error
    return Status(201, _out(campaign, {}))


@router.get("/campaigns/{int:campaign_id}", response=CampaignOut, summary="Get a campaign")
@found
@require_permission(VIEW)
def get_campaign(request, campaign_id: Id):
    """Return one campaign with its draft graph (needs campaigns:view)."""
    return _out(selectors.campaign_get(campaign_id))


@router.patch("/campaigns/{int:campaign_id}", response=CampaignOut, summary="Change a campaign")
@found
@require_permission(EDIT)
def update_campaign(request, campaign_id: Id, payload: CampaignPatch):
    """Change the name, description or draft graph (needs campaigns:edit); contacts see it once published."""
    nullable = ("description", "max_steps_per_minute")
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None or k in nullable}
    try:
        campaign = actions.campaign_update(campaign_id, principal=request.principal, request=request, **changes)
    except ValidationError as error:
        raise Unprocessable.of(error) from error
    return _out(campaign)


@router.delete("/campaigns/{int:campaign_id}", response={204: None}, summary="Delete a campaign")
@found
@require_permission(EDIT)
def delete_campaign(request, campaign_id: Id):
    """Delete a campaign with who is in it and their steps (needs campaigns:edit); their events stay."""
    actions.campaign_delete(campaign_id, principal=request.principal, request=request)
    return Status(204, None)


@router.post("/campaigns/{int:campaign_id}/publish", response=CampaignOut, summary="Publish a campaign")
@found
@require_permission(EDIT)
def publish_campaign(request, campaign_id: Id, payload: PublishIn | None = None):
    """Publish the draft as a new version (needs campaigns:edit); 422 when the graph is not ready."""
    try:
        campaign = actions.campaign_publish(campaign_id, principal=request.principal, request=request,
                                            moves=payload.moves if payload else None)  # fmt: skip
    except ValidationError as error:
        raise Unprocessable.of(error) from error
    return _out(campaign)


@router.post("/campaigns/{int:campaign_id}/unpublish", response=CampaignOut, summary="Unpublish a campaign")
@found
@require_permission(EDIT)
def unpublish_campaign(request, campaign_id: Id):
    """Stop a published campaign; contacts keep their place (needs campaigns:edit)."""
    try:
        campaign = actions.campaign_unpublish(campaign_id, principal=request.principal, request=request)
    except ValidationError as error:
        raise Unprocessable.of(error) from error
    return _out(campaign)


@router.get("/campaigns/{int:campaign_id}/steps", response=StepCountsOut, summary="Count a campaign's steps")
@found
@require_permission(VIEW)
def campaign_step_counts(request, campaign_id: Id):
    """Return how many runs of each step are due, done, skipped... (needs campaigns:view); from one aggregate."""
    selectors.campaign_get(campaign_id)
    return {"steps": {str(k): v for k, v in selectors.step_counts(campaign_id).items()}}


@router.get("/campaigns/{int:campaign_id}/contacts", response=EnrolmentPage, summary="List a campaign's contacts")
@found
@require_permission(VIEW)
def list_campaign_contacts(
    request,
    campaign_id: Id,
    status: str = Query("", max_length=10),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
):
    """List who is or was in the campaign, by enrolment (needs campaigns:view); status filters (active...)."""
    selectors.campaign_get(campaign_id)
    page = paginate_keyset(selectors.enrolments(campaign_id, status=status or None), ordering="id", limit=limit,
                           cursor=cursor)  # fmt: skip
    return {"items": [_enrolment(e) for e in page["items"]], "next_cursor": page["next_cursor"]}


def _change_contacts(change, request, campaign_id: int, ids: list[int], **options) -> dict:
    """Call change (the add or remove action) on ids; answer {"changed": n}, 422 keyed by field when refused."""
    try:
        changed = change(campaign_id, ids, principal=request.principal, request=request, **options)
    except ValidationError as error:
        raise Unprocessable.of(error) from error
    return {"changed": changed}


@router.post("/campaigns/{int:campaign_id}/contacts/add", response=ContactsOut, summary="Add contacts to a campaign")
@found
@require_permission(EDIT)
def add_campaign_contacts(request, campaign_id: Id, payload: ContactsIn):
    """Put contacts at the first step of a published campaign (needs campaigns:edit); unknown ids are skipped."""
    return _change_contacts(actions.campaign_contacts_add, request, campaign_id, payload.ids, source="api")


@router.post("/campaigns/{int:campaign_id}/contacts/remove", response=ContactsOut,
             summary="Remove contacts from a campaign")  # fmt: skip
@found
@require_permission(EDIT)
def remove_campaign_contacts(request, campaign_id: Id, payload: ContactsIn):
    """Take contacts out of a campaign, cancelling their steps still to do (needs campaigns:edit)."""
    return _change_contacts(actions.campaign_contacts_remove, request, campaign_id, payload.ids)


@router.get("/campaigns/{int:campaign_id}/contacts/{int:contact_id}", response=JourneyOut,
            summary="A contact's journey through a campaign")  # fmt: skip
@found
@require_permission(VIEW)
def contact_journey(request, campaign_id: Id, contact_id: Id):
    """Return a contact's place, steps and campaign events in a campaign (needs campaigns:view); 404 for a
    campaign or contact not in this workspace."""
    from tidings.events.registry import label

    selectors.campaign_get(campaign_id)
    if not existing_contact_ids([contact_id]):
        raise NotFound("Not found.")
    enrolment = next((e for e in selectors.contact_enrolments(contact_id) if e.campaign_id == campaign_id), None)
    runs = selectors.journey(campaign_id, contact_id)
    events = selectors.journey_events(campaign_id, contact_id)
    return {
        "enrolment": _enrolment(enrolment) if enrolment else None,
        "steps": [{name: getattr(r, name) for name in RunOut.model_fields} for r in runs],
        "events": [{"type": label(e.type), "at": e.at, "data": dict(e.data or {})} for e in events],
    }
