"""The traffic report: periods, small-group suppression (k=10) and its protection against differencing."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from freezegun import freeze_time
from hypothesis import given
from hypothesis import strategies as st

from tidings.tenancy.context import use_workspace
from tidings.tracking.traffic import TrafficHit, count
from tidings.tracking.traffic_report import (
    EARLIEST,
    K,
    Period,
    PeriodError,
    parse_period,
    suppress,
    traffic_report,
)

TODAY = datetime.date(2026, 12, 1)
NOON = datetime.datetime(2026, 12, 1, 12, tzinfo=datetime.UTC)


# ----------------------------------------------------------------------------------------------
# Periods


def test_the_default_period_is_the_last_30_days_today_included():
    assert parse_period({}, TODAY) == Period(datetime.date(2026, 11, 2), TODAY, "30")


@pytest.mark.parametrize("days", ["7", "30", "90"])
def test_preset_periods(days):
    period = parse_period({"period": days}, TODAY)

    assert period.days == int(days)
    assert period.end == TODAY


def test_a_custom_period_and_an_end_in_the_future_stops_today():
    assert parse_period({"period": "custom", "start": "2026-10-01", "end": "2027-01-01"}, TODAY) == Period(
        datetime.date(2026, 10, 1), TODAY, "custom"
    )


@pytest.mark.parametrize(
    "query",
    [
        {"period": "14"},
        {"period": "custom"},
        {"period": "custom", "start": "2026-13-01"},
        {"period": "custom", "start": "01/10/2026"},
        {"period": "custom", "start": "2026-11-10", "end": "2026-11-01"},
        {"period": "custom", "start": "2027-01-01"},
        {"period": "custom", "start": "1999-12-31"},
        {"start": "2024-01-01", "end": "2026-01-01"},
    ],
)
def test_periods_that_cannot_be_used_are_refused_with_a_message_naming_no_value(query):
    with pytest.raises(PeriodError) as refused:
        parse_period(query, TODAY)

    for value in query.values():
        if value[:1].isdigit() and len(value) > 2:
            assert value not in str(refused.value)


@given(st.dictionaries(st.sampled_from(["period", "start", "end"]), st.text(max_size=30)))
def test_any_query_gives_a_period_or_a_period_error(query):
    try:
        period = parse_period(query, TODAY)
    except PeriodError:
        return
    assert EARLIEST <= period.start <= period.end <= TODAY
    assert period.days <= 366


# ----------------------------------------------------------------------------------------------
# Suppression


def test_rows_of_k_visitors_or_more_are_shown_with_their_numbers():
    breakdown = suppress("countries", "Countries", [("DE", 40, 90), ("FR", K, 12)])

    assert [(r.value, r.state, r.visitors, r.views) for r in breakdown.rows] == [
        ("DE", "shown", 40, 90),
        ("FR", "shown", K, 12),
    ]
    assert breakdown.other is None


def test_a_row_under_k_shows_no_number():
    breakdown = suppress("pages", "Top pages", [("/", 50, 80), ("/team/ada", 1, 7), ("/about", 20, 25)])

    small = next(r for r in breakdown.rows if r.value == "/team/ada")
    assert small.state == "small"
    assert small.visitors is None and small.views is None


def test_the_small_rows_cannot_be_worked_out_from_the_total():
    # Every hit is counted in every dimension, so the rows add up to the site's page views: without the
    # complementary row, 87 - 80 - 5... would give the small row's page views exactly.
    counted = [("/", 50, 80), ("/about", 20, 25), ("/team/ada", 1, 7)]
    total_views = sum(views for _, _, views in counted)

    breakdown = suppress("pages", "Top pages", counted)

    shown = [r for r in breakdown.rows if r.state == "shown"]
    hidden = [r for r in breakdown.rows if r.state == "hidden"]
    assert [r.value for r in hidden] == ["/about"]  # the smallest row of K or more is hidden too
    assert total_views - sum(r.views for r in shown) == 32  # /about and /team/ada together, not 7
    assert breakdown.other is not None and breakdown.other.visitors >= K
    assert (breakdown.other.values, breakdown.other.views) == (2, 32)


@given(
    st.lists(
        st.tuples(st.text(max_size=5), st.integers(0, 40), st.integers(0, 100)),
        max_size=30,
        unique_by=lambda r: r[0],
    ),
    st.integers(1, 12),
)
def test_whatever_is_hidden_includes_a_row_of_k_or_more_or_nothing_is_named(counted, limit):
    counted = [(value, visitors, max(views, visitors)) for value, visitors, views in counted]

    breakdown = suppress("pages", "Top pages", counted, limit=limit)

    shown = {r.value for r in breakdown.rows if r.state == "shown"}
    hidden = [row for row in counted if row[0] not in shown]
    assert all(r.visitors >= K for r in breakdown.rows if r.state == "shown")
    assert all(r.visitors is None and r.views is None for r in breakdown.rows if r.state != "shown")
    if breakdown.all_small:
        assert breakdown.rows == [] and breakdown.other is None
    elif hidden:
        assert any(visitors >= K for _, visitors, _ in hidden)
        assert breakdown.other is not None
        assert breakdown.other.views == sum(views for _, _, views in hidden)


def test_a_breakdown_where_no_value_reaches_k_names_none():
    breakdown = suppress("countries", "Countries", [("IS", 3, 5)])

    assert breakdown.all_small and breakdown.rows == [] and breakdown.other is None


def test_the_none_value_has_its_label_and_countries_their_names():
    breakdown = suppress("countries", "Countries", [("DE", 30, 30), ("", 20, 20)], none_label="Unknown")

    assert [r.label for r in breakdown.rows] == ["Germany", "Unknown"]


# ----------------------------------------------------------------------------------------------
# The report from counted hits


@pytest.fixture
def shop(acme):
    from tidings.tracking.models import Site, new_public_key

    with use_workspace(acme):
        return Site.objects.create(name="Shop", public_key=new_public_key("eu"), domains=["shop.example"])


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()[:16]


def _hits(site, n, **values):
    return [TrafficHit(site.workspace_id, site.pk, NOON, digest=_digest(f"{values}{i}"), **values) for i in range(n)]


@freeze_time(NOON)
def test_the_report_sums_days_and_suppresses_small_breakdown_rows(acme, shop):
    count(_hits(shop, 30, url="/", country="DE") + _hits(shop, 12, url="/pricing", country="FR"))
    count(_hits(shop, 2, url="/team/ada", country="IS"))

    with use_workspace(acme):
        report = traffic_report(shop.pk, parse_period({"period": "7"}))

    assert (report.visitors, report.views) == (44, 44)
    assert report.series[-1].visitors == 44 and len(report.series) == 7
    countries = next(b for b in report.breakdowns if b.key == "countries")
    assert [(r.label, r.state, r.visitors) for r in countries.rows] == [
        ("Germany", "shown", 30),
        ("France", "hidden", None),
        ("Iceland", "small", None),
    ]
    assert report.hours[-1].visitors == 44


@freeze_time(NOON)
def test_the_report_reads_three_queries(acme, shop, django_assert_num_queries):
    count(_hits(shop, 12, url="/"))

    with use_workspace(acme), django_assert_num_queries(3, using=acme.db_alias):
        traffic_report(shop.pk, parse_period({"period": "90"}))
