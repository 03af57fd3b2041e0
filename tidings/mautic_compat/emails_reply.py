"""Mautic's email reply API (EmailApiController::replyAction), on Tidings' reply recording.

    POST /api/emails/reply/{trackingHash}         201 {"success": true}

Mautic's trackingHash is the left part of its Message-ID, which a mail client quotes when the contact
replies; Tidings' is the left part of its own, `{send}.{contact}.{hmac8}` (tidings.emails.headers), checked
by its HMAC: a hash this workspace did not write, or one naming no delivery, is a 404 in Mautic's shape, as
Mautic answers for an unknown hash. As in Mautic, recording the same message's reply again answers 201; what
differs, by design: only a delivery's first reply is counted (decision 0040). Needs emails:bounces (the
inbound-mail permission: give the mail hook a token of its own).
"""

from __future__ import annotations

from django.urls import path

from tidings.accounts.decorators import require_permission
from tidings.emails.actions import feedback
from tidings.emails.headers import read_tracking_hash
from tidings.mautic_compat.decorators import mautic_api
from tidings.mautic_compat.responses import MauticError
from tidings.mautic_compat.standard import allow


@mautic_api
@require_permission("emails:bounces")
def reply(request, tracking_hash):
    """POST /emails/reply/{trackingHash}: record the contact's reply to the message; 201 {"success": true}."""
    allow(request, "POST")
    ref = read_tracking_hash(tracking_hash)
    if ref is None or feedback.reply_record(ref, principal=request.principal) is None:
        raise MauticError(404)
    return 201, {"success": True}


urlpatterns = [
    path("emails/reply/<str:tracking_hash>", reply, name="emails_reply"),
]
