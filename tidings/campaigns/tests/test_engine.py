"""The engine step by step: each kind of step, entry and exit, versions, and exactly once under a crash.

ada and grace consented to Acme's marketing email; campaigns are built from steps and published, contacts
added by hand unless a test is about sources, and the engine run in this thread as the task does.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tidings.campaigns.tests.conftest import add, later, make_contact, make_email, make_segment, publish, run, runs
from tidings.campaigns.tests.conftest import system as system_principal


def _events(contact, name):
    from tidings.events.models import Event
    from tidings.events.registry import code_for

    return list(Event.objects.filter(contact_id=contact.id, type=code_for(name)).values_list("data", flat=True))


def _click(contact, email_id):
    from tidings.events.registry import code_for
    from tidings.events.store import EventRow, write

    write([EventRow(type=code_for("email.clicked"), contact_id=contact.id, data={"email_id": email_id, "send_id": 1})])


# ---------------------------------------------------------------------------------------------
# Actions


def test_tags_are_added_and_removed_for_every_contact_in_one_pass(readers):
    from tidings.campaigns.models import Enrolment
    from tidings.contacts.selectors import contact_tags

    ada, grace = readers
    campaign = publish({"id": 1, "kind": "add_tags", "tags": ["vip", "new"], "next": 2},
                       {"id": 2, "kind": "remove_tags", "tags": ["new"]})  # fmt: skip
    assert add(campaign, ada, grace) == 2
    result = run()
    assert result.done == 4 and result.skipped == 0
    assert contact_tags(ada.id) == ["vip"] and contact_tags(grace.id) == ["vip"]
    assert runs(campaign, ada) == [(1, "done", "", ""), (2, "done", "", "")]
    assert set(Enrolment.objects.values_list("status", flat=True)) == {"finished"}
    assert [d["campaign_id"] for d in _events(ada, "campaign.entered")] == [campaign.pk]
    assert [d["step_id"] for d in _events(ada, "campaign.step")] == [1, 2]


def test_a_tag_step_for_many_contacts_tags_them_in_one_call(in_acme, monkeypatch):
    from tidings.contacts import actions as contacts_actions
    from tidings.contacts.actions import contacts_bulk_upsert

    contacts_bulk_upsert(
        [{"email": f"reader{i}@acme.example"} for i in range(300)], lawful_basis="consent", principal=system_principal()
    )
    from tidings.contacts.conditions import existing_contact_ids

    ids = existing_contact_ids(list(range(1, 1000)))
    calls = []
    original = contacts_actions.contacts_tag
    monkeypatch.setattr(contacts_actions, "contacts_tag", lambda ids, tags, **kw: calls.append(len(ids)) or original(
        ids, tags, **kw))  # fmt: skip
    campaign = publish({"id": 1, "kind": "add_tags", "tags": ["bulk"]})
    from tidings.campaigns.actions import campaign_contacts_add

    assert campaign_contacts_add(campaign.pk, ids, principal=system_principal()) == 300
    assert run().done == 300
    assert calls == [300]


def test_segment_points_fields_and_do_not_contact_steps(readers):
    from tidings.contacts.selectors import contact_dnc, contact_get
    from tidings.segments.selectors import segment_member_ids

    ada, _ = readers
    vips = make_segment([], name="VIPs")
    campaign = publish(
        {"id": 1, "kind": "add_to_segment", "segment_id": vips.pk, "next": 2},
        {"id": 2, "kind": "change_points", "operator": "plus", "delta": 5, "next": 3},
        {"id": 3, "kind": "update_fields", "values": {"city": "Paris"}, "next": 4},
        {"id": 4, "kind": "do_not_contact", "next": 5},
        {"id": 5, "kind": "remove_from_segment", "segment_id": vips.pk},
    )
    add(campaign, ada)
    assert run().done == 5
    contact = contact_get(ada.id)
    assert contact.get("city") == "Paris"
    from tidings.contacts.models import Contact

    assert Contact.objects.get(pk=ada.id).points == 5
    assert [row.reason for row in contact_dnc(ada.id)] == ["manual"]
    assert ada.id not in set(segment_member_ids(vips.pk))
    assert _events(ada, "segment.added") and _events(ada, "segment.removed")


def test_an_invalid_field_value_is_skipped_with_its_reason_and_the_walk_goes_on(readers):
    ada, _ = readers
    campaign = publish({"id": 1, "kind": "update_fields", "values": {"no_such_field": "x"}, "next": 2},
                       {"id": 2, "kind": "add_tags", "tags": ["after"]})  # fmt: skip
    add(campaign, ada)
    run()
    assert runs(campaign, ada) == [(1, "skipped", "", "invalid_value"), (2, "done", "", "")]
    assert _events(ada, "campaign.step_skipped") == [{"campaign_id": campaign.pk, "step_id": 1,
                                                      "reason": "invalid_value"}]  # fmt: skip


def test_the_exit_step_takes_the_contact_out(readers):
    from tidings.campaigns.models import Enrolment

    ada, _ = readers
    campaign = publish({"id": 1, "kind": "exit"})
    add(campaign, ada)
    run()
    enrolment = Enrolment.objects.get(contact_id=ada.id)
    assert (enrolment.status, enrolment.exit_reason) == ("exited", "exit_step")
    assert _events(ada, "campaign.left") == [{"campaign_id": campaign.pk}]


def test_an_email_goes_to_a_consenting_contact_and_is_skipped_with_its_reason_otherwise(in_acme, smtp):
    ada = make_contact({"email": "ada@analytical.example", "firstname": "Ada"})
    grace = make_contact({"email": "grace@navy.example", "firstname": "Grace"}, consent=False)
    welcome = make_email(name="Welcome", kind="template")
    campaign = publish({"id": 1, "kind": "send_email", "email_id": welcome.pk})
    add(campaign, ada, grace)
    result = run()
    assert (result.done, result.skipped) == (1, 1)
    assert [m["To"] for m in smtp.parsed()] == ["ada@analytical.example"]
    assert runs(campaign, grace) == [(1, "skipped", "", "no_consent")]
    assert _events(grace, "campaign.step_skipped")[0]["reason"] == "no_consent"


def test_a_do_not_contact_contact_is_not_emailed(in_acme, smtp):
    from tidings.contacts.actions import dnc_add

    ada = make_contact({"email": "ada@analytical.example"})
    dnc_add(ada.id, reason="unsubscribed", principal=system_principal())
    welcome = make_email(name="Welcome", kind="template")
    campaign = publish({"id": 1, "kind": "send_email", "email_id": welcome.pk})
    add(campaign, ada)
    run()
    assert smtp.messages == []
    assert runs(campaign, ada) == [(1, "skipped", "", "dnc_unsubscribed")]


# ---------------------------------------------------------------------------------------------
# Decisions and conditions


def test_a_click_within_the_window_takes_the_yes_path_and_no_click_the_no_path(readers):
    from tidings.contacts.selectors import contact_tags

    ada, grace = readers
    clicked, other = make_email(name="Clicked", kind="template"), make_email(name="Other", kind="template")
    campaign = publish(
        {"id": 1, "kind": "decision", "event": "clicked_email", "email_id": clicked.pk, "window_seconds": 3600,
         "yes": 2,
         "no": 3},
        {"id": 2, "kind": "add_tags", "tags": ["clicked"]},
        {"id": 3, "kind": "add_tags", "tags": ["silent"]},
    )  # fmt: skip
    add(campaign, ada, grace)
    assert run().waiting == 2  # nobody clicked yet
    _click(ada, clicked.pk)
    _click(grace, other.pk)  # another email's click does not count
    run()
    assert contact_tags(ada.id) == ["clicked"]
    assert contact_tags(grace.id) == []
    with later(hours=1, minutes=1):
        run()
    assert contact_tags(grace.id) == ["silent"]
    assert [d["path"] for d in _events(ada, "campaign.decided")] == ["yes"]
    assert [d["path"] for d in _events(grace, "campaign.decided")] == ["no"]


def test_a_click_wakes_a_waiting_decision_at_once(readers):
    from tidings.campaigns.models import StepRun

    ada, _ = readers
    campaign = publish({"id": 1, "kind": "decision", "event": "clicked_email", "window_seconds": 86400, "yes": 2},
                       {"id": 2, "kind": "add_tags", "tags": ["clicked"]})  # fmt: skip
    add(campaign, ada)
    run()
    assert StepRun.objects.get(step=1).due_at > timezone.now() + datetime.timedelta(seconds=30)
    _click(ada, 3)
    assert run().done == 2  # nudged: due now, not at the next recheck


@pytest.mark.parametrize(
    ("condition", "yes"),
    [
        ({"test": "field", "field": "city", "operator": "equals", "value": "london"}, True),
        ({"test": "field", "field": "city", "operator": "empty"}, False),
        ({"test": "field", "field": "city", "operator": "contains", "value": "ond"}, True),
        ({"test": "tag", "tag": "reader"}, True),
        ({"test": "tag", "tag": "writer"}, False),
        ({"test": "consent", "purpose": "marketing_email"}, True),
        ({"test": "consent", "purpose": "no_such_purpose"}, False),
    ],
)
def test_a_condition_picks_the_path(readers, condition, yes):
    from tidings.contacts.actions import contact_tags_change

    ada, _ = readers
    contact_tags_change(ada.id, ["reader"], principal=system_principal())
    campaign = publish({"id": 1, "kind": "condition", **condition, "yes": 2, "no": 3},
                       {"id": 2, "kind": "add_tags", "tags": ["yes"]},
                       {"id": 3, "kind": "add_tags", "tags": ["no"]})  # fmt: skip
    add(campaign, ada)
    run()
    assert runs(campaign, ada)[0][2] == ("yes" if yes else "no")


def test_a_segment_condition(readers):
    ada, grace = readers
    segment = make_segment([ada.id], name="Londoners")
    campaign = publish({"id": 1, "kind": "condition", "test": "segment", "segment_id": segment.pk, "yes": 2},
                       {"id": 2, "kind": "add_tags", "tags": ["in"]})  # fmt: skip
    add(campaign, ada, grace)
    run()
    assert runs(campaign, ada) == [(1, "done", "yes", ""), (2, "done", "", "")]
    assert runs(campaign, grace) == [(1, "done", "no", "")]


# ---------------------------------------------------------------------------------------------
# Delays


def test_an_interval_delay_waits_then_lets_through(readers):
    ada, _ = readers
    campaign = publish({"id": 1, "kind": "delay", "mode": "interval", "seconds": 3600, "next": 2},
                       {"id": 2, "kind": "add_tags", "tags": ["later"]})  # fmt: skip
    add(campaign, ada)
    assert run().waiting == 1
    assert run().claimed == 0  # not due yet
    with later(minutes=61):
        assert run().done == 2


def test_an_until_delay_in_the_past_lets_through_at_once(readers):
    ada, _ = readers
    campaign = publish({"id": 1, "kind": "delay", "mode": "until", "until": "2020-01-01T09:00:00+00:00", "next": 2},
                       {"id": 2, "kind": "add_tags", "tags": ["x"]})  # fmt: skip
    add(campaign, ada)
    assert run().done == 2


def test_a_delay_relative_to_a_date_field_waits_for_its_next_anniversary(readers):
    from tidings.campaigns.conditions import field_time

    step = {"field": "birthday", "offset_days": -1, "hour": 9, "timezone": "UTC"}
    now = datetime.datetime(2026, 12, 1, 12, tzinfo=datetime.UTC)
    assert field_time("1990-12-25", step, now) == datetime.datetime(2026, 12, 24, 9, tzinfo=datetime.UTC)
    assert field_time("1990-03-10", step, now) == datetime.datetime(2027, 3, 9, 9, tzinfo=datetime.UTC)
    assert field_time("", step, now) is None


def test_a_time_window_waits_for_the_next_weekday_opening():
    from tidings.campaigns.conditions import next_in_window

    step = {"start_hour": 9, "end_hour": 17, "weekdays": [0, 1, 2, 3, 4], "timezone": "Europe/Paris"}
    saturday_noon = datetime.datetime(2026, 12, 5, 11, tzinfo=datetime.UTC)
    assert next_in_window(saturday_noon, step) == datetime.datetime(2026, 12, 7, 8, tzinfo=datetime.UTC)
    tuesday_ten_paris = datetime.datetime(2026, 12, 1, 9, tzinfo=datetime.UTC)
    assert next_in_window(tuesday_ten_paris, step) == tuesday_ten_paris
    tuesday_evening = datetime.datetime(2026, 12, 1, 18, tzinfo=datetime.UTC)
    assert next_in_window(tuesday_evening, step) == datetime.datetime(2026, 12, 2, 8, tzinfo=datetime.UTC)


# ---------------------------------------------------------------------------------------------
# Entry, exit, versions


def test_segment_members_enter_and_leave_with_the_segment(readers):
    from tidings.campaigns.models import Enrolment
    from tidings.segments.actions import segment_members_remove

    ada, grace = readers
    segment = make_segment([ada.id, grace.id])
    campaign = publish({"id": 1, "kind": "delay", "mode": "interval", "seconds": 3600},
                       sources=[{"kind": "segment", "segment_id": segment.pk}], exit_on_segment_leave=True)  # fmt: skip
    run()
    assert Enrolment.objects.filter(status="active").count() == 2
    segment_members_remove(segment.pk, [grace.id], principal=system_principal())
    run()
    assert dict(Enrolment.objects.values_list("contact_id", "status")) == {ada.id: "active", grace.id: "exited"}
    assert [(r[0], r[1], r[3]) for r in runs(campaign, grace)] == [(1, "cancelled", "left_segment")]


def test_a_once_campaign_never_takes_a_contact_twice(readers):
    ada, _ = readers
    campaign = publish({"id": 1, "kind": "add_tags", "tags": ["x"]})
    assert add(campaign, ada) == 1
    run()
    assert add(campaign, ada) == 0


def test_a_repeating_campaign_takes_a_contact_back_after_its_minimum_gap(readers):
    ada, _ = readers
    campaign = publish({"id": 1, "kind": "add_tags", "tags": ["x"]},
                       entry={"mode": "repeat", "min_gap_seconds": 3600})  # fmt: skip
    assert add(campaign, ada) == 1
    run()
    assert add(campaign, ada) == 0  # too soon
    with later(hours=2):
        assert add(campaign, ada) == 1
        run()
    assert [r[:2] for r in runs(campaign, ada)] == [(1, "done"), (1, "done")]


def test_a_repeating_form_campaign_takes_back_a_contact_who_submits_again(readers):
    from tidings.campaigns.models import Enrolment
    from tidings.events.registry import code_for
    from tidings.events.store import EventRow, write
    from tidings.forms.models import Form

    ada, _ = readers
    form = Form.objects.create(name="Newsletter", alias="newsletter")
    publish({"id": 1, "kind": "add_tags", "tags": ["x"]}, sources=[{"kind": "form", "form_id": form.pk}],
                       entry={"mode": "repeat"})  # fmt: skip

    def submit():
        write([EventRow(type=code_for("form.submitted"), contact_id=ada.id, data={"form_id": form.pk})])

    submit()
    run()
    run()  # the same submission, read again within the margin, enters no one twice
    assert Enrolment.objects.get().entries == 1
    with later(seconds=2):
        submit()
        run()
    assert Enrolment.objects.get().entries == 2


def test_editing_a_running_campaign_keeps_contacts_on_their_version_unless_moved(readers):
    from tidings.campaigns.actions import campaign_publish, campaign_update
    from tidings.campaigns.models import StepRun
    from tidings.campaigns.tests.conftest import graph
    from tidings.contacts.selectors import contact_tags

    ada, grace = readers
    campaign = publish({"id": 1, "kind": "delay", "mode": "interval", "seconds": 60, "next": 2},
                       {"id": 2, "kind": "add_tags", "tags": ["v1"]})  # fmt: skip
    add(campaign, ada)
    run()
    campaign_update(campaign.pk, graph=graph({"id": 3, "kind": "delay", "mode": "interval", "seconds": 60, "next": 4},
                                             {"id": 4, "kind": "add_tags", "tags": ["v2"]}),
                    principal=system_principal())  # fmt: skip
    campaign_publish(campaign.pk, principal=system_principal())
    add(campaign, grace)
    run()
    with later(minutes=2):
        run()
    assert contact_tags(ada.id) == ["v1"] and contact_tags(grace.id) == ["v2"]
    assert set(StepRun.objects.values_list("contact_id", "version").distinct()) == {(ada.id, 1), (grace.id, 2)}


def test_publishing_with_moves_sends_waiting_contacts_to_a_step_of_the_new_version(readers):
    from tidings.campaigns.actions import campaign_publish, campaign_update
    from tidings.campaigns.tests.conftest import graph
    from tidings.contacts.selectors import contact_tags

    ada, _ = readers
    campaign = publish({"id": 1, "kind": "delay", "mode": "interval", "seconds": 3600, "next": 2},
                       {"id": 2, "kind": "add_tags", "tags": ["v1"]})  # fmt: skip
    add(campaign, ada)
    run()
    campaign_update(campaign.pk, graph=graph({"id": 5, "kind": "add_tags", "tags": ["moved"]}),
                    principal=system_principal())  # fmt: skip
    campaign_publish(campaign.pk, moves={"1": 5}, principal=system_principal())
    run()
    assert contact_tags(ada.id) == ["moved"]


def test_an_unpublished_campaign_runs_nothing_until_published_again(readers):
    from tidings.campaigns.actions import campaign_publish, campaign_unpublish

    ada, _ = readers
    campaign = publish({"id": 1, "kind": "add_tags", "tags": ["x"]})
    add(campaign, ada)
    campaign_unpublish(campaign.pk, principal=system_principal())
    assert run().claimed == 0
    campaign_publish(campaign.pk, principal=system_principal())
    assert run().done == 1


def test_removing_a_contact_cancels_its_steps(readers):
    from tidings.campaigns.actions import campaign_contacts_remove

    ada, _ = readers
    campaign = publish({"id": 1, "kind": "delay", "mode": "interval", "seconds": 60, "next": 2},
                       {"id": 2, "kind": "add_tags", "tags": ["x"]})  # fmt: skip
    add(campaign, ada)
    assert campaign_contacts_remove(campaign.pk, [ada.id], principal=system_principal()) == 1
    assert [(r[0], r[1], r[3]) for r in runs(campaign, ada)] == [(1, "cancelled", "removed")]


# ---------------------------------------------------------------------------------------------
# Exactly once


def test_a_crash_after_the_step_before_it_was_recorded_neither_skips_nor_repeats_it(readers):
    from tidings.campaigns.actions import lease_expire_now
    from tidings.campaigns.engine import SimulatedCrash
    from tidings.contacts.models import Contact

    ada, grace = readers
    campaign = publish({"id": 1, "kind": "change_points", "operator": "plus", "delta": 10, "next": 2},
                       {"id": 2, "kind": "add_tags", "tags": ["after"]})  # fmt: skip
    add(campaign, ada, grace)
    with pytest.raises(SimulatedCrash):
        run(crash_after="step")
    # The step's work went with the transaction; the runs stay claimed until their lease lapses.
    assert Contact.objects.get(pk=ada.id).points == 0
    assert run().claimed == 0
    lease_expire_now(principal=system_principal())
    assert run().done == 4
    assert Contact.objects.get(pk=ada.id).points == 10 and Contact.objects.get(pk=grace.id).points == 10
    assert len(_events(ada, "points.changed")) == 1
    assert [r[:2] for r in runs(campaign, ada)] == [(1, "done"), (2, "done")]


def test_a_crash_after_an_email_left_never_sends_it_twice_and_records_it_sent(in_acme, smtp):
    from tidings.campaigns.actions import lease_expire_now
    from tidings.campaigns.engine import SimulatedCrash

    ada = make_contact({"email": "ada@analytical.example"})
    welcome = make_email(name="Welcome", kind="template")
    campaign = publish({"id": 1, "kind": "send_email", "email_id": welcome.pk, "next": 2},
                       {"id": 2, "kind": "add_tags", "tags": ["after"]})  # fmt: skip
    add(campaign, ada)
    with pytest.raises(SimulatedCrash):
        run(crash_after="send")
    assert len(smtp.messages) == 1
    lease_expire_now(principal=system_principal())
    run()
    assert len(smtp.messages) == 1
    # The emails app recorded the message sent: the run is done, as if the worker had finished.
    assert runs(campaign, ada) == [(1, "done", "", ""), (2, "done", "", "")]


def test_a_send_step_sends_its_batch_as_one_send_and_a_crash_resends_none(in_acme, smtp):
    from tidings.campaigns.actions import lease_expire_now
    from tidings.campaigns.engine import SimulatedCrash
    from tidings.emails.models import Send

    people = [make_contact({"email": f"reader{i}@bench.example"}) for i in range(3)]
    silent = make_contact({"email": "silent@bench.example"}, consent=False)
    welcome = make_email(name="Welcome", kind="template")
    campaign = publish({"id": 1, "kind": "send_email", "email_id": welcome.pk, "next": 2},
                       {"id": 2, "kind": "add_tags", "tags": ["after"]})  # fmt: skip
    add(campaign, *people, silent)
    with pytest.raises(SimulatedCrash):
        run(crash_after="send")
    assert len(smtp.messages) == 3 and Send.objects.filter(email_id=welcome.pk).count() == 1  # one Send, one pass
    lease_expire_now(principal=system_principal())
    run()
    assert len(smtp.messages) == 3  # never sent again
    for person in people:  # their deliveries say sent: done
        assert runs(campaign, person) == [(1, "done", "", ""), (2, "done", "", "")]
    # Its delivery says skipped (no consent): the run takes that outcome, not in_doubt.
    assert runs(campaign, silent) == [(1, "skipped", "", "no_consent"), (2, "done", "", "")]


def test_a_crash_mid_batch_leaves_only_the_chunk_in_flight_in_doubt(in_acme, smtp, monkeypatch):
    """Chunks of EMAIL_CHUNK: the chunk that was leaving is in doubt, the runs not yet marked are sent later."""
    from tidings.campaigns import email_step
    from tidings.campaigns.actions import lease_expire_now
    from tidings.campaigns.engine import SimulatedCrash

    monkeypatch.setattr(email_step, "EMAIL_CHUNK", 2)
    people = [make_contact({"email": f"reader{i}@bench.example"}) for i in range(5)]
    welcome = make_email(name="Welcome", kind="template")
    campaign = publish({"id": 1, "kind": "send_email", "email_id": welcome.pk})
    add(campaign, *people)
    with pytest.raises(SimulatedCrash):
        run(crash_after="send")
    assert len(smtp.messages) == 2  # the first chunk left; the crash came before its runs were recorded
    lease_expire_now(principal=system_principal())
    run()
    assert len(smtp.messages) == 5  # the three runs never marked "sending" were sent, each once
    fates = [runs(campaign, person)[0][1:] for person in people]
    assert fates == [("done", "", "")] * 5  # the chunk in flight was recorded sent: not in doubt, not resent
    recipients = [str(m["To"]) for m in smtp.parsed()]
    assert len(recipients) == len(set(recipients)) == 5  # nobody twice


def test_a_crash_before_the_send_began_leaves_the_chunk_in_doubt_never_sent(in_acme, smtp):
    """Marked "sending", no Delivery recorded yet: the message's fate is unknown to the engine; never sent."""
    from tidings.campaigns.actions import lease_expire_now
    from tidings.campaigns.engine import SimulatedCrash

    ada = make_contact({"email": "ada@analytical.example"})
    welcome = make_email(name="Welcome", kind="template")
    campaign = publish({"id": 1, "kind": "send_email", "email_id": welcome.pk, "next": 2},
                       {"id": 2, "kind": "add_tags", "tags": ["after"]})  # fmt: skip
    add(campaign, ada)
    with pytest.raises(SimulatedCrash):
        run(crash_after="sending")
    lease_expire_now(principal=system_principal())
    run()
    assert len(smtp.messages) == 0
    assert runs(campaign, ada) == [(1, "skipped", "", "in_doubt"), (2, "done", "", "")]


def test_a_crash_while_the_messages_were_leaving_leaves_the_claimed_ones_in_doubt(in_acme, smtp, monkeypatch):
    """The deliveries were claimed (committed) and the worker died sending: claimed means in doubt, never resent;
    a recipient the emails app skipped before sending takes that outcome."""
    from tidings.campaigns.actions import lease_expire_now
    from tidings.campaigns.engine import SimulatedCrash
    from tidings.emails import sender

    ada = make_contact({"email": "ada@analytical.example"})
    silent = make_contact({"email": "silent@bench.example"}, consent=False)
    welcome = make_email(name="Welcome", kind="template")
    campaign = publish({"id": 1, "kind": "send_email", "email_id": welcome.pk, "next": 2},
                       {"id": 2, "kind": "add_tags", "tags": ["after"]})  # fmt: skip
    add(campaign, ada, silent)

    def die(self, jobs):
        raise SimulatedCrash("killed while the messages were leaving")

    with monkeypatch.context() as patch:
        patch.setattr(sender.Workers, "send_all", die)
        with pytest.raises(SimulatedCrash):
            run()
    lease_expire_now(principal=system_principal())
    run()
    assert len(smtp.messages) == 0
    assert runs(campaign, ada) == [(1, "skipped", "", "in_doubt"), (2, "done", "", "")]
    assert runs(campaign, silent) == [(1, "skipped", "", "no_consent"), (2, "done", "", "")]


def test_recovery_reads_the_send_after_the_mark_not_an_earlier_one(in_acme, smtp):
    """A contact sent the same email by an earlier entry: that older delivery says nothing of the crashed run."""
    from tidings.campaigns.actions import lease_expire_now
    from tidings.campaigns.engine import SimulatedCrash
    from tidings.emails.actions.sending import send_to_contacts

    ada = make_contact({"email": "ada@analytical.example"})
    welcome = make_email(name="Welcome", kind="template")
    send_to_contacts(welcome.pk, [ada.id], principal=system_principal())  # sent before, outside the campaign
    assert len(smtp.messages) == 1
    campaign = publish({"id": 1, "kind": "send_email", "email_id": welcome.pk})
    add(campaign, ada)
    with pytest.raises(SimulatedCrash):
        run(crash_after="sending")
    lease_expire_now(principal=system_principal())
    run()
    assert len(smtp.messages) == 1
    assert runs(campaign, ada) == [(1, "skipped", "", "in_doubt")]


def test_a_send_step_batch_without_a_crash_records_each_fate(in_acme, smtp):
    from tidings.emails.models import Send

    people = [make_contact({"email": f"reader{i}@bench.example"}) for i in range(3)]
    silent = make_contact({"email": "silent@bench.example"}, consent=False)
    welcome = make_email(name="Welcome", kind="template")
    campaign = publish({"id": 1, "kind": "send_email", "email_id": welcome.pk})
    add(campaign, *people, silent)
    result = run()
    assert (result.done, result.skipped) == (3, 1)
    assert len(smtp.messages) == 3 and Send.objects.filter(email_id=welcome.pk).count() == 1
    assert runs(campaign, silent) == [(1, "skipped", "", "no_consent")]


def test_two_workers_never_take_the_same_run(readers):
    from tidings.campaigns.engine import claim_due, claimed_runs

    ada, grace = readers
    campaign = publish({"id": 1, "kind": "add_tags", "tags": ["x"]})
    add(campaign, ada, grace)
    first, second = claim_due(1), claim_due(10)
    taken = [r.pk for r in claimed_runs(first)] + [r.pk for r in claimed_runs(second)]
    assert len(taken) == len(set(taken)) == 2
    assert claim_due(10) == ""


# ---------------------------------------------------------------------------------------------
# Event-driven entry


def test_joining_a_source_segment_wakes_the_campaigns_after_commit(
    readers, monkeypatch, django_capture_on_commit_callbacks
):
    from tidings.campaigns import tasks
    from tidings.segments.actions import segment_members_add

    ada, _ = readers
    segment = make_segment([], name="Trial")
    publish({"id": 1, "kind": "add_tags", "tags": ["x"]}, sources=[{"kind": "segment", "segment_id": segment.pk}])
    woken = []
    monkeypatch.setattr(tasks, "WAKE_DEBOUNCE", 0)
    monkeypatch.setattr(tasks, "enqueue_once", lambda task, **kw: woken.append(kw))
    with django_capture_on_commit_callbacks(using=in_acme_alias(), execute=True):
        segment_members_add(segment.pk, [ada.id], principal=system_principal())
    assert woken == [{"workspace_id": in_acme_id()}]


def test_a_click_on_a_sent_email_wakes_the_campaigns_on_the_clicks_commit(
    client, readers, monkeypatch, django_capture_on_commit_callbacks
):
    """The click route (emails) writes email.clicked; the events listener wakes campaigns once it commits."""
    from tidings.campaigns import tasks
    from tidings.emails.tests.conftest import allow_tracking, make_sent

    ada, grace = readers
    allow_tracking(ada)
    sent = make_sent(ada, grace)
    publish({"id": 1, "kind": "decision", "event": "clicked_email", "window_seconds": 60, "yes": 2},
            {"id": 2, "kind": "add_tags", "tags": ["clicked"]})  # fmt: skip
    woken = []
    monkeypatch.setattr(tasks, "WAKE_DEBOUNCE", 0)
    monkeypatch.setattr(tasks, "enqueue_once", lambda task, **kw: woken.append(kw))
    with django_capture_on_commit_callbacks(using=in_acme_alias(), execute=False) as on_commit:
        response = client.get(f"/m/acme/e/c/{sent.token(ada)}/{sent.link.pk}")
        assert response.status_code == 302
    assert woken == []  # nothing before the commit
    for callback in on_commit:
        callback()
    assert woken == [{"workspace_id": in_acme_id()}]


def in_acme_alias():
    from tidings.tenancy.context import require_workspace

    return require_workspace().db_alias


def in_acme_id():
    from tidings.tenancy.context import require_workspace

    return require_workspace().id


# ---------------------------------------------------------------------------------------------
# Erasure


def test_erasing_a_contact_erases_its_campaign_rows(readers):
    from tidings.campaigns.models import Enrolment, StepRun
    from tidings.privacy.registry import erase_subject

    ada, grace = readers
    campaign = publish({"id": 1, "kind": "delay", "mode": "interval", "seconds": 60})
    add(campaign, ada, grace)
    run()
    erase_subject(ada.id)
    assert set(Enrolment.objects.values_list("contact_id", flat=True)) == {grace.id}
    assert set(StepRun.objects.values_list("contact_id", flat=True)) == {grace.id}
