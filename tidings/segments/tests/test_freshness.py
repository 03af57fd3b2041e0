"""Membership stays fresh: the incremental refresh of changed contacts and the scheduled full rebuild."""

from __future__ import annotations

import datetime

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from tidings.contacts.actions import (
    company_create,
    company_delete,
    company_link,
    contact_create,
    contact_merge,
    contact_update,
    tag_delete,
)
from tidings.contacts.models import Contact, Tag
from tidings.events.models import Event
from tidings.segments import actions, selectors, tasks
from tidings.segments.event_types import SEGMENT_ADDED, SEGMENT_REMOVED
from tidings.segments.models import MembershipStatus, SegmentMembership, SegmentRefreshState
from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system


@pytest.fixture(autouse=True)
def exact_positions(monkeypatch):
    """Read positions as SQLite does (no margin) on both engines: these tests count passes exactly.

    The margin PostgreSQL needs is tested apart (test_on_postgresql_young_changes_are_read_again).
    """
    monkeypatch.setattr(actions, "_commit_margin", lambda: None)


LONDONERS = {"filters": [{"kind": "field", "field": "city", "operator": "equals", "value": "London"}]}


def londoners():
    return actions.segment_create(principal=system(), name="Londoners", definition=LONDONERS)


def members(segment) -> set[int]:
    return set(selectors.segment_member_ids(segment.pk))


def refresh():
    return actions.segments_refresh_changed(principal=system())


def test_a_field_change_moves_the_contact_at_the_next_pass(in_acme):
    segment = londoners()
    ines = contact_create({"email": "ines@porto.example", "city": "Porto"}, principal=system())
    assert refresh().changes == {}
    contact_update(ines.pk, {"city": "London"}, principal=system())

    done = refresh()

    assert members(segment) == {ines.pk}
    assert done.changes == {segment.pk: (1, 0)}
    assert Event.objects.filter(contact_id=ines.pk, type=SEGMENT_ADDED).count() == 1
    contact_update(ines.pk, {"city": "Lyon"}, principal=system())
    refresh()
    assert members(segment) == set()
    assert Event.objects.filter(contact_id=ines.pk, type=SEGMENT_REMOVED).count() == 1


def test_the_watermark_starts_when_the_first_segment_is_created(in_acme):
    contact_create({"email": "early@porto.example", "city": "London"}, principal=system())
    assert not SegmentRefreshState.objects.exists()
    segment = londoners()
    state = SegmentRefreshState.objects.get()
    # The build saw everything before the watermark: the first pass has nothing to do.
    assert state.last_event_id == Event.objects.exclude(type__in=[SEGMENT_ADDED]).latest("id").id
    assert len(members(segment)) == 1
    assert refresh().contacts == 0


def test_a_pass_with_nothing_changed_only_reads(in_acme):
    londoners()
    contact_create({"email": "quiet@porto.example", "city": "London"}, principal=system())
    refresh()
    refresh()  # reads the segment events the first pass wrote

    with CaptureQueriesContext(connections[in_acme.db_alias]) as queries:
        done = refresh()

    assert done.contacts == 0
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert statements and set(statements) == {"SELECT"}, statements
    assert len(statements) <= 4


def test_a_workspace_without_segments_does_nothing(in_acme):
    contact_create({"email": "nobody@porto.example", "city": "London"}, principal=system())
    with CaptureQueriesContext(connections[in_acme.db_alias]) as queries:
        assert refresh().contacts == 0
    assert len(queries.captured_queries) <= 2
    assert not SegmentRefreshState.objects.exists()


def test_a_failed_pass_moves_neither_memberships_nor_the_watermark(in_acme, monkeypatch):
    segment = londoners()
    ines = contact_create({"email": "ines@porto.example", "city": "London"}, principal=system())
    before = SegmentRefreshState.objects.get()

    def crash(*args, **kwargs):
        raise RuntimeError("the worker died here")

    monkeypatch.setattr(actions, "_event_watermark", crash)
    with pytest.raises(RuntimeError):
        refresh()
    after = SegmentRefreshState.objects.get()
    assert (after.last_event_id, after.changed_since) == (before.last_event_id, before.changed_since)
    assert members(segment) == set()

    monkeypatch.undo()
    refresh()
    assert members(segment) == {ines.pk}
    assert SegmentMembership.objects.filter(contact_id=ines.pk).count() == 1


def test_a_backlog_is_read_in_pages(in_acme, monkeypatch):
    monkeypatch.setattr(actions, "REFRESH_EVENTS", 2)
    segment = londoners()
    people = [contact_create({"email": f"p{i}@porto.example", "city": "London"}, principal=system()) for i in range(3)]

    passes = []
    while not passes or passes[-1].more:
        passes.append(refresh())
        assert len(passes) < 10

    assert len(passes) >= 2
    assert members(segment) == {p.pk for p in people}


def test_so_many_changed_contacts_rebuild_every_segment_instead(in_acme, monkeypatch):
    monkeypatch.setattr(actions, "REFRESH_REBUILD_ABOVE", 1)
    segment = londoners()
    people = [contact_create({"email": f"r{i}@porto.example", "city": "London"}, principal=system()) for i in range(3)]

    done = refresh()

    assert done.rebuilt
    assert members(segment) == {p.pk for p in people}


# ----------------------------------------------------------------------------------------------
# Writes that write no event of the contact: the changed time tells the refresh


def test_deleting_a_tag_moves_its_holders(in_acme):
    ines = contact_create({"email": "ines@porto.example"}, tags=["vip"], principal=system())
    tag = Tag.objects.get(name="vip")
    segment = actions.segment_create(
        principal=system(), name="VIP", definition={"filters": [{"kind": "tag", "operator": "in", "value": [tag.pk]}]}
    )
    assert members(segment) == {ines.pk}
    refresh()

    tag_delete(tag.pk, principal=system())
    refresh()

    assert members(segment) == set()


def test_deleting_a_company_moves_the_contacts_it_was_linked_to(in_acme):
    ines = contact_create({"email": "ines@porto.example"}, principal=system())
    company = company_create({"companyname": "Sardine Works"}, principal=system())
    company_link(ines.pk, company.pk, principal=system())
    segment = actions.segment_create(
        principal=system(),
        name="Sardines",
        definition={
            "filters": [
                {
                    "kind": "field",
                    "object": "company",
                    "field": "companyname",
                    "operator": "equals",
                    "value": "Sardine Works",
                }  # fmt: skip
            ]
        },
    )
    assert members(segment) == {ines.pk}
    refresh()

    company_delete(company.pk, principal=system())
    refresh()

    assert members(segment) == set()


def test_a_relative_date_needs_the_scheduled_rebuild(in_acme):
    """Nothing writes when "added in the last day" stops being true: only the full rebuild sees it."""
    segment = actions.segment_create(
        principal=system(),
        name="New",
        definition={"filters": [{"kind": "field", "field": "date_added", "operator": "in_last_days", "value": 1}]},
    )
    ines = contact_create({"email": "ines@porto.example"}, principal=system())
    refresh()
    assert members(segment) == {ines.pk}
    Contact.objects.filter(pk=ines.pk).update(created_at=ines.created_at - datetime.timedelta(days=3))
    refresh()
    assert members(segment) == {ines.pk}

    assert tasks.rebuild_all_segments.call() >= 1
    queued = DBTaskResult.objects.filter(task_path="tidings.segments.tasks.rebuild_workspace_segments")
    assert [row.args_kwargs["kwargs"] for row in queued] == [{"workspace_id": in_acme.pk}]
    tasks.rebuild_workspace_segments.call(workspace_id=in_acme.pk)

    assert members(segment) == set()


def test_merging_keeps_one_membership_per_segment(in_acme):
    segment = londoners()
    ines = contact_create({"email": "ines@porto.example", "city": "London"}, principal=system())
    twin = contact_create({"email": "ines.twin@porto.example", "city": "London"}, principal=system())
    refresh()
    assert members(segment) == {ines.pk, twin.pk}

    contact_merge(ines.pk, twin.pk, principal=system())
    refresh()

    rows = SegmentMembership.objects.filter(segment_id=segment.pk)
    assert list(rows.values_list("contact_id", "status")) == [(ines.pk, MembershipStatus.FILTER)]
    assert selectors.segment_get(segment.pk).member_count == 1


def test_the_refresh_job_visits_only_workspaces_with_segments(acme, globex, monkeypatch):
    seen = []
    monkeypatch.setattr(
        "tidings.segments.actions.segments_refresh_changed",
        lambda *, principal: seen.append(principal.workspace.pk) or actions.RefreshPass(0, {}, 0, more=False),
    )
    with use_workspace(acme):
        londoners()

    tasks.refresh_changed_contacts.call()

    assert seen == [acme.pk]


def test_on_postgresql_young_changes_are_read_again(in_acme, monkeypatch):
    """A change younger than the margin may sit beside one not yet committed: the next pass reads it again."""
    monkeypatch.setattr(actions, "_commit_margin", lambda: datetime.timedelta(hours=1))
    segment = londoners()
    start = SegmentRefreshState.objects.get().last_event_id
    ines = contact_create({"email": "ines@porto.example", "city": "London"}, principal=system())

    first, second = refresh(), refresh()

    assert first.contacts == second.contacts == 1
    assert first.last_event_id == second.last_event_id == start  # held below the young events
    assert members(segment) == {ines.pk}
    assert Event.objects.filter(contact_id=ines.pk, type=SEGMENT_ADDED).count() == 1  # the repeat changed nothing


def test_the_watermark_stops_at_the_first_young_event():
    now = datetime.datetime(2026, 12, 1, 12, tzinfo=datetime.UTC)
    old, young = now - datetime.timedelta(minutes=1), now - datetime.timedelta(seconds=1)
    rows = [(11, 1, old, 5), (12, 1, old, 6), (15, 1, young, 7), (16, 1, old, 8)]

    assert actions._event_watermark(10, rows, now, None) == 16
    assert actions._event_watermark(10, rows, now, datetime.timedelta(seconds=5)) == 12
    assert actions._event_watermark(10, [], now, datetime.timedelta(seconds=5)) == 10


def test_the_refresh_and_the_rebuild_run_at_the_configured_periods(settings):
    from tidings.jobs.periodic import PERIODIC_JOBS

    refresh_job = PERIODIC_JOBS["tidings.segments.tasks.refresh_changed_contacts"]
    rebuild_job = PERIODIC_JOBS["tidings.segments.tasks.rebuild_all_segments"]
    assert refresh_job.every == datetime.timedelta(seconds=settings.TIDINGS_SEGMENT_REFRESH_SECONDS)
    assert rebuild_job.every == datetime.timedelta(seconds=settings.TIDINGS_SEGMENT_REBUILD_SECONDS)
    assert (settings.TIDINGS_SEGMENT_REFRESH_SECONDS, settings.TIDINGS_SEGMENT_REBUILD_SECONDS) == (5, 3600)


def test_segments_made_before_the_watermark_existed_get_one_at_the_first_pass(in_acme):
    segment = londoners()
    SegmentRefreshState.objects.all().delete()
    ines = contact_create({"email": "ines@porto.example", "city": "London"}, principal=system())

    assert refresh().contacts == 0  # starts the watermark; the scheduled rebuild covers what came before
    assert SegmentRefreshState.objects.count() == 1
    contact_update(ines.pk, {"city": "Paris"}, principal=system())
    contact_update(ines.pk, {"city": "London"}, principal=system())
    refresh()
    assert members(segment) == {ines.pk}
