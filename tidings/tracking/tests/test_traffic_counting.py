"""Cookieless counting: the daily salt, the digest, count() and the 48-hour purge, on both engines."""

from __future__ import annotations

import datetime

import pytest
from freezegun import freeze_time

from tidings.tenancy.context import use_workspace
from tidings.tracking import traffic
from tidings.tracking.models import Site, new_public_key
from tidings.tracking.models_traffic import Dimension, TrafficDay, TrafficHour, TrafficSalt, TrafficSighting
from tidings.tracking.traffic import TrafficHit, count, digest, purge_expired

UTC = datetime.UTC
MONDAY = datetime.datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
TUESDAY = MONDAY + datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def fresh_salts():
    traffic.forget_cached_salts()
    yield
    traffic.forget_cached_salts()


def make_site(workspace, name="Shop") -> Site:
    with use_workspace(workspace):
        return Site.objects.create(name=name, public_key=new_public_key(workspace.region), domains=["shop.example"])


@pytest.fixture
def shop(acme):
    return make_site(acme)


def hit(site, at, *, ip="192.0.2.10", ua="Firefox/140", **values) -> TrafficHit:
    with use_workspace(site_workspace(site)):
        key = digest(site.pk, ip, ua, at)
    return TrafficHit(workspace_id=site.workspace_id, site_id=site.pk, at=at, digest=key, **values)


def site_workspace(site):
    from tidings.tenancy.selectors import workspace_by_id

    return workspace_by_id(site.workspace_id)


def totals(site, day) -> tuple[int, int]:
    with use_workspace(site_workspace(site)):
        row = TrafficDay.objects.get(site_id=site.pk, day=day, dimension=Dimension.TOTAL)
        return row.views, row.visitors


def breakdown(site, day, dimension) -> dict[str, tuple[int, int]]:
    with use_workspace(site_workspace(site)):
        rows = TrafficDay.objects.filter(site_id=site.pk, day=day, dimension=dimension)
        return {row.value: (row.views, row.visitors) for row in rows}


# ----------------------------------------------------------------------------------------------
# The digest


@freeze_time(MONDAY)
def test_a_digest_is_16_bytes_and_stable_within_a_day(shop, in_acme):
    morning = digest(shop.pk, "192.0.2.10", "Firefox/140", MONDAY)
    evening = digest(shop.pk, "192.0.2.10", "Firefox/140", MONDAY.replace(hour=23, minute=59))

    assert len(morning) == 16
    assert morning == evening


@freeze_time(MONDAY)
def test_a_digest_is_the_same_in_another_process_that_reads_the_stored_salt(shop, in_acme):
    first = digest(shop.pk, "192.0.2.10", "Firefox/140", MONDAY)
    traffic.forget_cached_salts()

    assert digest(shop.pk, "192.0.2.10", "Firefox/140", MONDAY) == first
    assert TrafficSalt.objects.count() == 1


@freeze_time(TUESDAY)
def test_a_digest_changes_across_days(shop, in_acme):
    assert digest(shop.pk, "192.0.2.10", "Firefox/140", MONDAY) != digest(shop.pk, "192.0.2.10", "Firefox/140", TUESDAY)


@freeze_time(MONDAY)
def test_a_digest_differs_per_site_ip_and_user_agent(acme, shop, in_acme):
    other = make_site(acme, "Blog")
    base = digest(shop.pk, "192.0.2.10", "Firefox/140", MONDAY)

    assert digest(other.pk, "192.0.2.10", "Firefox/140", MONDAY) != base
    assert digest(shop.pk, "192.0.2.11", "Firefox/140", MONDAY) != base
    assert digest(shop.pk, "192.0.2.10", "Firefox/141", MONDAY) != base


@freeze_time(MONDAY)
def test_workspaces_never_share_a_salt(acme, globex):
    with use_workspace(acme):
        acme_salt = traffic.daily_salt(MONDAY.date())
    with use_workspace(globex):
        globex_salt = traffic.daily_salt(MONDAY.date())

    assert acme_salt != globex_salt
    assert len(acme_salt) == 32


@freeze_time(MONDAY + datetime.timedelta(days=2))
def test_no_digest_for_a_day_whose_salt_is_deleted(shop, in_acme):
    with pytest.raises(ValueError, match="deleted"):
        digest(shop.pk, "192.0.2.10", "Firefox/140", MONDAY)


def test_a_digest_needs_the_workspace(shop):
    from tidings.tenancy.context import NoWorkspaceSet

    with pytest.raises(NoWorkspaceSet):
        digest(shop.pk, "192.0.2.10", "Firefox/140", MONDAY)


# ----------------------------------------------------------------------------------------------
# Deleting salts and sightings after 48 hours


def test_salts_sightings_and_hours_are_deleted_48_hours_after_their_day_began_and_aggregates_stay(shop):
    with freeze_time(MONDAY):
        count([hit(shop, MONDAY, url="/")])
    with freeze_time(TUESDAY.replace(hour=23, minute=59)):  # 47 hours after Monday began: kept
        assert purge_expired() == 0
    with freeze_time(TUESDAY.replace(hour=23, minute=59)), use_workspace(site_workspace(shop)):
        assert TrafficSalt.objects.filter(day=MONDAY.date()).exists()
    with freeze_time(MONDAY + datetime.timedelta(hours=48)):  # Monday began 57 hours ago; its 09:00 is 48 h old
        deleted = purge_expired()

    with use_workspace(site_workspace(shop)):
        assert deleted > 0
        assert not TrafficSalt.objects.exists()
        assert not TrafficSighting.objects.exists()
        assert not TrafficHour.objects.exists()
        assert totals(shop, MONDAY.date()) == (1, 1)


def test_the_purge_deletes_in_every_workspace_and_region(acme, globex):
    shops = [make_site(acme), make_site(globex)]
    with freeze_time(MONDAY):
        count([hit(site, MONDAY, url="/") for site in shops])
    with freeze_time(MONDAY + datetime.timedelta(days=3)):
        purge_expired()

    for site in shops:
        with use_workspace(site_workspace(site)):
            assert not TrafficSalt.objects.exists()
            assert not TrafficSighting.objects.exists()


def test_the_purge_is_a_registered_periodic_job():
    from tidings.jobs.periodic import PERIODIC_JOBS

    job = PERIODIC_JOBS["tidings.tracking.traffic.purge_traffic_keys"]

    assert job.every <= datetime.timedelta(hours=1)


# ----------------------------------------------------------------------------------------------
# count()


@freeze_time(MONDAY)
def test_count_adds_page_views_and_unique_visitors_per_dimension(shop):
    ada = {"ip": "192.0.2.10", "ua": "Firefox/140", "country": "GB", "device": "desktop", "browser": "Firefox"}
    grace = {"ip": "198.51.100.7", "ua": "Safari/18", "country": "US", "device": "mobile", "browser": "Safari"}
    count(
        [
            hit(shop, MONDAY, url="/", referrer_host="search.example", utm_campaign="winter", **ada),
            hit(shop, MONDAY, url="/pricing", **ada),
            hit(shop, MONDAY, url="/", **grace),
            hit(shop, MONDAY, url="/", is_pageview=False, **grace),  # an event: a visitor, no view
        ]
    )

    assert totals(shop, MONDAY.date()) == (3, 2)
    assert breakdown(shop, MONDAY.date(), Dimension.PAGE) == {"/": (2, 2), "/pricing": (1, 1)}
    assert breakdown(shop, MONDAY.date(), Dimension.COUNTRY) == {"GB": (2, 1), "US": (1, 1)}
    assert breakdown(shop, MONDAY.date(), Dimension.REFERRER) == {"search.example": (1, 1), "": (2, 2)}
    assert breakdown(shop, MONDAY.date(), Dimension.UTM_CAMPAIGN)["winter"] == (1, 1)
    assert breakdown(shop, MONDAY.date(), Dimension.DEVICE) == {"desktop": (2, 1), "mobile": (1, 1)}


@freeze_time(MONDAY)
def test_counting_again_adds_views_but_never_the_same_visitor_twice(shop):
    batch = [hit(shop, MONDAY, url="/"), hit(shop, MONDAY, url="/about")]

    count(batch)
    count(batch)
    count([hit(shop, MONDAY + datetime.timedelta(hours=5), url="/")])

    assert totals(shop, MONDAY.date()) == (5, 1)
    assert breakdown(shop, MONDAY.date(), Dimension.PAGE) == {"/": (3, 1), "/about": (2, 1)}


@freeze_time(TUESDAY)
def test_the_same_person_on_two_days_is_two_visitor_days(shop):
    count([hit(shop, MONDAY, url="/"), hit(shop, TUESDAY, url="/")])

    assert totals(shop, MONDAY.date()) == (1, 1)
    assert totals(shop, TUESDAY.date()) == (1, 1)


@freeze_time(MONDAY + datetime.timedelta(days=3))
def test_a_hit_older_than_the_sightings_adds_its_view_but_no_visitor(shop):
    late = TrafficHit(workspace_id=shop.workspace_id, site_id=shop.pk, at=MONDAY, digest=b"\x01" * 16, url="/")

    count([late])

    assert totals(shop, MONDAY.date()) == (1, 0)
    with use_workspace(site_workspace(shop)):
        assert not TrafficSighting.objects.exists()
        assert not TrafficHour.objects.exists()


@freeze_time(MONDAY)
def test_hourly_totals_count_each_visitor_once_per_hour(shop):
    count([hit(shop, MONDAY, url="/"), hit(shop, MONDAY.replace(minute=50), url="/a")])
    count([hit(shop, MONDAY.replace(hour=8), url="/"), hit(shop, MONDAY.replace(hour=8), ip="203.0.113.5", url="/")])

    with use_workspace(site_workspace(shop)):
        hours = {row.hour.hour: (row.views, row.visitors) for row in TrafficHour.objects.all()}
    assert hours == {9: (2, 1), 8: (2, 2)}


@freeze_time(MONDAY)
def test_one_batch_counts_several_workspaces_each_in_its_own_region(acme, globex):
    acme_shop, globex_shop = make_site(acme), make_site(globex)

    assert count([hit(acme_shop, MONDAY, url="/"), hit(globex_shop, MONDAY, url="/"), hit(globex_shop, MONDAY)]) == 3

    assert totals(acme_shop, MONDAY.date()) == (1, 1)
    assert totals(globex_shop, MONDAY.date()) == (2, 1)


@freeze_time(MONDAY)
def test_a_batch_of_a_thousand_hits_is_a_few_statements(shop, django_assert_max_num_queries):
    hits = [hit(shop, MONDAY, ip=f"10.0.{n // 250}.{n % 250}", url=f"/p{n % 40}", country="DE") for n in range(1000)]

    with django_assert_max_num_queries(12):
        count(hits)

    assert totals(shop, MONDAY.date()) == (1000, 1000)
    assert sum(v for v, _ in breakdown(shop, MONDAY.date(), Dimension.PAGE).values()) == 1000


@freeze_time(MONDAY)
def test_a_long_value_is_cut_and_counted(shop):
    count([hit(shop, MONDAY, url="/" + "a" * 5000)])

    (value,) = breakdown(shop, MONDAY.date(), Dimension.PAGE)
    assert len(value) == traffic.MAX_VALUE_LENGTH
