"""The traffic dashboard of a site: visitors, page views and breakdowns from the cookieless counts.

Thin: the query string's period is parsed by traffic_report.parse_period, the site is read through
selectors.sites() (scoped to request.workspace: a site of another workspace is a 404, as one that
does not exist), and traffic_report.traffic_report returns the numbers with small groups already
suppressed. reports:view is enough, so an analyst sees it: nothing here names a person.
"""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse

from tidings.accounts.decorators import found, require_permission
from tidings.tracking import selectors
from tidings.tracking.traffic_report import (
    PRESET_DAYS,
    K,
    PeriodError,
    TrafficReport,
    default_period,
    parse_period,
    traffic_report,
)
from tidings.ui.charts import WIDE_WIDTH, Datum, bar_chart, time_series


@require_permission("reports:view")
def traffic_index(request, workspace_slug):
    """The workspace's sites, each linking to its traffic dashboard."""
    sites = [
        {
            "site": site,
            "url": reverse("tracking_traffic:site", kwargs={"workspace_slug": workspace_slug, "site_id": site.pk}),
        }
        for site in selectors.sites()
    ]
    return render(request, "tracking/traffic_index.html", {"sites": sites})


@found
@require_permission("reports:view")
def site_traffic(request, workspace_slug, site_id):
    """A site's traffic over a period (7, 30, 90 days or custom): charts, totals and breakdowns."""
    site = selectors.sites().get(pk=int(site_id))
    error = ""
    try:
        period = parse_period(request.GET)
    except PeriodError as problem:
        error = str(problem)
        period = default_period()
    report = traffic_report(site.pk, period)
    context = {
        "site": site,
        "report": report,
        "period": period,
        "error": error,
        "presets": [str(days) for days in PRESET_DAYS],
        "k": K,
        "visitors_chart": time_series(
            [(d.day, d.visitors) for d in report.series],
            title="Visitors by day",
            value_label="Visitors",
            empty_message="No visit in this period.",
        ),
        "views_chart": time_series(
            [(d.day, d.views) for d in report.series],
            title="Page views by day",
            value_label="Page views",
            empty_message="No page view in this period.",
        ),
        "hours_chart": _hours_chart(report),
    }
    return render(request, "tracking/traffic.html", context, status=400 if error else 200)


def _hours_chart(report: TrafficReport):
    return bar_chart(
        [Datum(f"{h.hour:%a %H}h", h.visitors) for h in report.hours],
        title="Visitors in the last 48 hours, by hour (UTC)",
        value_label="Visitors",
        label_column="Hour (UTC)",
        empty_message="No visit in the last 48 hours.",
        horizontal=False,
        width=WIDE_WIDTH,
    )
