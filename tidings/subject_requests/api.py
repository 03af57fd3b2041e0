"""The native API of data-subject requests under /api/v1/: record, list, read and act on requests.

privacy:view reads, privacy:requests records and acts (carrying out an erasure also needs privacy:erase,
an access request privacy:export, checked by the actions). A request of another workspace is a 404 like
one that does not exist; a step the lifecycle does not allow is a 422 naming the status.
"""

from __future__ import annotations

import datetime
from typing import Literal

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tidings.accounts.decorators import require_permission
from tidings.api.errors import found
from tidings.api.pagination import paginate_keyset
from tidings.api.types import Id
from tidings.pagination import DEFAULT_LIMIT, MAX_LIMIT
from tidings.subject_requests import actions, selectors
from tidings.subject_requests.models import RequestSource, SubjectRequest

router = Router(tags=["privacy"])

VIEW, HANDLE = "privacy:view", "privacy:requests"


class RequestOut(Schema):
    id: int
    kind: str = Field(description="access, rectification, erasure, restriction or objection.")
    status: str = Field(
        description="received, unverified, verified, approved, in_progress, extended, completed, denied."
    )
    source: str
    contact_id: int | None = Field(description="null once the contact is erased, or for an address of no contact.")
    received_at: datetime.datetime
    due_at: datetime.datetime
    verified_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    overdue: bool
    reason: str = Field(description="Why it was extended or denied (what the subject was told).")
    outcome: dict = Field(description='Counts only, e.g. {"erased": true} or {"purposes_withdrawn": 4}.')


class RequestPage(Schema):
    items: list[RequestOut]
    next_cursor: str | None = None


class RequestIn(Schema):
    kind: Literal["access", "rectification", "erasure", "restriction", "objection"]
    contact_id: Id
    details: str = Field("", description="What to rectify (stored encrypted under the contact's key).")
    verified: bool = Field(False, description="The caller checked the subject's identity; otherwise a link is mailed.")


class StepIn(Schema):
    step: Literal["verify", "resend", "approve", "start", "extend", "deny", "complete"]
    days: int | None = Field(None, description="extend: days to add (1 to 60 in all).")
    reason: str = Field("", description="extend and deny: the reason the subject is told.")


def _out(row: SubjectRequest) -> RequestOut:
    from django.utils import timezone

    return RequestOut(id=row.pk, kind=row.kind, status=row.status, source=row.source, contact_id=row.contact_id,
                      received_at=row.received_at, due_at=row.due_at, verified_at=row.verified_at,
                      closed_at=row.closed_at, overdue=row.is_open and row.due_at < timezone.now(),
                      reason=row.reason, outcome=row.outcome)  # fmt: skip


@router.get("/privacy/requests", response=RequestPage, summary="List data-subject requests")
@require_permission(VIEW)
def list_requests(request, status: str = "open", overdue: bool = False,
                  limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT), cursor: str | None = None):  # fmt: skip
    """Requests, the soonest due first; status open (default), closed, all, or one status."""
    page = paginate_keyset(selectors.requests_queue(status=status, overdue=overdue), ordering="due_at", limit=limit,
                           cursor=cursor)  # fmt: skip
    return {"items": [_out(row) for row in page["items"]], "next_cursor": page["next_cursor"]}


@router.post("/privacy/requests", response={201: RequestOut}, summary="Record a data-subject request")
@found
@require_permission(HANDLE)
def create_request(request, payload: RequestIn):
    """Record a request made for a contact (an open one of the same kind is returned instead, 201 either way)."""
    row = actions.request_receive(payload.kind, principal=request.principal, source=RequestSource.API,
                                  contact_id=payload.contact_id, details=payload.details, verified=payload.verified,
                                  request=request)  # fmt: skip
    return Status(201, _out(row))


@router.get("/privacy/requests/{request_id}", response=RequestOut, summary="Get a data-subject request")
@found
@require_permission(VIEW)
def get_request(request, request_id: Id):
    return _out(selectors.request_get(request_id))


@router.post("/privacy/requests/{request_id}/steps", response=RequestOut, summary="Move a request along")
@found
@require_permission(HANDLE)
def act_on_request(request, request_id: Id, payload: StepIn):
    """Take one step of the lifecycle; 422 when the request's status does not allow it."""
    common = {"principal": request.principal, "request": request}
    if payload.step == "extend":
        row = actions.request_extend(request_id, days=payload.days or 0, reason=payload.reason, **common)
    elif payload.step == "deny":
        row = actions.request_deny(request_id, reason=payload.reason, **common)
    else:
        step = {"verify": actions.request_verify, "resend": actions.request_resend_verification,
                "approve": actions.request_approve, "start": actions.request_start,
                "complete": actions.request_complete}[payload.step]  # fmt: skip
        row = step(request_id, **common)
    return _out(row)
