"""Issue 14's remaining steps and goals: change stage, set owner, notify a member, enter another campaign, goals.

Each end to end: the graph's check (errors keyed by path, references of this workspace), the engine (one
call per group where the contacts app allows it, exactly once), and what the builder shows.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tidings.campaigns.tests.conftest import add, graph, later, make_email, make_stage, publish, run, runs
from tidings.campaigns.tests.conftest import system as system_principal


def _events(contact, name):
    from tidings.events.models import Event
    from tidings.events.registry import code_for

    return list(Event.objects.filter(contact_id=contact.id, type=code_for(name)).values_list("data", flat=True))


def _check(raw, **kwargs):
    from tidings.campaigns import graph as graphs

    return graphs.check(raw, **kwargs)


def _errors(raw, **kwargs) -> dict:
    with pytest.raises(ValidationError) as caught:
        _check(raw, **kwargs)
    return caught.value.message_dict


# ---------------------------------------------------------------------------------------------
# The graph's check


def test_the_new_kinds_check_their_parameters_by_path():
    steps = [{"id": 1, "kind": "change_stage", "stage_id": 0, "next": 2},
             {"id": 2, "kind": "set_owner", "user_id": "x", "next": 3},
             {"id": 3, "kind": "notify_user", "user_id": 5, "subject": "", "next": 4},
             {"id": 4, "kind": "enter_campaign"}]  # fmt: skip
    errors = _errors(graph(*steps))
    assert set(errors) == {"steps.0.stage_id", "steps.1.user_id", "steps.2.subject", "steps.3.campaign_id"}


def test_members_and_campaigns_named_must_be_this_workspaces():
    steps = [{"id": 1, "kind": "set_owner", "user_id": 7, "next": 2}, {"id": 2, "kind": "notify_user", "user_id": 8,
             "next": 3}, {"id": 3, "kind": "enter_campaign", "campaign_id": 9}]  # fmt: skip
    errors = _errors(graph(*steps), members=lambda ids: {7} & set(ids), campaigns=lambda ids: set())
    assert errors == {"steps.1.user_id": ["a member of this workspace"],
                      "steps.2.campaign_id": ["another campaign of this workspace"]}  # fmt: skip
    clean = _check(graph(*steps), members=set, campaigns=set)
    assert clean["steps"][1]["subject"] == "A contact reached a campaign step"
    assert _check(clean, members=set, campaigns=set) == clean


def test_goals_are_checked_by_path():
    goals = [{"kind": "has_tag", "tag": "buyer"}, {"kind": "points_at_least"}, {"kind": "flew"},
             {"kind": "submitted_form", "form_id": 4}]  # fmt: skip
    raw = graph({"id": 1, "kind": "exit"}, goals=goals)
    errors = _errors(raw, forms=lambda ids: set())
    assert set(errors) == {"goals.1.points", "goals.2.kind"}
    raw["goals"] = raw["goals"][:1] + raw["goals"][3:]
    errors = _errors(raw, forms=lambda ids: set())
    assert errors == {"goals.1.form_id": ["a form of this workspace"]}
    assert _errors(graph({"id": 1, "kind": "exit"}, goals="x")) == {"goals": ["a list of at most 10 goals"]}
    clean = _check(graph({"id": 1, "kind": "exit"}, goals=[{"kind": "clicked_email"}]))
    assert clean["goals"] == [{"kind": "clicked_email", "email_id": None}]
    assert "goals" not in _check(graph({"id": 1, "kind": "exit"}))  # a graph without goals checks as before


def test_the_actions_check_members_and_campaigns_of_the_workspace(in_acme, alice, bob):
    from tidings.campaigns.actions import campaign_create, campaign_update

    other = campaign_create(principal=system_principal(), name="Other", graph=graph())
    made = campaign_create(principal=system_principal(), name="Mine",
                           graph=graph({"id": 1, "kind": "set_owner", "user_id": alice.pk, "next": 2},
                                       {"id": 2, "kind": "enter_campaign", "campaign_id": other.pk}))  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        campaign_update(made.pk, principal=system_principal(),
                        graph=graph({"id": 1, "kind": "set_owner", "user_id": bob.pk, "next": 2},
                                    {"id": 2, "kind": "enter_campaign", "campaign_id": made.pk}))  # fmt: skip
    assert caught.value.message_dict == {
        "graph.steps.0.user_id": ["a member of this workspace"],
        "graph.steps.1.campaign_id": ["another campaign of this workspace"],
    }


# ---------------------------------------------------------------------------------------------
# The engine


def test_change_stage_moves_every_contact_in_one_call_and_records_stage_changed(readers, monkeypatch):
    from tidings.contacts import actions as contacts_actions
    from tidings.contacts.models import Contact

    ada, grace = readers
    calls = []
    original = contacts_actions.contacts_stage_change
    monkeypatch.setattr(contacts_actions, "contacts_stage_change",
                        lambda ids, stage, **kw: calls.append(len(ids)) or original(ids, stage, **kw))  # fmt: skip
    lead = make_stage("Lead")
    campaign = publish({"id": 1, "kind": "change_stage", "stage_id": lead.id})
    add(campaign, ada, grace)
    assert run().done == 2
    assert calls == [2]
    assert set(Contact.objects.values_list("stage_id", flat=True)) == {lead.id}
    assert _events(ada, "stage.changed") == [{"stage_id": lead.id, "previous_stage_id": 0}]
    # Already at that stage: no second event.
    assert original([ada.id], lead.id, principal=system_principal()) == 0
    assert len(_events(ada, "stage.changed")) == 1


def test_a_change_stage_step_must_name_a_stage_of_this_workspace(in_acme, initech):
    from tidings.campaigns.actions import campaign_create
    from tidings.tenancy.context import use_workspace

    make_stage("Acme lead")
    with use_workspace(initech):
        theirs = make_stage("Initech lead")
    with pytest.raises(ValidationError) as caught:
        campaign_create(principal=system_principal(), name="Poach",
                        graph=graph({"id": 1, "kind": "change_stage", "stage_id": theirs.id}))  # fmt: skip
    assert caught.value.message_dict == {"graph.steps.0.stage_id": ["a stage of this workspace"]}


def test_a_change_stage_step_whose_stage_was_deleted_skips_its_contacts(readers):
    from tidings.contacts.actions import stage_delete
    from tidings.contacts.models import Contact

    ada, grace = readers
    lead = make_stage("Lead")
    campaign = publish({"id": 1, "kind": "change_stage", "stage_id": lead.id})
    stage_delete(lead.id, principal=system_principal())
    add(campaign, ada, grace)
    run()
    assert {r[3] for r in runs(campaign)} == {"no_stage"}
    assert set(Contact.objects.values_list("stage_id", flat=True)) == {None}


def test_set_owner_sets_a_member_and_is_skipped_when_they_left_the_workspace(readers, alice):
    from tidings.accounts.models import Membership
    from tidings.contacts.models import Contact

    ada, grace = readers
    campaign = publish({"id": 1, "kind": "set_owner", "user_id": alice.pk, "next": 2},
                       {"id": 2, "kind": "add_tags", "tags": ["owned"]})  # fmt: skip
    add(campaign, ada)
    assert run().done == 2
    assert Contact.objects.get(pk=ada.id).owner_id == alice.pk
    Membership.objects.filter(user=alice).delete()  # checked again when the step runs
    add(campaign, grace)
    run()
    assert runs(campaign, grace) == [(1, "skipped", "", "not_member"), (2, "done", "", "")]
    assert Contact.objects.get(pk=grace.id).owner_id is None


def test_notify_user_emails_the_member_one_link_per_contact_and_no_personal_value(
    readers, alice, mailoutbox, django_capture_on_commit_callbacks
):
    ada, grace = readers
    campaign = publish({"id": 1, "kind": "notify_user", "user_id": alice.pk, "subject": "Hot lead"})
    add(campaign, ada, grace)
    from tidings.tenancy.context import require_workspace

    with django_capture_on_commit_callbacks(using=require_workspace().db_alias, execute=True):
        assert run().done == 2
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["alice@acme.example"] and message.subject == "Hot lead"
    assert f"/contacts/{ada.id}" in message.body and f"/contacts/{grace.id}" in message.body
    for value in ("ada@analytical.example", "Ada", "grace@navy.example", "Grace"):
        assert value not in message.body


def test_a_crash_before_the_notice_commits_sends_it_once(readers, alice, mailoutbox,
                                                         django_capture_on_commit_callbacks):  # fmt: skip
    from tidings.campaigns.actions import lease_expire_now
    from tidings.campaigns.engine import SimulatedCrash
    from tidings.tenancy.context import require_workspace

    ada, _ = readers
    campaign = publish({"id": 1, "kind": "notify_user", "user_id": alice.pk})
    add(campaign, ada)
    with django_capture_on_commit_callbacks(using=require_workspace().db_alias, execute=True):
        with pytest.raises(SimulatedCrash):
            run(crash_after="step")
        lease_expire_now(principal=system_principal())
        run()
    assert len(mailoutbox) == 1
    assert runs(campaign, ada) == [(1, "done", "", "")]


def test_enter_campaign_enrols_in_another_published_campaign_under_its_entry_rules(readers):
    from tidings.campaigns.actions import campaign_unpublish
    from tidings.campaigns.models import Enrolment

    ada, grace = readers
    target = publish({"id": 1, "kind": "add_tags", "tags": ["nurtured"]}, name="Nurture")
    source = publish({"id": 1, "kind": "enter_campaign", "campaign_id": target.pk}, name="Welcome")
    add(target, grace)  # already walked it once: a once campaign keeps her out
    run()
    add(source, ada, grace)
    run()
    assert runs(source, ada) == [(1, "done", "", "")]
    assert runs(source, grace) == [(1, "skipped", "", "entry_rule")]
    assert Enrolment.objects.get(campaign_id=target.pk, contact_id=ada.id).source == "campaign"
    assert runs(target, ada) == [(1, "done", "", "")]  # walked in the same run
    campaign_unpublish(target.pk, principal=system_principal())
    again = publish({"id": 1, "kind": "enter_campaign", "campaign_id": target.pk}, name="Again")
    add(again, ada)
    run()
    assert runs(again, ada) == [(1, "skipped", "", "campaign_unpublished")]


def test_a_goal_reached_ends_the_enrolment_wherever_the_contact_waits(readers):
    from tidings.campaigns.models import Enrolment
    from tidings.contacts.actions import contacts_tag

    ada, grace = readers
    campaign = publish({"id": 1, "kind": "delay", "mode": "interval", "seconds": 86400, "next": 2},
                       {"id": 2, "kind": "add_tags", "tags": ["reminded"]},
                       goals=[{"kind": "has_tag", "tag": "buyer"}])  # fmt: skip
    add(campaign, ada, grace)
    run()
    contacts_tag([ada.id], ["buyer"], principal=system_principal())
    run()  # the tag event: her enrolment ends at once, not in a day
    enrolment = Enrolment.objects.get(campaign_id=campaign.pk, contact_id=ada.id)
    assert (enrolment.status, enrolment.exit_reason) == ("exited", "goal")
    assert runs(campaign, ada) == [(1, "cancelled", "armed", "goal")]
    with later(days=2):
        run()
    assert runs(campaign, grace) == [(1, "done", "", ""), (2, "done", "", "")]


def test_a_goal_is_also_checked_at_each_step(readers):
    from tidings.campaigns.models import Enrolment
    from tidings.contacts.actions import contact_points_change

    ada, _ = readers
    campaign = publish({"id": 1, "kind": "delay", "mode": "interval", "seconds": 3600, "next": 2},
                       {"id": 2, "kind": "add_tags", "tags": ["reminded"]},
                       goals=[{"kind": "points_at_least", "points": 10}])  # fmt: skip
    add(campaign, ada)
    run()
    contact_points_change(ada.id, "plus", 20, principal=system_principal())
    with later(hours=2):  # long after the event: only the check at the step sees the goal
        run()
    assert Enrolment.objects.get(contact_id=ada.id).exit_reason == "goal"
    assert [r[1] for r in runs(campaign, ada)] == ["cancelled"]


def test_a_click_goal_counts_only_after_entry(readers):
    from tidings.campaigns.goals import goals_reached
    from tidings.campaigns.models import Enrolment
    from tidings.events.registry import code_for
    from tidings.events.store import EventRow, write

    ada, grace = readers
    email = make_email(kind="template")
    write([EventRow(type=code_for("email.clicked"), contact_id=ada.id, data={"email_id": email.pk, "send_id": 1})])
    campaign = publish({"id": 1, "kind": "delay", "mode": "interval", "seconds": 3600},
                       goals=[{"kind": "clicked_email", "email_id": email.pk}])  # fmt: skip
    with later(seconds=5):
        add(campaign, ada, grace)
        entered = dict(Enrolment.objects.values_list("contact_id", "entered_at"))
        assert goals_reached([{"kind": "clicked_email", "email_id": email.pk}], entered) == set()
        write([EventRow(type=code_for("email.clicked"), contact_id=grace.id, data={"email_id": email.pk,
                                                                                    "send_id": 2})])  # fmt: skip
        run()
    assert dict(Enrolment.objects.values_list("contact_id", "exit_reason")) == {ada.id: "", grace.id: "goal"}


def test_a_tag_or_points_event_wakes_the_campaigns(readers, monkeypatch, django_capture_on_commit_callbacks):

    from tidings.campaigns import tasks
    from tidings.contacts.actions import contacts_tag
    from tidings.tenancy.context import require_workspace

    ada, _ = readers
    publish({"id": 1, "kind": "exit"}, goals=[{"kind": "has_tag", "tag": "buyer"}])
    woken = []
    monkeypatch.setattr(tasks, "WAKE_DEBOUNCE", 0)
    monkeypatch.setattr(tasks, "enqueue_once", lambda task, **kw: woken.append(kw))
    with django_capture_on_commit_callbacks(using=require_workspace().db_alias, execute=True):
        contacts_tag([ada.id], ["buyer"], principal=system_principal())
    assert woken == [{"workspace_id": require_workspace().id}]
