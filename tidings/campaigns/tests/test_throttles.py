"""Throttles (issue 14): a big campaign's backlog does not delay a small one's due steps, a campaign can be
held to a number of steps a minute, and a workspace's turn ends so other workspaces' turns come."""

from __future__ import annotations

import datetime

from django.utils import timezone

from tidings.campaigns.tests.conftest import add, later, publish, run
from tidings.campaigns.tests.conftest import system as system_principal


def _many(count: int) -> list:
    from tidings.contacts.actions import contacts_bulk_upsert
    from tidings.contacts.models import Contact

    contacts_bulk_upsert([{"email": f"reader{i}@backlog.example"} for i in range(count)], lawful_basis="consent",
                         principal=system_principal())  # fmt: skip
    return list(Contact.objects.filter(email_domain="backlog.example").order_by("id"))


def _claimed_by_campaign(token: str) -> dict[int, int]:
    from tidings.campaigns.engine import claimed_runs

    counts: dict[int, int] = {}
    for row in claimed_runs(token):
        counts[row.campaign_id] = counts.get(row.campaign_id, 0) + 1
    return counts


def _make_due_long_ago(campaign, *, seconds: int) -> None:
    """Make a campaign's runs older than any other's: the order of due_at alone would take them all first."""
    from tidings.campaigns.models import StepRun

    StepRun.objects.filter(campaign_id=campaign.pk).update(due_at=timezone.now() - datetime.timedelta(seconds=seconds))


def test_a_big_backlog_does_not_delay_a_small_campaigns_due_steps(readers):
    ada, grace = readers
    crowd = _many(60)
    big = publish({"id": 1, "kind": "add_tags", "tags": ["big"]}, name="Big")
    small = publish({"id": 1, "kind": "add_tags", "tags": ["small"]}, name="Small")
    add(big, *crowd)
    add(small, ada, grace)
    _make_due_long_ago(big, seconds=3600)  # the big backlog is older: due_at order alone would starve small
    from tidings.campaigns.engine import claim_due

    counts = _claimed_by_campaign(claim_due(20))
    assert counts == {big.pk: 18, small.pk: 2}  # small's 2 in the very first batch; big takes the room left


def test_each_campaign_gets_an_equal_share_of_a_batch_when_all_have_a_backlog(in_acme):
    crowd = _many(40)
    first = publish({"id": 1, "kind": "add_tags", "tags": ["a"]}, name="First")
    second = publish({"id": 1, "kind": "add_tags", "tags": ["b"]}, name="Second")
    add(first, *crowd[:30])
    add(second, *crowd[30:])
    _make_due_long_ago(first, seconds=3600)
    from tidings.campaigns.engine import claim_due

    assert _claimed_by_campaign(claim_due(10)) == {first.pk: 5, second.pk: 5}
    assert _claimed_by_campaign(claim_due(10)) == {first.pk: 5, second.pk: 5}
    assert _claimed_by_campaign(claim_due(100)) == {first.pk: 20}  # second is empty: first takes the room


def test_the_small_campaign_finishes_in_the_first_pass_of_a_big_run(readers):
    from tidings.campaigns.models import StepRun

    ada, grace = readers
    crowd = _many(50)
    big = publish({"id": 1, "kind": "add_tags", "tags": ["big"]}, name="Big")
    small = publish({"id": 1, "kind": "add_tags", "tags": ["small"]}, name="Small")
    add(big, *crowd)
    add(small, ada, grace)
    _make_due_long_ago(big, seconds=3600)
    run(limit=10, max_batches=1, enter=False)  # one pass of 10
    assert set(StepRun.objects.filter(campaign_id=small.pk).values_list("status", flat=True)) == {"done"}
    assert StepRun.objects.filter(campaign_id=big.pk, status="done").count() == 8


def test_a_campaign_takes_no_more_than_its_steps_per_minute(in_acme):
    from tidings.campaigns.actions import campaign_update
    from tidings.campaigns.models import StepRun

    crowd = _many(25)
    campaign = publish({"id": 1, "kind": "add_tags", "tags": ["slow"]}, name="Slow")
    campaign_update(campaign.pk, principal=system_principal(), max_steps_per_minute=10)
    add(campaign, *crowd)
    assert run(enter=False).done == 10
    assert run(enter=False).done == 0  # the minute's 10 are used
    with later(seconds=61):
        assert run(enter=False).done == 10
    with later(seconds=122):
        assert run(enter=False).done == 5
    assert StepRun.objects.filter(campaign_id=campaign.pk, status="done").count() == 25


def test_a_throttled_campaign_leaves_the_batch_to_the_others(readers):
    from tidings.campaigns.actions import campaign_update
    from tidings.campaigns.engine import claim_due

    ada, grace = readers
    crowd = _many(30)
    slow = publish({"id": 1, "kind": "add_tags", "tags": ["slow"]}, name="Slow")
    campaign_update(slow.pk, principal=system_principal(), max_steps_per_minute=3)
    other = publish({"id": 1, "kind": "add_tags", "tags": ["other"]}, name="Other")
    add(slow, *crowd[:15])
    add(other, *crowd[15:])
    assert _claimed_by_campaign(claim_due(100)) == {slow.pk: 3, other.pk: 15}


def test_the_throttle_is_checked_and_shown_in_the_native_api(in_acme):
    import pytest
    from django.core.exceptions import ValidationError

    from tidings.campaigns.actions import campaign_create, campaign_update

    campaign = campaign_create(principal=system_principal(), name="Paced", max_steps_per_minute=60)
    assert campaign.max_steps_per_minute == 60
    for bad in (0, -1, True, "10", 10**9):
        with pytest.raises(ValidationError) as error:
            campaign_update(campaign.pk, principal=system_principal(), max_steps_per_minute=bad)
        assert "max_steps_per_minute" in error.value.message_dict
    assert campaign_update(campaign.pk, principal=system_principal(), max_steps_per_minute=None).max_steps_per_minute \
        is None  # fmt: skip


def test_a_workspace_turn_ends_after_its_steps_and_queues_the_next_turn(in_acme, settings, monkeypatch):
    from tidings.campaigns import tasks

    settings.TIDINGS_CAMPAIGN_STEPS_PER_TURN = 1
    monkeypatch.setattr("tidings.campaigns.engine.BATCH_SIZE", 10)
    crowd = _many(25)
    campaign = publish({"id": 1, "kind": "add_tags", "tags": ["x"]})
    add(campaign, *crowd)
    workspace_id = campaign.workspace_id
    before = _queued_turns(workspace_id)
    assert tasks.run_campaigns.call(workspace_id=workspace_id) == 10
    assert _queued_turns(workspace_id) == before + 1


def _queued_turns(workspace_id: int) -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path="tidings.campaigns.tasks.run_campaigns",
                                       args_kwargs__kwargs__workspace_id=workspace_id).count()  # fmt: skip


def test_a_burst_of_wake_ups_queues_one_turn_and_a_wake_up_during_a_turn_one_more(in_acme, monkeypatch):
    from tidings.campaigns import actions, tasks

    monkeypatch.setattr(tasks, "WAKE_DEBOUNCE", 0.0)  # the in-process debounce aside: the queue coalesces
    campaign = publish({"id": 1, "kind": "add_tags", "tags": ["x"]})
    workspace_id = campaign.workspace_id
    tasks.sweep_campaigns.call()  # the sweep's turn, or the publish's, is queued: the wake-ups join it
    before = _queued_turns(workspace_id)
    for _ in range(1000):
        tasks.wake(workspace_id)
    tasks.sweep_campaigns.call()
    assert _queued_turns(workspace_id) == before == 1

    # A worker starts the queued turn; a contact arrives (and wakes the workspace) after the turn read its work.
    arrived: list[int] = []
    original = actions.campaigns_run

    def turn(**kwargs):
        result = original(**kwargs)
        arrived.append(add(campaign, *_many(1)))
        tasks.wake(workspace_id)
        return result

    monkeypatch.setattr(actions, "campaigns_run", turn)
    tasks.run_campaigns.call(workspace_id=workspace_id)
    assert arrived == [1]
    assert _queued_turns(workspace_id) == 2  # one more turn queued: the late contact is not left to the next sweep
    for _ in range(10):
        tasks.wake(workspace_id)
    assert _queued_turns(workspace_id) == 2
