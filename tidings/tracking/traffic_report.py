"""Reads of the cookieless counts for the traffic dashboard and its API, with small groups suppressed.

The promise "aggregates only, never small groups" holds for every breakdown this module returns
(pages, referrers, UTM tags, devices, OS, browsers, countries over a period):

1. A row with fewer than K (10) visitors is suppressed: its value is listed as "fewer than 10",
   with neither its visitors nor its page views.
2. Its numbers cannot be worked out from the totals either (differencing). Every hit is counted in
   every dimension, the "none" value included (direct traffic, no UTM tag, unknown country), so a
   breakdown's rows add up to the site's page views. Subtracting the rows shown from the total would
   therefore give the suppressed rows' sum, and one suppressed row's exact numbers. So whenever a
   breakdown suppresses a row, its smallest row of K visitors or more is hidden too (complementary
   suppression): what the totals minus the rows shown leave is always a group that includes at least
   K visitors, never the small rows alone. The hidden rows are shown together as "other" (their
   values count and combined numbers), which is what subtraction would give anyway.
3. A breakdown where no row reaches K names no value at all (listing the only country of a site's
   three visitors would tell everyone's country).

The totals and the daily chart are exact: they describe the whole site (no attribute of anyone).
Comparing two overlapping periods can still narrow a row's count on the days where they differ
(rows of K or more in both periods are shown in both); shared or public reports built from here
should use whole preset periods, or rounding, if that matters to them.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import Sum
from django.utils import timezone

from tidings.countries import country_name
from tidings.tracking.models_traffic import Dimension, TrafficDay, TrafficHour

K = 10  # the smallest group shown
PRESET_DAYS = (7, 30, 90)
DEFAULT_DAYS = 30
MAX_CUSTOM_DAYS = 366
EARLIEST = datetime.date(2000, 1, 1)
BREAKDOWN_LIMIT = 10  # rows shown (and suppressed values named) per breakdown

BREAKDOWNS: tuple[tuple[int, str, str, str], ...] = (
    # dimension, key (API), title, label of the "none" value
    (Dimension.PAGE, "pages", "Top pages", "(no page)"),
    (Dimension.REFERRER, "referrers", "Referrers", "Direct or none"),
    (Dimension.UTM_SOURCE, "utm_sources", "UTM sources", "(not set)"),
    (Dimension.UTM_MEDIUM, "utm_mediums", "UTM mediums", "(not set)"),
    (Dimension.UTM_CAMPAIGN, "utm_campaigns", "UTM campaigns", "(not set)"),
    (Dimension.DEVICE, "devices", "Devices", "Unknown"),
    (Dimension.OS, "operating_systems", "Operating systems", "Unknown"),
    (Dimension.BROWSER, "browsers", "Browsers", "Unknown"),
    (Dimension.COUNTRY, "countries", "Countries", "Unknown"),
)


class PeriodError(ValueError):
    """A period asked for in a query string that cannot be used (the message names the parameter only)."""

    def __init__(self, message: str, field: str = "period"):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Period:
    """Days start..end, both included (UTC days); preset is "7", "30", "90" or "custom"."""

    start: datetime.date
    end: datetime.date
    preset: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def default_period(today: datetime.date | None = None) -> Period:
    today = today or timezone.now().astimezone(datetime.UTC).date()
    return Period(today - datetime.timedelta(days=DEFAULT_DAYS - 1), today, str(DEFAULT_DAYS))


def parse_period(query: Mapping[str, str], today: datetime.date | None = None) -> Period:
    """Return the period named by query's "period" (7, 30, 90 or custom) with "start" and "end" for custom.

    Without "period", start and end make a custom period and neither gives the default (30 days).
    Raise PeriodError for an unknown preset, a malformed or impossible date, an end before the start,
    a start before 2000 or after today, or more than 366 days.
    """
    today = today or timezone.now().astimezone(datetime.UTC).date()
    preset = str(query.get("period") or "").strip()
    start_text, end_text = str(query.get("start") or "").strip(), str(query.get("end") or "").strip()
    if not preset:
        if not start_text and not end_text:
            return default_period(today)
        preset = "custom"
    if preset in {str(days) for days in PRESET_DAYS}:
        return Period(today - datetime.timedelta(days=int(preset) - 1), today, preset)
    if preset != "custom":
        raise PeriodError("Choose a period of 7, 30 or 90 days, or a custom one.")
    if not start_text:
        raise PeriodError("A custom period needs a start date.", "start")
    start = _date(start_text, "start")
    end = _date(end_text, "end") if end_text else today
    if start < EARLIEST:
        raise PeriodError("The start date is too early.", "start")
    if start > today:
        raise PeriodError("The start date is in the future.", "start")
    end = min(end, today)
    if end < start:
        raise PeriodError("The end date is before the start date.", "end")
    if (end - start).days + 1 > MAX_CUSTOM_DAYS:
        raise PeriodError(f"A custom period is at most {MAX_CUSTOM_DAYS} days.")
    return Period(start, end, "custom")


def _date(text: str, name: str) -> datetime.date:
    if len(text) != 10:
        raise PeriodError(f"Write the {name} date as YYYY-MM-DD.", name)
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"Write the {name} date as YYYY-MM-DD.", name) from None


# ----------------------------------------------------------------------------------------------
# Suppression


@dataclass(frozen=True)
class Row:
    """One value of a breakdown: numbers only when state is "shown"."""

    value: str
    label: str
    state: str  # "shown", "small" (fewer than K visitors) or "hidden" (protects the small rows)
    visitors: int | None = None
    views: int | None = None


@dataclass(frozen=True)
class Other:
    """The hidden rows together: how many values, their visitors and page views combined."""

    values: int
    visitors: int
    views: int


@dataclass(frozen=True)
class Breakdown:
    key: str
    title: str
    rows: list[Row]
    other: Other | None = None  # combined numbers of the hidden rows, when they include K visitors or more
    small_values: int = 0  # values with fewer than K visitors (named in rows up to the limit)
    values: int = 0  # distinct values in the period
    all_small: bool = False  # no value reaches K: none is named


def suppress(
    key: str, title: str, counted: list[tuple[str, int, int]], *, none_label: str = "", limit: int = BREAKDOWN_LIMIT
) -> Breakdown:
    """Return the breakdown of counted (value, visitors, views) with small groups suppressed (module docstring)."""
    ordered = sorted(counted, key=lambda r: (-r[1], -r[2], r[0]))
    large = [r for r in ordered if r[1] >= K]
    small = [r for r in ordered if r[1] < K]

    def label(value: str) -> str:
        if not value:
            return none_label
        return (country_name(value) or value) if key == "countries" else value

    if not large:
        return Breakdown(key, title, rows=[], small_values=len(small), values=len(ordered), all_small=bool(small))
    shown, beyond = large[:limit], large[limit:]
    hidden = list(beyond)
    complementary = None
    if small and not beyond:
        complementary = shown.pop()  # the smallest shown row joins the hidden ones (see the module docstring)
        hidden.append(complementary)
    rows = [Row(v, label(v), "shown", visitors, views) for v, visitors, views in shown]
    if complementary is not None:
        rows.append(Row(complementary[0], label(complementary[0]), "hidden"))
    rows += [Row(v, label(v), "small") for v, _, _ in small[: max(0, limit - len(rows))]]
    hidden += small
    other = None
    if hidden:
        other = Other(len(hidden), sum(r[1] for r in hidden), sum(r[2] for r in hidden))
    return Breakdown(key, title, rows=rows, other=other, small_values=len(small), values=len(ordered))


# ----------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class DayCount:
    day: datetime.date
    visitors: int
    views: int


@dataclass(frozen=True)
class HourCount:
    hour: datetime.datetime
    visitors: int
    views: int


@dataclass
class TrafficReport:
    site_id: int
    period: Period
    visitors: int = 0
    views: int = 0
    series: list[DayCount] = field(default_factory=list)
    hours: list[HourCount] = field(default_factory=list)
    breakdowns: list[Breakdown] = field(default_factory=list)


def traffic_report(site_id: int, period: Period, *, limit: int = BREAKDOWN_LIMIT) -> TrafficReport:
    """Return the current workspace's counts of site_id over period, small groups suppressed.

    Three queries whatever the period: the daily totals, every breakdown's values summed over the
    period, and the last 48 hours by hour. The caller checks that the site is the workspace's
    (selectors.sites()): rows of a site id of another workspace are not in this workspace's scope.
    """
    in_period = TrafficDay.objects.filter(site_id=site_id, day__gte=period.start, day__lte=period.end)
    by_day = {
        row["day"]: row
        for row in in_period.filter(dimension=Dimension.TOTAL).values("day").annotate(v=Sum("visitors"), p=Sum("views"))
    }
    series = []
    day = period.start
    while day <= period.end:
        row = by_day.get(day)
        series.append(DayCount(day, int(row["v"]) if row else 0, int(row["p"]) if row else 0))
        day += datetime.timedelta(days=1)
    counted: dict[int, list[tuple[str, int, int]]] = {}
    grouped = (
        in_period.exclude(dimension=Dimension.TOTAL)
        .values("dimension", "value_key", "value")
        .annotate(v=Sum("visitors"), p=Sum("views"))
    )
    for row in grouped:
        counted.setdefault(row["dimension"], []).append((row["value"], int(row["v"]), int(row["p"])))
    breakdowns = [
        suppress(key, title, counted.get(dimension, []), none_label=none_label, limit=limit)
        for dimension, key, title, none_label in BREAKDOWNS
    ]
    since = timezone.now() - datetime.timedelta(hours=48)
    hours = [
        HourCount(row.hour, row.visitors, row.views)
        for row in TrafficHour.objects.filter(site_id=site_id, hour__gte=since).order_by("hour")
    ]
    return TrafficReport(
        site_id=site_id,
        period=period,
        visitors=sum(d.visitors for d in series),
        views=sum(d.views for d in series),
        series=series,
        hours=hours,
        breakdowns=breakdowns,
    )
