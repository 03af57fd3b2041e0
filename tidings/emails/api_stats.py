"""Emails' native API for what came back: an email's stats, and the inbound endpoint for bounce messages.

    GET  /api/v1/emails/{id}/stats      counts of the email and each A/B variant (emails:view), and per day
    POST /api/v1/emails/bounces          a raw delivery status notification (RFC 3464), as an MTA's pipe
                                         or a mail hook forwards it (Content-Type message/rfc822): the
                                         bounces it reports are recorded (emails:bounces)

The bounce endpoint authenticates like every native API call (an API token: give the MTA a token of its
own scoped to emails:bounces), so it reuses the entry pipeline's credentials, limits and audit.
"""

from __future__ import annotations

import datetime

from ninja import Field, Query, Router, Schema

from tidings.accounts.decorators import require_permission
from tidings.api.errors import ApiError, BadRequest, found
from tidings.api.types import Id
from tidings.emails import bounces, selectors

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


class StatsOut(Schema):
    email_id: int
    total: CountsOut
    variants: list[VariantOut] = Field(description="The parent and each A/B variant; empty without variants.")
    series: list[DayOut] = Field(description="Opens and clicks per day, oldest first.")


class DsnOut(Schema):
    hard: int
    soft: int
    delayed: int
    ignored: int


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
        "series": [{"day": d.day, "opens": d.opens, "clicks": d.clicks} for d in series],
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
