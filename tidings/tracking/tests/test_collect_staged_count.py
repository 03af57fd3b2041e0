"""The flusher's set-based path: a batch staged, then receipts, sightings, days and hours by SQL, on both engines.

A crash after the stage is filled (before the inserts) or after the inserts (before the commit)
rolls the whole batch back: the retry from the same spool offset writes every hit once.
"""

import datetime
import time

import pytest

from tidings.events.models import Event
from tidings.tenancy.context import use_workspace
from tidings.tracking import traffic
from tidings.tracking.collect import flusher
from tidings.tracking.collect.models import HitReceipt
from tidings.tracking.collect.spool import Spool, read_offset
from tidings.tracking.models_traffic import Dimension, TrafficDay, TrafficHour, TrafficSighting
from tidings.tracking.tests.collect_helpers import make_site
from tidings.tracking.tests.test_collect_persist import record


@pytest.fixture
def site(acme):
    return make_site(acme)


def batch(site, now: float) -> list[dict]:
    """12 hits of 3 cookieless visitors on 2 pages (one hit an event: a visitor but no page view)."""
    records = []
    for n in range(12):
        row = record(site, visitor=5000 + n % 3, at=now + n / 100, url=f"https://shop.example/p{n % 2}")
        row["g"] = f"{n % 3:032x}"
        records.append(row)
    records[-1].update(t="event", n="signup")
    return records


def totals(workspace, site) -> dict:
    with use_workspace(workspace):
        days = {
            (row.dimension, row.value): (row.views, row.visitors)
            for row in TrafficDay.objects.filter(site_id=site.pk, dimension__in=[Dimension.TOTAL, Dimension.PAGE])
        }
        hours = sorted(TrafficHour.objects.values_list("views", "visitors"))
        return {
            "receipts": HitReceipt.objects.count(), "events": Event.objects.count(), "days": days, "hours": hours,
            "sightings": TrafficSighting.objects.count(),
        }  # fmt: skip


def expected(now: float) -> dict:
    hour_split = (
        datetime.datetime.fromtimestamp(now, tz=datetime.UTC).hour
        != datetime.datetime.fromtimestamp(now + 0.11, tz=datetime.UTC).hour
    )
    assert not hour_split  # 0.11 s of hits: one hour (a test started at hh:59:59.9 would need another split)
    return {
        "receipts": 12, "events": 12,
        "days": {
            (Dimension.TOTAL, ""): (11, 3),
            (Dimension.PAGE, "https://shop.example/p0"): (6, 3),
            (Dimension.PAGE, "https://shop.example/p1"): (5, 3),
        },
        "hours": [(11, 3)],
        # per visitor: 9 one-valued dimensions + 2 pages (each visitor saw both) + the hour
        "sightings": 3 * (9 + 2 + 1),
    }  # fmt: skip


def test_a_batch_is_counted_by_the_stage_and_a_replay_counts_nothing_more(tmp_path, site, acme):
    now = time.time()
    first = batch(site, now)
    spool = Spool(tmp_path)
    spool.append(first)

    assert flusher.drain(spool.path) == 12
    assert totals(acme, site) == expected(now)

    spool.append(first)  # the same client ids again (a replayed spool, beacons sent twice): nothing
    spool.append(batch(site, now))  # new hits of the same visitors: page views, no new visitors
    assert flusher.drain(spool.path) == 12
    after = totals(acme, site)
    assert after["receipts"] == 24 and after["days"][(Dimension.TOTAL, "")] == (22, 3)
    assert after["hours"] == [(22, 3)] and after["sightings"] == expected(now)["sightings"]


@pytest.mark.parametrize("when", ["after staging", "after the inserts"])
def test_a_crash_between_staging_and_commit_loses_and_duplicates_nothing(tmp_path, site, acme, monkeypatch, when):
    now = time.time()
    spool = Spool(tmp_path)
    spool.append(batch(site, now))
    real = traffic._count_staged

    def crash(connection, workspace_id):
        if when == "after the inserts":
            real(connection, workspace_id)
        raise OSError("killed mid-batch")

    monkeypatch.setattr(traffic, "_count_staged", crash)
    with pytest.raises(OSError):
        flusher.drain(spool.path)
    assert read_offset(spool.path) == 0
    assert totals(acme, site) == {"receipts": 0, "events": 0, "days": {}, "hours": [], "sightings": 0}

    monkeypatch.setattr(traffic, "_count_staged", real)
    assert flusher.drain(spool.path) == 12
    assert totals(acme, site) == expected(now)
    assert flusher.drain(spool.path) == 0  # nothing left: the offset moved past the batch


def test_receipts_return_only_the_client_ids_not_seen_before(site, acme):
    from tidings.tenancy import bulk

    at = datetime.datetime.now(datetime.UTC)
    columns = ["workspace_id", "client_id", "at"]
    with use_workspace(acme):
        assert bulk.insert_new(HitReceipt, columns, [(acme.id, "a" * 16, at)], returning="client_id") == ["a" * 16]
        rows = [(acme.id, "a" * 16, at), (acme.id, "b" * 16, at)]
        assert bulk.insert_new(HitReceipt, columns, rows, returning="client_id") == ["b" * 16]
        assert HitReceipt.objects.count() == 2
