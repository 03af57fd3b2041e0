"""Decisions on downloads and unsubscriptions, conditions on points, device and local time, and time windows
in the contact's own time zone (issue 14); the campaign event types' home (50-52 moved from contacts).

ada and grace consented to Acme's marketing email; campaigns are published from steps, contacts added by hand.
"""

from __future__ import annotations

import datetime

import freezegun
import pytest
from django.utils import timezone

from tidings.campaigns.tests.conftest import add, later, make_contact, make_email, publish, run, runs
from tidings.campaigns.tests.conftest import system as system_principal


def _write(contact, name, **data):
    from tidings.events.registry import code_for
    from tidings.events.store import EventRow, write

    write([EventRow(type=code_for(name), contact_id=contact.id, data=data)])


def _asset(title="Guide"):
    from tidings.assets.actions import asset_create

    return asset_create(principal=system_principal(), title=title, remote_url="https://files.example/guide.pdf")


def _tags(contact):
    from tidings.contacts.selectors import contact_tags

    return contact_tags(contact.id)


def _yes_no(condition_or_decision: dict):
    """A campaign: step 1 branches, yes tags "yes", no tags "no"."""
    return publish({"id": 1, **condition_or_decision, "yes": 2, "no": 3},
                   {"id": 2, "kind": "add_tags", "tags": ["yes"]},
                   {"id": 3, "kind": "add_tags", "tags": ["no"]})  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Decisions


def test_downloading_the_asset_takes_the_yes_path_and_another_asset_does_not(readers):
    ada, grace = readers
    guide, other = _asset("Guide"), _asset("Other")
    campaign = _yes_no({"kind": "decision", "event": "downloaded_asset", "asset_id": guide.pk, "window_seconds": 3600})
    add(campaign, ada, grace)
    assert run().waiting == 2
    _write(ada, "asset.download", asset_id=guide.pk)
    _write(grace, "asset.download", asset_id=other.pk)
    run()
    assert _tags(ada) == ["yes"] and _tags(grace) == []
    with later(hours=1, minutes=1):
        run()
    assert _tags(grace) == ["no"]


def test_an_unsubscription_takes_the_yes_path_and_any_email_counts_without_one_chosen(readers):
    ada, grace = readers
    email = make_email(name="News", kind="template")
    campaign = _yes_no({"kind": "decision", "event": "unsubscribed", "window_seconds": 600})
    add(campaign, ada, grace)
    run()
    _write(ada, "email.unsubscribed", email_id=email.pk, send_id=1)
    run()
    assert runs(campaign, ada)[0][2] == "yes"
    assert runs(campaign, grace)[0][1] == "pending"


@pytest.mark.parametrize(("event", "name", "data"), [
    ("downloaded_asset", "asset.download", {"asset_id": 1}),
    ("unsubscribed", "email.unsubscribed", {"email_id": 1, "send_id": 1}),
])  # fmt: skip
def test_a_download_or_an_unsubscription_wakes_the_campaigns_and_the_waiting_decision(
    readers, monkeypatch, django_capture_on_commit_callbacks, event, name, data
):

    from tidings.campaigns import tasks
    from tidings.campaigns.models import StepRun
    from tidings.tenancy.context import require_workspace

    ada, _ = readers
    campaign = _yes_no({"kind": "decision", "event": event, "window_seconds": 86400})
    add(campaign, ada)
    run()
    assert StepRun.objects.get(step=1).due_at > timezone.now() + datetime.timedelta(seconds=30)
    woken = []
    monkeypatch.setattr(tasks, "WAKE_DEBOUNCE", 0)
    monkeypatch.setattr(tasks, "enqueue_once", lambda task, **kw: woken.append(kw))
    with django_capture_on_commit_callbacks(using=require_workspace().db_alias, execute=True):
        _write(ada, name, **data)
    assert woken == [{"workspace_id": require_workspace().id}]
    assert run().done == 2  # nudged: due now, not at the next recheck
    assert _tags(ada) == ["yes"]


def _neighbour(make_user):
    """Another workspace in Acme's region (same database): its ids are real rows Acme must never reach."""
    from tidings.accounts.actions import workspace_create

    return workspace_create(name="Initech", slug="initech", region="eu", owner=make_user("peter@initech.example"))


def test_a_decision_on_an_asset_of_another_workspace_is_refused(readers, make_user):
    from django.core.exceptions import ValidationError

    from tidings.campaigns.actions import campaign_create
    from tidings.tenancy.context import use_workspace

    with use_workspace(_neighbour(make_user)):
        theirs = _asset("Theirs")
    graph = {
        "sources": [{"kind": "manual"}],
        "start": 1,
        "steps": [
            {"id": 1, "kind": "decision", "event": "downloaded_asset", "asset_id": theirs.pk, "window_seconds": 60}
        ],
    }
    with pytest.raises(ValidationError) as error:
        campaign_create(principal=system_principal(), name="Theirs", graph=graph)
    assert error.value.message_dict == {"graph.steps.0.asset_id": ["an asset of this workspace"]}


# ---------------------------------------------------------------------------------------------
# Conditions


@pytest.mark.parametrize(("condition", "yes"), [
    ({"operator": "gte", "value": 10}, True),
    ({"operator": "gte", "value": 11}, False),
    ({"operator": "lte", "value": 10}, True),
    ({"operator": "lte", "value": 9}, False),
    ({"operator": "equals", "value": 10}, True),
    ({"operator": "equals", "value": -10}, False),
    ({"operator": "between", "value": 5, "value_to": 10}, True),
    ({"operator": "between", "value": 11, "value_to": 20}, False),
])  # fmt: skip
def test_a_points_condition(readers, condition, yes):
    from tidings.contacts.actions import contact_points_change

    ada, grace = readers
    contact_points_change(ada.id, "plus", 10, principal=system_principal())
    campaign = _yes_no({"kind": "condition", "test": "points", **condition})
    add(campaign, ada, grace)
    run()
    assert runs(campaign, ada)[0][2] == ("yes" if yes else "no")
    assert runs(campaign, grace)[0][2] == ("yes" if condition["operator"] == "lte" else "no")  # grace has 0


def test_a_device_condition_reads_the_newest_page_hit(readers):
    ada, grace = readers
    somebody = make_contact({"email": "nobody@unseen.example"})
    _write(ada, "page.hit", url="https://acme.example/", ctx="desktop|Windows|Chrome|GB")
    _write(ada, "page.hit", url="https://acme.example/pricing", ctx="mobile|iOS|Mobile_Safari|GB")
    _write(grace, "page.hit", url="https://acme.example/", ctx="mobile|Android|Chrome|US")
    campaign = _yes_no({"kind": "condition", "test": "device", "device": "mobile", "os": "ios"})
    add(campaign, ada, grace, somebody)
    run()
    assert runs(campaign, ada)[0][2] == "yes"
    assert runs(campaign, grace)[0][2] == "no"  # mobile, but Android
    assert runs(campaign, somebody)[0][2] == "no"  # never seen: no device
    tablets = _yes_no({"kind": "condition", "test": "device", "device": "tablet"})
    add(tablets, ada)
    run()
    assert runs(tablets, ada)[0][2] == "no"


def test_a_time_condition_reads_the_contacts_own_time_zone_else_the_steps(in_acme):
    tokyo = make_contact({"email": "kiku@tokyo.example", "timezone": "Asia/Tokyo"})
    local = make_contact({"email": "lee@nowhere.example"})
    # Tuesday 2026-12-01 02:00 UTC: 11:00 in Tokyo (in the window), 02:00 by the step's UTC (not yet).
    with freezegun.freeze_time(datetime.datetime(2026, 12, 1, 2, tzinfo=datetime.UTC), tick=True):
        campaign = _yes_no({"kind": "condition", "test": "time", "start_hour": 9, "end_hour": 17,
                            "weekdays": [0, 1, 2, 3, 4], "timezone": "UTC"})  # fmt: skip
        add(campaign, tokyo, local)
        run()
    assert runs(campaign, tokyo)[0][2] == "yes"
    assert runs(campaign, local)[0][2] == "no"


# ---------------------------------------------------------------------------------------------
# Time windows


def test_a_time_window_opens_in_each_contacts_time_zone(in_acme):
    from tidings.campaigns.models import StepRun

    tokyo = make_contact({"email": "kiku@tokyo.example", "timezone": "Asia/Tokyo"})
    paris = make_contact({"email": "rene@paris.example", "timezone": "Europe/Paris"})
    local = make_contact({"email": "lee@nowhere.example"})
    tuesday = datetime.datetime(2026, 12, 1, 2, tzinfo=datetime.UTC)  # 11:00 Tokyo, 03:00 Paris, 02:00 UTC
    with freezegun.freeze_time(tuesday, tick=True):
        campaign = publish({"id": 1, "kind": "delay", "mode": "window", "start_hour": 9, "end_hour": 17,
                            "weekdays": [0, 1, 2, 3, 4], "timezone": "UTC", "next": 2},
                           {"id": 2, "kind": "add_tags", "tags": ["sent"]})  # fmt: skip
        add(campaign, tokyo, paris, local)
        result = run()
        assert result.waiting == 2
    assert _tags(tokyo) == ["sent"]
    due = dict(StepRun.objects.filter(step=1, status="pending").values_list("contact_id", "due_at"))
    assert due == {paris.id: datetime.datetime(2026, 12, 1, 8, tzinfo=datetime.UTC),  # 09:00 in Paris
                   local.id: datetime.datetime(2026, 12, 1, 9, tzinfo=datetime.UTC)}  # fmt: skip


def test_a_time_window_batch_reads_time_zones_in_one_query(in_acme, django_assert_max_num_queries):
    from tidings.campaigns.conditions import zones_of

    ids = [make_contact({"email": f"r{i}@zones.example", "timezone": z}).id
           for i, z in enumerate(["Asia/Tokyo", "Europe/Paris", ""])]  # fmt: skip
    with django_assert_max_num_queries(1):
        zones = zones_of(ids, {"timezone": "America/New_York"})
    assert list(zones.values()) == ["Asia/Tokyo", "Europe/Paris", "America/New_York"]


# ---------------------------------------------------------------------------------------------
# Event types


def test_the_campaign_event_types_belong_to_campaigns_with_their_codes():
    from tidings.contacts.event_types import EventType
    from tidings.events.descriptions import describe
    from tidings.events.registry import code_for, event_type

    for code, name in ((50, "campaign.entered"), (51, "campaign.step"), (52, "campaign.left")):
        assert code_for(name) == code
        assert event_type(code).domain == "campaigns"
        assert set(event_type(code).keys) == {"campaign_id", "step_id"}
    assert not {50, 51, 52} & {int(c) for c in EventType}
    entered = describe([(50, {"campaign_id": 4, "step_id": 1})])[0]
    assert "Entered campaign #4" in str(entered)
