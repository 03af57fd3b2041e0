"""The native API of sending under /api/v1/: start a broadcast, send to one contact, list and follow sends.

Everything needs emails:send (reading sends too: they show who was skipped and why, by count). An email,
send or contact of another workspace is a 404 exactly like one that does not exist; a refused transition
(a second send of an email under way, a finished send paused) a 422 naming the field.
Mounted by tidings.api through EmailsConfig.api_modules (emails/api.py is the authoring routes' module).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tidings.accounts.decorators import require_permission
from tidings.api.errors import Unprocessable, found
from tidings.api.types import Id
from tidings.emails import selectors_sending
from tidings.emails.actions import sending

router = Router(tags=["emails"])

SEND = "emails:send"


class SendIn(Schema):
    scheduled_at: datetime.datetime | None = Field(None, description="Start at this time (default: now).")


class ContactSendIn(Schema):
    tokens: dict[str, str] = Field(default_factory=dict, description='Extra tokens, {"coupon": "SPRING"}: '
                                   "{coupon} in the email is replaced (HTML-escaped in the HTML body).")  # fmt: skip


class SendOut(Schema):
    id: int
    email_id: int
    version: int
    broadcast: bool
    status: str = Field(description="queued, running, paused, cancelled, finished or failed.")
    total: int = Field(description="Recipients counted when the send started.")
    done: int
    sent: int
    failed: int
    in_doubt: int = Field(description="Messages whose fate a crash left unknown; never sent again.")
    skipped: dict[str, int] = Field(description="Contacts skipped, by reason code.")
    scheduled_at: datetime.datetime | None
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    created_at: datetime.datetime


class SendPage(Schema):
    items: list[SendOut]
    next_before: int | None = Field(None, description="Pass as ?before= for the next (older) page.")


class DeliveryOut(Schema):
    send_id: int
    email_id: int
    contact_id: int
    status: str = Field(description="sent, skipped, failed or in_doubt.")
    reason: str = Field(description="Why it was skipped or failed: a code.")
    message_id: str
    sent_at: datetime.datetime | None


def send_out(send) -> dict:
    progress = selectors_sending.send_progress(send)
    return {name: getattr(send, name) for name in ("id", "email_id", "version", "broadcast", "scheduled_at",
                                                   "started_at", "finished_at", "created_at")} | progress  # fmt: skip


@router.post("/emails/{int:email_id}/send", response={202: SendOut}, summary="Send an email to its segments")
@found
@require_permission(SEND)
def start_send(request, email_id: Id, payload: SendIn | None = None):
    """Start a broadcast of a published email to the members of its segments (needs emails:send); 202 once queued."""
    try:
        send = sending.send_start(email_id, principal=request.principal, request=request,
                                  scheduled_at=payload.scheduled_at if payload else None)  # fmt: skip
    except ValidationError as error:
        raise Unprocessable.of(error) from error
    return Status(202, send_out(send))


@router.post(
    "/emails/{int:email_id}/contacts/{int:contact_id}/send", response=DeliveryOut, summary="Send an email to a contact"
)
@found
@require_permission(SEND)
def send_to_contact(request, email_id: Id, contact_id: Id, payload: ContactSendIn | None = None):
    """Send a published email to one contact now, with extra tokens (needs emails:send).

    The answer says whether it was sent, or skipped and why (no consent, Do-Not-Contact, suppressed...).
    """
    try:
        delivery = sending.send_to_contact(email_id, contact_id, tokens=payload.tokens if payload else None,
                                           principal=request.principal, request=request)  # fmt: skip
    except ValidationError as error:
        raise Unprocessable.of(error) from error
    return {name: getattr(delivery, name) for name in DeliveryOut.model_fields}


@router.get("/emails/{int:email_id}/sends", response=SendPage, summary="List an email's sends")
@found
@require_permission(SEND)
def list_email_sends(request, email_id: Id, before: Id | None = None, limit: int = Query(50, ge=1, le=200)):
    """Return the email's sends, newest first, with their progress (needs emails:send)."""
    selectors_sending.email_get(email_id)
    rows = selectors_sending.sends_page(email_id=email_id, after_id=before, limit=limit)
    return {"items": [send_out(s) for s in rows], "next_before": rows[-1].pk if len(rows) == limit else None}


@router.get("/sends", response=SendPage, summary="List sends")
@require_permission(SEND)
def list_sends(request, before: Id | None = None, limit: int = Query(50, ge=1, le=200)):
    """Return the workspace's sends, newest first, with their progress (needs emails:send)."""
    rows = selectors_sending.sends_page(after_id=before, limit=limit)
    return {"items": [send_out(s) for s in rows], "next_before": rows[-1].pk if len(rows) == limit else None}


@router.get("/sends/{send_id}", response=SendOut, summary="Get a send")
@found
@require_permission(SEND)
def get_send(request, send_id: Id):
    """Return one send with its progress and skips by reason (needs emails:send)."""
    return send_out(selectors_sending.send_get(send_id))


def _transition(action, request, send_id: int) -> dict:
    try:
        send = action(send_id, principal=request.principal, request=request)
    except ValidationError as error:
        raise Unprocessable.of(error) from error
    return send_out(send)


@router.post("/sends/{send_id}/pause", response=SendOut, summary="Pause a send")
@found
@require_permission(SEND)
def pause_send(request, send_id: Id):
    """Pause a queued or running send after the batch in hand (needs emails:send)."""
    return _transition(sending.send_pause, request, send_id)


@router.post("/sends/{send_id}/resume", response=SendOut, summary="Resume a send")
@found
@require_permission(SEND)
def resume_send(request, send_id: Id):
    """Resume a paused send from its checkpoint (needs emails:send)."""
    return _transition(sending.send_resume, request, send_id)


@router.post("/sends/{send_id}/cancel", response=SendOut, summary="Cancel a send")
@found
@require_permission(SEND)
def cancel_send(request, send_id: Id):
    """Cancel a send that has not finished (needs emails:send)."""
    return _transition(sending.send_cancel, request, send_id)
