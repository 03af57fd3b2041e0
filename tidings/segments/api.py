"""The native API of segments under /api/v1/: definitions, live previews, rebuilds and manual membership.

Every endpoint states its permission (segments:view to read, segments:edit to write), calls one
selector or action of tidings.segments and lets tidings.api turn errors into the one error
format: a segment or contact of another workspace is a 404 exactly like one that does not exist,
an invalid definition a 422 whose fields are the filters' paths ("filters.2.value"), with
messages that never repeat a value.

Definitions go in and out in the native JSON format (tidings/segments/definition.py). Values of filters on
encrypted fields are stored sealed and shown opened to callers who hold segments:view only.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tidings.accounts.decorators import require_permission
from tidings.api.errors import Conflict, NotFound, Unprocessable, found, validation_fields
from tidings.api.pagination import paginate_keyset
from tidings.api.types import Id
from tidings.contacts.conditions import existing_contact_ids
from tidings.pagination import DEFAULT_LIMIT, MAX_LIMIT
from tidings.segments import actions, selectors
from tidings.segments.models import MembershipStatus

router = Router(tags=["segments"])

VIEW, EDIT = "segments:view", "segments:edit"
MEMBERS_LIMIT = 1000  # contact ids per add or remove call


# ==============================================================================================
# Schemas


class SegmentSummaryOut(Schema):
    id: int
    name: str
    alias: str
    description: str
    is_published: bool
    in_preference_centre: bool = Field(description="A subscription list contacts may join or leave themselves.")
    member_count: int = Field(description="Members (filter matches and manual adds) at the last change.")
    rebuilt_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class SegmentOut(SegmentSummaryOut):
    definition: dict[str, Any] = Field(description="The filters, in the native definition format.")
    rebuild_seconds: float | None
    created_by: int | None


class SegmentPage(Schema):
    items: list[SegmentSummaryOut]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null on the last page.")


class SegmentIn(Schema):
    name: str
    alias: str = Field("", description="A slug unique in the workspace; made from the name when empty.")
    description: str = ""
    definition: dict[str, Any] = Field(
        default_factory=lambda: {"match": "all", "filters": []},
        description='{"match": "all"|"any", "filters": [...]}; no filter matches nobody.',
    )
    is_published: bool = True
    in_preference_centre: bool = False


class SegmentPatch(Schema):
    name: str | None = None
    alias: str | None = None
    description: str | None = None
    definition: dict[str, Any] | None = Field(None, description="A new definition rebuilds the segment.")
    is_published: bool | None = None
    in_preference_centre: bool | None = None


class SegmentPreviewIn(Schema):
    definition: dict[str, Any]


class SegmentPreviewOut(Schema):
    count: int
    capped: bool = Field(description=f"True when more than {selectors.PREVIEW_COUNT_CAP} contacts match.")
    sample_ids: list[int] = Field(description="Ids of a few matching contacts, newest first.")


class SegmentRebuildOut(Schema):
    added: int
    removed: int
    members: int
    seconds: float


class SegmentMemberOut(Schema):
    contact_id: int
    added_manually: bool
    added_at: datetime.datetime


class SegmentMemberPage(Schema):
    items: list[SegmentMemberOut]
    next_cursor: str | None = None


class SegmentMembersIn(Schema):
    ids: list[Id] = Field(..., min_length=1, max_length=MEMBERS_LIMIT, description="Contact ids.")


class SegmentMembersChangedOut(Schema):
    changed: int = Field(description="Contacts that joined (add) or left (remove) the segment.")
    member_count: int
    not_found: list[int] = Field(description="The ids sent that name no contact of this workspace.")


class ContactSegmentOut(Schema):
    id: int
    name: str
    alias: str
    added_manually: bool
    added_at: datetime.datetime


# ==============================================================================================
# Shaping


def _summary(segment) -> dict:
    return {
        "id": segment.pk,
        "name": segment.name,
        "alias": segment.alias,
        "description": segment.description,
        "is_published": segment.is_published,
        "in_preference_centre": segment.in_preference_centre,
        "member_count": segment.member_count,
        "rebuilt_at": segment.rebuilt_at,
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
    }


def _segment_out(request, segment) -> dict:
    may_view = request.principal.can(VIEW)
    return {
        **_summary(segment),
        "definition": selectors.definition_for_display(segment.definition, open_sealed=may_view),
        "rebuild_seconds": segment.rebuild_seconds,
        "created_by": segment.created_by,
    }


def _member_out(row) -> dict:
    return {
        "contact_id": row.contact_id,
        "added_manually": row.status == MembershipStatus.ADDED,
        "added_at": row.created_at,
    }


# ==============================================================================================
# Segments


@router.get("/segments", response=SegmentPage, summary="List segments with their member counts")
@require_permission(VIEW)
def list_segments(
    request,
    search: str = Query("", max_length=191, description="Part of the name, case-insensitive."),
    published: bool | None = Query(None, description="true: published segments only."),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
):
    """List the workspace's segments by name, one keyset page at a time (needs segments:view)."""
    segments = selectors.segments_list(search=search, published_only=bool(published))
    page = paginate_keyset(segments, ordering="name", limit=limit, cursor=cursor)
    return {"items": [_summary(s) for s in page["items"]], "next_cursor": page["next_cursor"]}


@router.post("/segments", response={201: SegmentOut}, summary="Create a segment")
@require_permission(EDIT)
def create_segment(request, payload: SegmentIn):
    """Create a segment and build its membership (needs segments:edit).

    422 on an invalid name, a taken alias or a definition that does not check, each keyed by field
    or by filter path ("definition.filters.0.value").
    """
    _refuse_sealed(payload.definition)
    try:
        segment = actions.segment_create(
            principal=request.principal,
            name=payload.name,
            alias=payload.alias,
            description=payload.description,
            definition=payload.definition,
            is_published=payload.is_published,
            in_preference_centre=payload.in_preference_centre,
            request=request,
        )
    except ValidationError as error:
        raise _unprocessable(error) from error
    return Status(201, _segment_out(request, selectors.segment_get(segment.pk)))


@router.post("/segments/preview", response=SegmentPreviewOut, summary="Count the contacts a definition matches")
@require_permission(VIEW)
def preview_segment(request, payload: SegmentPreviewIn):
    """Return how many contacts a definition matches now and a few of their ids, saving nothing (segments:view)."""
    _refuse_sealed(payload.definition)
    try:
        preview = selectors.segment_preview(payload.definition)
    except ValidationError as error:
        raise _unprocessable(error) from error
    return {"count": preview.count, "capped": preview.capped, "sample_ids": preview.sample_ids}


@router.get("/segments/{segment_id}", response=SegmentOut, summary="Get a segment and its definition")
@found
@require_permission(VIEW)
def get_segment(request, segment_id: int):
    """Return one segment with its definition (needs segments:view); 404 when not in this workspace."""
    return _segment_out(request, selectors.segment_get(segment_id))


@router.patch("/segments/{segment_id}", response=SegmentOut, summary="Change a segment")
@found
@require_permission(EDIT)
def update_segment(request, segment_id: int, payload: SegmentPatch):
    """Change the given attributes (needs segments:edit); a new definition rebuilds the membership."""
    changes = {name: value for name, value in payload.dict(exclude_unset=True).items() if value is not None}
    _refuse_sealed(changes.get("definition"))
    try:
        actions.segment_update(segment_id, principal=request.principal, request=request, **changes)
    except ValidationError as error:
        raise _unprocessable(error) from error
    return _segment_out(request, selectors.segment_get(segment_id))


@router.delete("/segments/{segment_id}", response={204: None}, summary="Delete a segment")
@found
@require_permission(EDIT)
def delete_segment(request, segment_id: int):
    """Delete a segment and its memberships (needs segments:edit); 409 while other segments' filters name it."""
    try:
        actions.segment_delete(segment_id, principal=request.principal, request=request)
    except ValidationError as error:
        raise Conflict(
            "Other segments' filters name this segment.", details={"fields": validation_fields(error)}
        ) from error
    return Status(204, None)


@router.post("/segments/{segment_id}/rebuild", response=SegmentRebuildOut, summary="Rebuild a segment now")
@found
@require_permission(EDIT)
def rebuild_segment(request, segment_id: int):
    """Recompute the members the filters match and apply the difference; manual adds and removes stay."""
    result = actions.segment_rebuild(segment_id, principal=request.principal)
    return {"added": result.added, "removed": result.removed, "members": result.members, "seconds": result.seconds}


# ==============================================================================================
# Members


@router.get("/segments/{segment_id}/members", response=SegmentMemberPage, summary="List a segment's members")
@found
@require_permission(VIEW)
def list_segment_members(
    request,
    segment_id: int,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
):
    """List the contact ids of a segment's members by id, one keyset page at a time (needs segments:view)."""
    selectors.segment_get(segment_id)
    page = paginate_keyset(selectors.segment_members(segment_id), ordering="contact_id", limit=limit, cursor=cursor)
    return {"items": [_member_out(row) for row in page["items"]], "next_cursor": page["next_cursor"]}


def _change_members(request, segment_id: int, ids: list[int], change) -> dict:
    found = set(existing_contact_ids(ids))
    changed = change(segment_id, sorted(found), principal=request.principal, request=request)
    return {
        "changed": changed,
        "member_count": selectors.segment_get(segment_id).member_count,
        "not_found": [pk for pk in dict.fromkeys(ids) if pk not in found],
    }


@router.post("/segments/{segment_id}/members/add", response=SegmentMembersChangedOut, summary="Add contacts by hand")
@found
@require_permission(EDIT)
def add_segment_members(request, segment_id: int, payload: SegmentMembersIn):
    """Add up to 1,000 contacts; they stay members whatever the filters say (needs segments:edit).

    Ids that name no contact of this workspace are listed in not_found and change nothing.
    """
    return _change_members(request, segment_id, payload.ids, actions.segment_members_add)


@router.post(
    "/segments/{segment_id}/members/remove", response=SegmentMembersChangedOut, summary="Remove contacts by hand"
)
@found
@require_permission(EDIT)
def remove_segment_members(request, segment_id: int, payload: SegmentMembersIn):
    """Remove up to 1,000 contacts; they stay out whatever the filters say (needs segments:edit)."""
    return _change_members(request, segment_id, payload.ids, actions.segment_members_remove)


@router.get("/contacts/{contact_id}/segments", response=list[ContactSegmentOut], summary="The segments a contact is in")
@found
@require_permission(VIEW)
def list_contact_segments(request, contact_id: int):
    """Return the segments a contact is a member of, by name (needs segments:view); 404 for an unknown contact."""
    if not existing_contact_ids([contact_id]):
        raise NotFound("Not found.")
    return [
        {
            "id": segment.pk,
            "name": segment.name,
            "alias": segment.alias,
            "added_manually": membership.status == MembershipStatus.ADDED,
            "added_at": membership.created_at,
        }
        for segment, membership in selectors.contact_memberships(contact_id)
    ]


def _refuse_sealed(definition: Any) -> None:
    """Raise a 422 when a client's definition carries value_sealed: Tidings seals clear values itself.

    A sealed value taken from a client could be one sealed for another purpose under this
    workspace's key; the API shows values opened, so a client never needs to send one.
    """
    errors: dict[str, list[str]] = {}

    def visit(group: Any, path: str) -> None:
        filters = group.get("filters") if isinstance(group, dict) else None
        for index, node in enumerate(filters if isinstance(filters, list) else []):
            if isinstance(node, dict):
                if "value_sealed" in node:
                    errors[f"{path}.filters.{index}.value_sealed"] = ["send the value; Tidings seals it"]
                visit(node, f"{path}.filters.{index}")

    visit(definition, "definition")
    if errors:
        raise Unprocessable("The request is not valid.", details={"fields": errors})


def _unprocessable(error: ValidationError):
    """Return the 422 of a definition's ValidationError, filter paths under "definition." as the body names them."""
    fields = {
        (key if key in _ATTRIBUTES else f"definition.{key}"): messages
        for key, messages in validation_fields(error).items()
    }
    return Unprocessable("The request is not valid.", details={"fields": fields})


_ATTRIBUTES = {"name", "alias", "description", "is_published", "definition", "request", "segment", "ids"}
