"""The native API of the cookieless counts: GET /api/v1/sites/{site_id}/traffic.

The same numbers as the traffic dashboard, small groups suppressed the same way
(tidings.tracking.traffic_report): reports:view is enough. A site of another workspace is a 404
exactly like one that does not exist; a period that cannot be used is a 422 naming the parameter.

Mounted by tidings/tracking/api.py (router.add_router("", traffic_router)), as the API discovers
one router per app.
"""

from __future__ import annotations

import datetime
from typing import Annotated

import pydantic
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from ninja import Field, Query, Router, Schema

from tidings.accounts.decorators import require_permission
from tidings.inputs import INT64_MAX
from tidings.tracking import selectors
from tidings.tracking.traffic_report import K, PeriodError, parse_period, traffic_report

router = Router(tags=["traffic"])

# As tidings.api.types.Id: import-linter lets only an app's own api module use the API kit, and the
# API maps Django's Http404 and ValidationError to its 404 and 422 itself.
Id = Annotated[int, pydantic.Field(ge=1, le=INT64_MAX)]


class PeriodOut(Schema):
    start: datetime.date
    end: datetime.date
    preset: str = Field(description='"7", "30", "90" or "custom".')


class DayOut(Schema):
    day: datetime.date
    visitors: int
    views: int


class HourOut(Schema):
    hour: datetime.datetime
    visitors: int
    views: int


class RowOut(Schema):
    value: str = Field(description='The value ("" for none: direct traffic, no UTM tag, unknown country).')
    label: str
    state: str = Field(
        description=f'"shown"; "small" (fewer than {K} visitors: no numbers); "hidden" (hidden so that the '
        "small rows cannot be worked out from the totals: no numbers)."
    )
    visitors: int | None
    views: int | None


class OtherOut(Schema):
    values: int
    visitors: int
    views: int


class BreakdownOut(Schema):
    key: str
    title: str
    rows: list[RowOut]
    other: OtherOut | None = Field(description="The hidden and small rows together (only with a row of k or more).")
    small_values: int
    values: int
    all_small: bool = Field(description=f"Every value has fewer than {K} visitors: none is named.")


class TrafficOut(Schema):
    site_id: int
    period: PeriodOut
    k: int = Field(description="The smallest group whose numbers are shown.")
    visitors: int = Field(description="Unique visitors per day, summed over the period.")
    views: int
    series: list[DayOut]
    hours: list[HourOut] = Field(description="The last 48 hours by hour (UTC), whatever the period.")
    breakdowns: list[BreakdownOut]


@router.get("/sites/{site_id}/traffic", response=TrafficOut, summary="A site's cookieless traffic counts")
@require_permission("reports:view")
def site_traffic(
    request,
    site_id: Id,
    period: str = Query("", max_length=10, description="7, 30 (the default), 90 or custom."),
    start: str = Query("", max_length=10, description="YYYY-MM-DD, for a custom period."),
    end: str = Query("", max_length=10, description="YYYY-MM-DD, for a custom period (default: today)."),
):
    """Return a site's visitors, page views and breakdowns over a period, small groups suppressed."""
    try:
        site = selectors.sites().get(pk=site_id)
    except ObjectDoesNotExist as error:
        raise Http404("Not found.") from error
    try:
        chosen = parse_period({"period": period, "start": start, "end": end})
    except PeriodError as error:
        raise ValidationError({error.field: [str(error)]}) from error
    report = traffic_report(site.pk, chosen)
    return {
        "site_id": site.pk,
        "period": {"start": chosen.start, "end": chosen.end, "preset": chosen.preset},
        "k": K,
        "visitors": report.visitors,
        "views": report.views,
        "series": [vars(d) for d in report.series],
        "hours": [vars(h) for h in report.hours],
        "breakdowns": [
            {
                "key": b.key,
                "title": b.title,
                "rows": [vars(r) for r in b.rows],
                "other": vars(b.other) if b.other else None,
                "small_values": b.small_values,
                "values": b.values,
                "all_small": b.all_small,
            }
            for b in report.breakdowns
        ],
    }
