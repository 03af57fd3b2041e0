"""Mautic's email sending API (EmailApiController::sendAction / sendLeadAction), on Tidings' sender.

    POST /api/emails/{id}/send                    {"success": 1, "sentCount": n, "failedRecipients": n}
    POST /api/emails/{id}/contact/{cid}/send      {"success": true}, or {"success": false, "failed": reason}

As in Mautic: an email that does not exist or is not published is a 404; tokens ({"name": value} or
{"{name}": value}) fill the email's extra tokens. What differs, by design: a broadcast is queued and sent
by the resumable sender in the background (Mautic sends in the request), so sentCount and failedRecipients
are 0 when the call returns and "sendId" names the send to follow (GET /api/v1/sends/{id}); "lists",
"limit" and "batch" are not read (the email's own segments are sent to, all of them). A contact who may
not get the email (no consent, Do-Not-Contact, suppressed) is {"success": false, "failed": "<reason>"}.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.urls import path

from tidings.accounts.decorators import require_permission
from tidings.emails import selectors_sending
from tidings.emails.actions import sending
from tidings.mautic_compat.decorators import mautic_api
from tidings.mautic_compat.parsing import request_data
from tidings.mautic_compat.responses import MauticError
from tidings.mautic_compat.standard import allow

SEND = "emails:send"


def _published_email(email_id: int):
    try:
        email = selectors_sending.email_get(email_id)
    except ObjectDoesNotExist as error:
        raise MauticError(404) from error
    if not email.published:
        raise MauticError(404)
    return email


def _message(error: ValidationError) -> str:
    return "; ".join(str(m) for messages in error.message_dict.values() for m in messages) if hasattr(
        error, "error_dict") else "; ".join(error.messages)  # fmt: skip


@mautic_api
@require_permission(SEND)
def send_to_segments(request, id):
    """POST /emails/{id}/send: queue the broadcast; {"success": 1, "sentCount": 0, "failedRecipients": 0, "sendId"}."""
    allow(request, "POST")
    request_data(request)  # a malformed body is a 400, as everywhere in Mautic's API
    _published_email(id)
    try:
        send = sending.send_start(id, principal=request.principal, request=request)
    except ValidationError as error:
        raise MauticError(400, _message(error)) from error
    return {"success": 1, "sentCount": 0, "failedRecipients": 0, "sendId": send.pk}


@mautic_api
@require_permission(SEND)
def send_to_contact(request, id, contact_id):
    """POST /emails/{id}/contact/{cid}/send with optional tokens: {"success": true} once sent."""
    allow(request, "POST")
    data = request_data(request)
    tokens = data.get("tokens") or {}
    if isinstance(tokens, list):
        tokens = dict(enumerate(tokens))
    if not isinstance(tokens, dict) or any(isinstance(v, dict | list) for v in tokens.values()):
        raise MauticError(400, "tokens: an object of token names and values.", {"tokens": ["an object"]})
    _published_email(id)
    try:
        delivery = sending.send_to_contact(id, contact_id, tokens={str(k): str(v) for k, v in tokens.items()},
                                           principal=request.principal, request=request)  # fmt: skip
    except ObjectDoesNotExist as error:
        raise MauticError(404) from error
    except ValidationError as error:
        raise MauticError(400, _message(error)) from error
    if delivery.status == "sent":
        return {"success": True}
    return {"success": False, "failed": delivery.reason or delivery.status}


urlpatterns = [
    path("emails/<int:id>/send", send_to_segments, name="emails_send"),
    path("emails/<int:id>/contact/<int:contact_id>/send", send_to_contact, name="emails_send_contact"),
]
