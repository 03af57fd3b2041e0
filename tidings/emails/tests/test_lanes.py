"""A broadcast sent in lanes (decision 0036): n runners each walk their own slice of the recipients (contact id %
n), each with its own lease, checkpoint and journal; a dead lane is recovered alone; every contact gets the
email once (or is in doubt), pause and cancel hold every lane, the counts add up."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tidings.emails.tests.conftest import make_contact, make_email, make_segment, run, system


@pytest.fixture
def lanes(settings):
    settings.TIDINGS_EMAIL_SEND_LANES = 2
    return 2


def _people(n: int):
    return [make_contact({"email": f"reader{i}@example.example", "firstname": f"R{i}"}) for i in range(n)]


def _start(mail):
    from tidings.emails.actions.sending import send_start

    return send_start(mail.pk, principal=system())


def _lane(send, lane: int, **kwargs):
    from tidings.emails.actions.sending import send_run

    return send_run(send.pk, principal=system(), lane=lane, **kwargs)


def _addresses(smtp) -> list[str]:
    return sorted(str(m["To"]) for m in smtp.parsed())


def _lapse(send, lane: int) -> None:
    from tidings.emails.models import Send

    row = Send.objects.get(pk=send.pk)
    lanes = dict(row.lanes)
    lanes[str(lane)] = {**lanes.get(str(lane), {}), "lease": "2000-01-01T00:00:00+00:00"}
    Send.objects.filter(pk=send.pk).update(lanes=lanes)


def _done(counts: dict) -> int:
    return sum(counts.values())


def test_two_lanes_send_each_contact_exactly_once(lanes, in_acme, smtp):
    from tidings.audit.models import AuditEntry
    from tidings.emails.models import Delivery, Send

    people = _people(9)
    send = _start(make_email(segment_ids=[make_segment([p.id for p in people]).pk]))
    assert send.lanes == {"n": 2}
    first = _lane(send, 0, batch_size=2, stop_after=1)  # lane 0 sends a batch, then lane 1 all of its slice
    assert first.status == "running"
    assert _lane(send, 1, batch_size=2).status == "lane_done"
    assert Send.objects.get(pk=send.pk).status == "running"  # lane 0 still has work
    _lapse(send, 0)
    assert _lane(send, 0, batch_size=2).status == "finished"
    row = Send.objects.get(pk=send.pk)
    assert row.status == "finished" and row.finished_at is not None and row.lease_until is None
    assert row.lanes["0"]["done"] and row.lanes["1"]["done"]
    assert row.lanes["1"]["checkpoint"] == max(p.id for p in people if p.id % 2 == 1)
    assert _addresses(smtp) == sorted(f"reader{i}@example.example" for i in range(9))
    assert Delivery.objects.filter(send_id=send.pk, status="sent").count() == 9
    assert row.counts == {"sent": 9}
    assert AuditEntry.objects.filter(action="email.send_finished").count() == 1
    assert _lane(send, 1).status == "lane_busy"  # a late duplicate task does nothing


def test_the_task_queues_one_run_per_lane(lanes, in_acme, smtp, settings):
    from tidings.emails.models import Send
    from tidings.emails.tasks import run_send_task

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    people = _people(5)
    send = _start(make_email(segment_ids=[make_segment([p.id for p in people]).pk]))
    result = run_send_task.enqueue(workspace_id=send.workspace_id, send_id=send.pk)
    assert result.return_value == "lanes"
    assert Send.objects.get(pk=send.pk).status == "finished"
    assert len(smtp.messages) == 5


def test_a_dead_lane_is_recovered_alone_from_its_own_journal(lanes, in_acme, smtp):
    """Lane 1 died mid-batch: accepted -> sent, attempted -> in doubt, never attempted -> sent now. Lane 0,
    alive, keeps its own claim; recovered once its lease lapses too. Nobody gets two messages."""
    from tidings.emails.models import Delivery, Send
    from tidings.emails.sender import Journal

    people = _people(8)
    mail = make_email(segment_ids=[make_segment([p.id for p in people]).pk])
    send = _start(mail)
    address = {p.id: f"reader{i}@example.example" for i, p in enumerate(people)}
    odd = [p for p in people if p.id % 2 == 1]
    even = [p for p in people if p.id % 2 == 0]
    now = datetime.datetime.now(tz=datetime.UTC)
    live = (now + datetime.timedelta(minutes=2)).isoformat()
    Send.objects.filter(pk=send.pk).update(status="running", lanes={
        "n": 2, "0": {"runner": "alive", "lease": live, "checkpoint": 0},
        "1": {"runner": "dead", "lease": "2000-01-01T00:00:00+00:00", "checkpoint": 0},
    })  # fmt: skip
    for person in [*odd[:3], even[0]]:
        Delivery.objects.create(send_id=send.pk, email_id=mail.pk, contact_id=person.id, status="claimed")
    journal = Journal(send.workspace_id, send.pk, 1)
    journal.open()
    journal.write(f"a {odd[0].id}")
    journal.write(f"s {odd[0].id} 1700000000.000 {'00' * 32} <x@acme.example>")
    journal.write(f"a {odd[1].id}")
    journal.write(f"c {odd[1].id}")  # its data ended: in doubt
    journal.close()
    lane0 = Journal(send.workspace_id, send.pk, 0)
    lane0.open()
    lane0.write(f"a {even[0].id}")
    lane0.write(f"c {even[0].id}")  # its data ended: in doubt
    lane0.close()

    assert _lane(send, 0).status == "lane_busy"  # lane 0's runner is alive
    assert _lane(send, 1, batch_size=2).status == "lane_done"
    states = dict(Delivery.objects.filter(send_id=send.pk).values_list("contact_id", "status"))
    assert states[odd[0].id] == "sent" and states[odd[1].id] == "in_doubt"
    assert all(states[p.id] == "sent" for p in odd[2:])
    assert states[even[0].id] == "claimed"  # not lane 1's to settle
    assert lane0.path.exists()
    assert sorted(_addresses(smtp)) == sorted(address[p.id] for p in odd[2:])

    _lapse(send, 0)  # lane 0's runner died too
    assert _lane(send, 0, batch_size=3).status == "finished"
    states = dict(Delivery.objects.filter(send_id=send.pk).values_list("contact_id", "status"))
    assert states[even[0].id] == "in_doubt"
    sent = [str(m["To"]) for m in smtp.parsed()]
    assert len(sent) == len(set(sent))  # nobody twice
    assert set(sent) == {address[p.id] for p in [*odd[2:], *even[1:]]}
    counts = Send.objects.get(pk=send.pk).counts
    assert counts == {"sent": len(people) - 2, "in_doubt": 2}
    assert _done(counts) == len(people) == Delivery.objects.filter(send_id=send.pk).count()


def test_pause_holds_every_lane_and_resume_finishes_the_send(lanes, in_acme, smtp):
    from tidings.emails.actions.sending import send_pause, send_resume
    from tidings.emails.models import Send

    people = _people(10)
    send = _start(make_email(segment_ids=[make_segment([p.id for p in people]).pk]))
    assert _lane(send, 0, batch_size=2, stop_after=1).status == "running"
    sent_before = len(smtp.messages)
    send_pause(send.pk, principal=system())
    assert _lane(send, 1, batch_size=2).status == "paused"
    _lapse(send, 0)
    assert _lane(send, 0, batch_size=2).status == "paused"
    assert len(smtp.messages) == sent_before
    send_resume(send.pk, principal=system())
    assert run(send, batch_size=2).status == "finished"
    assert _addresses(smtp) == sorted(f"reader{i}@example.example" for i in range(10))
    assert Send.objects.get(pk=send.pk).counts == {"sent": 10}


def test_a_lane_done_while_paused_lets_the_resume_finish_the_send(lanes, in_acme, smtp):
    from tidings.emails.actions.sending import send_resume
    from tidings.emails.models import Send

    people = _people(4)
    send = _start(make_email(segment_ids=[make_segment([p.id for p in people]).pk]))
    assert _lane(send, 0).status == "lane_done"
    assert _lane(send, 1).status == "finished"
    Send.objects.filter(pk=send.pk).update(status="paused")  # as if paused between lane 1's last batch and its end
    send_resume(send.pk, principal=system())
    assert run(send).status == "finished"
    assert len(smtp.messages) == 4


def test_cancel_stops_every_lane_and_the_counts_add_up(lanes, in_acme, smtp):
    from tidings.emails.actions.sending import send_cancel
    from tidings.emails.models import Delivery, Send

    people = _people(10)
    send = _start(make_email(segment_ids=[make_segment([p.id for p in people]).pk]))
    _lane(send, 0, batch_size=2, stop_after=1)
    _lane(send, 1, batch_size=2, stop_after=1)
    send_cancel(send.pk, principal=system())
    _lapse(send, 0)
    _lapse(send, 1)
    assert _lane(send, 0).status == "cancelled" and _lane(send, 1).status == "cancelled"
    assert run(send).status == "cancelled"
    assert len(smtp.messages) == 4
    row = Send.objects.get(pk=send.pk)
    assert row.counts == {"sent": 4}
    assert Delivery.objects.filter(send_id=send.pk).count() == 4  # the claims of unsent batches were released


def test_a_dead_lane_beside_a_live_one_is_an_abandoned_send(lanes, in_acme, smtp):
    from tidings.emails.models import Send
    from tidings.emails.selectors_sending import abandoned_sends

    people = _people(6)
    send = _start(make_email(segment_ids=[make_segment([p.id for p in people]).pk]))
    _lane(send, 0, batch_size=1, stop_after=1)
    _lane(send, 1, batch_size=1, stop_after=1)
    assert Send.objects.get(pk=send.pk).lease_until is not None
    assert (send.workspace_id, send.pk) not in abandoned_sends()
    _lapse(send, 1)
    assert (send.workspace_id, send.pk) in abandoned_sends()


def test_an_ab_test_in_lanes_gives_each_arm_its_share_and_the_winner_reaches_the_held_once(lanes, in_acme, smtp):
    from tidings.emails.models import Delivery, Send
    from tidings.emails.sender import ab_arm, ab_bucket
    from tidings.emails.tests.test_ab import _pick, _subjects, _test

    contacts, parent, variant = _test(in_acme, people=30)
    send = _start(parent)
    assert run(send, batch_size=4).status == "finished"
    arms = [(parent.pk, 30), (variant.pk, 30)]
    expected = {c.id: ab_arm(arms, ab_bucket(send.pk, c.id)) for c in contacts}
    rows = dict(Delivery.objects.filter(send_id=send.pk).values_list("contact_id", "email_id"))
    held = {c for c, arm in expected.items() if arm is None}
    assert {c: e for c, e in rows.items() if c not in held} == {c: a for c, a in expected.items() if a is not None}
    assert Send.objects.get(pk=send.pk).counts == {"sent": 30 - len(held), "held": len(held)}
    smtp.messages.clear()
    remainder = _pick(send)
    assert remainder is not None and remainder.lanes == {"n": 2}
    assert run(remainder, batch_size=3).status == "finished"
    got = dict(Delivery.objects.filter(send_id=remainder.pk).values_list("contact_id", "status"))
    assert got == dict.fromkeys(held, "sent")
    assert all(len(s) == 1 for s in _subjects(smtp).values()) and len(_subjects(smtp)) == len(held)


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.sets(st.integers(min_value=1, max_value=10_000), max_size=40), n=st.integers(min_value=2, max_value=5))
def test_the_lanes_split_any_recipients_into_disjoint_slices_that_cover_them(ids, n):
    from tidings.emails.selectors_sending import lapsed_lanes

    slices = [{i for i in ids if i % n == k} for k in range(n)]
    assert set().union(*slices) == ids
    assert sum(len(s) for s in slices) == len(ids)
    now = datetime.datetime.now(tz=datetime.UTC)
    assert lapsed_lanes({"n": n}, now) == list(range(n))
    assert lapsed_lanes({"n": n, **{str(k): {"done": True} for k in range(n)}}, now) == []


def test_a_deferred_message_of_a_send_in_lanes_is_retried_once(lanes, newsletter, smtp):
    from tidings.emails.models import Send
    from tidings.emails.sender import RETRY_BACKOFF
    from tidings.emails.tests.test_retries import GRACE, _retry

    smtp.defer[GRACE] = 1
    send = _start(newsletter)
    assert run(send).status == "finished"
    assert Send.objects.get(pk=send.pk).counts == {"sent": 1, "deferred": 1}
    assert _retry(send, later=RETRY_BACKOFF[0]) == {"sent": 1}
    assert _retry(send, later=RETRY_BACKOFF[1]) == {}
    assert len(smtp.to(GRACE)) == 1 and len(smtp.messages) == 2


def test_the_claims_of_a_dead_lane_in_a_cancelled_send_are_settled_by_a_retry(lanes, in_acme, smtp):
    """A lane died mid-batch, then the send was cancelled: its claims are settled from its journal (accepted ->
    sent, attempted -> in doubt), never sent again."""
    from tidings.emails.actions.sending import send_cancel
    from tidings.emails.models import Delivery, Send
    from tidings.emails.sender import Journal
    from tidings.emails.tests.test_retries import _retry

    people = _people(4)
    mail = make_email(segment_ids=[make_segment([p.id for p in people]).pk])
    send = _start(mail)
    odd = [p for p in people if p.id % 2 == 1]
    Send.objects.filter(pk=send.pk).update(status="running", lanes={
        "n": 2, "1": {"runner": "dead", "lease": "2000-01-01T00:00:00+00:00", "checkpoint": 0},
    })  # fmt: skip
    for person in odd:
        Delivery.objects.create(send_id=send.pk, email_id=mail.pk, contact_id=person.id, status="claimed")
    journal = Journal(send.workspace_id, send.pk, 1)
    journal.open()
    journal.write(f"a {odd[0].id}")
    journal.write(f"s {odd[0].id} 1700000000.000 {'00' * 32} <x@acme.example>")
    journal.write(f"a {odd[1].id}")
    journal.write(f"c {odd[1].id}")  # its data ended: in doubt
    journal.close()
    send_cancel(send.pk, principal=system())
    assert _retry(send) == {}
    states = dict(Delivery.objects.filter(send_id=send.pk).values_list("contact_id", "status"))
    assert states == {odd[0].id: "sent", odd[1].id: "in_doubt"}
    assert not smtp.messages and not journal.path.exists()
    assert Send.objects.get(pk=send.pk).counts == {"sent": 1, "in_doubt": 1}
