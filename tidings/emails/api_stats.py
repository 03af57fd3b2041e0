"""Emails' native API for what came back: an email's stats, and the inbound endpoints for bounces and replies.

    GET  /api/v1/emails/{id}/stats      counts of the email and each A/B variant (emails:view), and per day
    POST /api/v1/emails/bounces          a raw delivery status notification (RFC 3464), as an MTA's pipe
                                         or a mail hook forwards it (Content-Type message/rfc822): the
                                         bounces it reports are recorded (emails:bounces)
    POST /api/v1/emails/replies          a raw received message (message/rfc822): a person's reply to one
                                         of our messages is recorded (emails:bounces; decision 0040); 422
                                         for anything else (an automatic answer, a report, not ours)

The inbound endpoints authenticate like every native API call (an API token: give the MTA a token of its
own scoped to emails:bounces), so it reuses the entry pipeline's credentials, limits and audit.
"""

from __future__ import annotations

import datetime

from ninja import Field, Query, Router, Schema

from tidings.accounts.decorators import require_permission
from tidings.api.errors import ApiError, BadRequest, found
from tidings.api.types import Id
from tidings.emails import bounces, replies, selectors

router = Router(tags=["emails"])

MAX_DSN_BYTES = bounces.MAX_DSN_BYTES


class CountsOut(Schema):
    sent: int = Field(description="Messages handed to the mail server (in-doubt ones included).")
    delivered: int = Field(description="Sent minus bounced.")
    opens: int = Field(description="Every open counted, whatever the contacts' consent (no contact recorded).")
    clicks: int = Field(description="Every click counted, whatever the contacts' consent.")
    opened: int = Field(description="Recipients known to have opened: only those who allow tracking.")
    clicked: int = Field(description="Recipients known to have clicked: only those who allow tracking.")
    unsubscribed: int
    replied: int = Field(
        description="Recipients who replied (whatever their consent; automatic answers are not replies)."
    )
    bounced: int
    hard_bounced: int
    complained: int
    failed: int
    in_doubt: int
    skipped: dict[str, int] = Field(description="Recipients not sent to, by reason code.")


class VariantOut(Schema):
    email_id: int
    name: str
    counts: CountsOut


class DayOut(Schema):
    day: datetime.date
    opens: int
    clicks: int
    replies: int = Field(description="Recipients' first replies.")


class StatsOut(Schema):
    email_id: int
    total: CountsOut
    variants: list[VariantOut] = Field(description="The parent and each A/B variant; empty without variants.")
    series: list[DayOut] = Field(description="Opens, clicks and replies per day, oldest first.")


class DsnOut(Schema):
    hard: int
    soft: int
    delayed: int
    ignored: int


class ReplyOut(Schema):
    email_id: int = Field(description="The email (the variant sent) the reply answers.")
    first: bool = Field(description="Whether this was the first reply to that message (only the first is counted).")


def _counts(counts) -> dict:
    return {name: getattr(counts, name) for name in CountsOut.model_fields}


@router.get("/emails/{int:email_id}/stats", response=StatsOut, summary="An email's stats")
@found
@require_permission("emails:view")
def email_stats(request, email_id: Id, days: int = Query(30, ge=1, le=366)):
    stats = selectors.email_stats(email_id)
    series = selectors.email_stats_series(email_id, days=days)
    return {
        "email_id": stats.email_id,
        "total": _counts(stats.total),
        "variants": [{"email_id": v.email_id, "name": v.name, "counts": _counts(v.counts)} for v in stats.variants],
        "series": [{"day": d.day, "opens": d.opens, "clicks": d.clicks, "replies": d.replies} for d in series],
    }


@router.post("/emails/bounces", response=DsnOut, summary="Report a bounce message (RFC 3464 DSN)")
@require_permission("emails:bounces")
def report_bounce(request):
    content_type = (request.content_type or "").lower()
    if content_type not in ("message/rfc822", "multipart/report", "text/plain", "application/octet-stream"):
        raise ApiError("Send the bounce message as it arrived, with Content-Type message/rfc822.", status=415)
    body = request.body
    if not body:
        raise BadRequest("The request body is empty.")
    outcome = bounces.dsn_record(body[:MAX_DSN_BYTES], principal=request.principal)
    if not outcome.is_dsn:
        raise ApiError("This is not a delivery status notification.", status=422)
    return {"hard": outcome.hard, "soft": outcome.soft, "delayed": outcome.delayed, "ignored": outcome.ignored}


@router.post("/emails/replies", response=ReplyOut, summary="Report a reply to one of our messages")
@require_permission("emails:bounces")
def report_reply(request):
    content_type = (request.content_type or "").lower()
    if content_type not in ("message/rfc822", "text/plain", "application/octet-stream"):
        raise ApiError("Send the message as it arrived, with Content-Type message/rfc822.", status=415)
    body = request.body
    if not body:
        raise BadRequest("The request body is empty.")
    outcome = replies.reply_message_record(body[: replies.MAX_REPLY_BYTES], principal=request.principal)
    if outcome.report:
        raise ApiError("This is a report (a bounce or a receipt), not a reply: send bounces to /emails/bounces.",
                       status=422)  # fmt: skip
    if outcome.automatic:
        raise ApiError("This is an automatic answer (an out-of-office or an autoresponder), not a reply.", status=422)
    if outcome.email_id is None:
        raise ApiError("This message does not reply to one of this workspace's messages.", status=422)
    return {"email_id": outcome.email_id, "first": outcome.first}
