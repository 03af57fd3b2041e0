"""A/B tests are sent: each arm gets its share of the audience (the same on every run), the rest is held; after
the test period the winner by open or click rate (ties: the parent) goes to the held recipients exactly once."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.emails.sender import ab_arm, ab_bucket
from tidings.emails.tests.conftest import make_contact, make_email, make_segment, run, system

PEOPLE = 30


def test_the_split_is_deterministic_and_follows_the_weights():
    arms = [(1, 20), (2, 30), (3, 10)]
    assert [ab_bucket(7, c) for c in range(50)] == [ab_bucket(7, c) for c in range(50)]
    assert [ab_bucket(7, c) for c in range(50)] != [ab_bucket(8, c) for c in range(50)]  # each send its own draw
    chosen = [ab_arm(arms, ab_bucket(7, c)) for c in range(20_000)]
    for email_id, weight in [*arms, (None, 40)]:
        assert abs(chosen.count(email_id) / len(chosen) - weight / 100) < 0.02


@given(weights=st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=5),
       bucket=st.integers(min_value=0, max_value=99))  # fmt: skip
def test_a_bucket_falls_in_the_arm_whose_range_holds_it(weights, bucket):
    arms = list(enumerate(weights, start=1))
    arm = ab_arm(arms, bucket)
    if bucket >= sum(weights):
        assert arm is None
    else:
        below = sum(w for i, w in arms if i < arm)
        assert below <= bucket < below + dict(arms)[arm]


def _test(in_acme, *, parent_weight=30, variant_weight=30, criterion="open_rate", people=PEOPLE):
    from tidings.emails.models import Email, EmailVersion

    contacts = [make_contact({"email": f"reader{i}@example.example", "firstname": f"R{i}"}) for i in range(people)]
    segment = make_segment([c.id for c in contacts])
    parent = make_email(segment_ids=[segment.pk], subject="Parent {contactfield=firstname}",
                        variant_weight=parent_weight, ab_criterion=criterion, ab_test_hours=4)  # fmt: skip
    variant = Email.objects.create(name="Variant", kind="list", published=True, variant_of=parent.pk,
                                   variant_weight=variant_weight, subject="Variant {contactfield=firstname}",
                                   from_address="news@acme.example", html=parent.html, text=parent.text)  # fmt: skip
    EmailVersion.objects.create(email_id=variant.pk, number=1, subject=variant.subject, html=variant.html,
                                from_address="news@acme.example", text=variant.text)  # fmt: skip
    return contacts, parent, variant


def _start(mail):
    from tidings.emails.actions.sending import send_start

    return send_start(mail.pk, principal=system())


def _subjects(smtp) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for message in smtp.parsed():
        found.setdefault(str(message["To"]), []).append(str(message["Subject"]).split()[0])
    return found


def test_a_test_send_gives_each_arm_its_share_and_holds_the_rest(in_acme, smtp):
    from tidings.emails.models import Delivery, Send
    from tidings.jobs.models import ScheduledTask

    contacts, parent, variant = _test(in_acme)
    send = _start(parent)
    assert send.ab_versions == {str(parent.pk): 1, str(variant.pk): 1}
    assert ScheduledTask.objects.filter(dedupe_key=f"email-ab-winner:{send.pk}:0").exists()
    assert run(send).status == "finished"
    arms = [(parent.pk, 30), (variant.pk, 30)]
    expected = {c.id: ab_arm(arms, ab_bucket(send.pk, c.id)) for c in contacts}
    rows = {d.contact_id: d for d in Delivery.objects.filter(send_id=send.pk)}
    for contact_id, arm in expected.items():
        if arm is None:
            assert rows[contact_id].status == "held"
        else:
            assert (rows[contact_id].status, rows[contact_id].email_id) == ("sent", arm)
    subjects = _subjects(smtp)
    assert all(len(s) == 1 for s in subjects.values())  # nobody twice
    names = {parent.pk: "Parent", variant.pk: "Variant"}
    by_address = {f"reader{i}@example.example": c.id for i, c in enumerate(contacts)}
    assert {a: s[0] for a, s in subjects.items()} == {
        a: names[expected[c]] for a, c in by_address.items() if expected[c] is not None
    }
    held = sum(1 for arm in expected.values() if arm is None)
    assert Send.objects.get(pk=send.pk).counts == {"sent": PEOPLE - held, "held": held}


def test_a_resumed_test_send_keeps_each_recipients_arm_and_sends_nobody_twice(in_acme, smtp):
    from tidings.emails.models import Delivery, Send

    contacts, parent, variant = _test(in_acme)
    send = _start(parent)
    assert run(send, batch_size=7, stop_after=2).status == "running"  # the worker "dies" with its lease
    before = dict(Delivery.objects.filter(send_id=send.pk).values_list("contact_id", "email_id"))
    Send.objects.filter(pk=send.pk).update(lease_until=None)
    assert run(send, batch_size=7).status == "finished"
    after = dict(Delivery.objects.filter(send_id=send.pk).values_list("contact_id", "email_id"))
    assert {c: after[c] for c in before} == before
    assert len(after) == PEOPLE
    assert all(len(s) == 1 for s in _subjects(smtp).values())


def _mark(send, email_id, field: str, n: int) -> None:
    from django.utils import timezone

    from tidings.emails.models import Delivery

    ids = list(Delivery.objects.filter(send_id=send.pk, email_id=email_id, status="sent")
               .values_list("id", flat=True)[:n])  # fmt: skip
    assert len(ids) == n
    Delivery.objects.filter(pk__in=ids).update(**{field: timezone.now()})


def _pick(send, principal=None):
    from tidings.emails.actions.sending import ab_pick_winner

    return ab_pick_winner(send.pk, principal=principal or system())


@pytest.mark.parametrize("criterion,field", [("open_rate", "opened_at"), ("click_rate", "clicked_at")])
def test_the_winner_by_its_criterion_goes_to_the_held_exactly_once(in_acme, smtp, criterion, field):
    from tidings.audit.models import AuditEntry
    from tidings.emails.models import Delivery, Email, Send

    contacts, parent, variant = _test(in_acme, criterion=criterion)
    send = _start(parent)
    run(send)
    # Every variant reader opened (or clicked), no parent reader did: the variant's rate is higher whatever the
    # sizes of the arms, which follow from the ids' hash and so differ between runs and engines.
    in_variant = Delivery.objects.filter(send_id=send.pk, email_id=variant.pk, status="sent").count()
    assert in_variant and Delivery.objects.filter(send_id=send.pk, email_id=parent.pk, status="sent").exists()
    _mark(send, variant.pk, field, in_variant)
    held = set(Delivery.objects.filter(send_id=send.pk, status="held").values_list("contact_id", flat=True))
    assert held
    smtp.messages.clear()
    remainder = _pick(send)
    assert remainder is not None and remainder.email_id == variant.pk and remainder.total == len(held)
    decided = Send.objects.get(pk=send.pk).ab_result
    assert decided["winner"] == variant.pk and decided["criterion"] == criterion
    assert decided["basis"] == "deliveries"
    key = "clicked" if criterion == "click_rate" else "opened"
    assert decided["arms"][str(variant.pk)][key] == in_variant and decided["arms"][str(parent.pk)][key] == 0
    assert Email.objects.get(pk=parent.pk).ab_winner_id == variant.pk
    assert AuditEntry.objects.filter(action="email.ab_winner_picked").count() == 1
    assert _pick(send).pk == remainder.pk  # picked again: nothing new
    assert Send.objects.filter(held_from_send_id=send.pk).count() == 1
    assert run(remainder).status == "finished"
    Send.objects.filter(pk=remainder.pk).update(status="running", checkpoint_contact_id=0, lease_until=None)
    run(remainder)  # run twice: sends once
    got = dict(Delivery.objects.filter(send_id=remainder.pk).values_list("contact_id", "status"))
    assert got == dict.fromkeys(held, "sent")
    subjects = _subjects(smtp)
    assert len(subjects) == len(held) and all(s == ["Variant"] for s in subjects.values())


def test_a_tie_goes_to_the_parent(in_acme, smtp):
    from tidings.emails.models import Email

    contacts, parent, variant = _test(in_acme)
    send = _start(parent)
    run(send)
    remainder = _pick(send)  # nobody opened: 0% each
    assert remainder is not None and remainder.email_id == parent.pk
    assert Email.objects.get(pk=parent.pk).ab_winner_id == parent.pk


def test_without_tracked_opens_the_aggregate_counts_decide(in_acme, smtp):
    from django.utils import timezone

    from tidings.emails.models import EmailCount, Send

    contacts, parent, variant = _test(in_acme)
    send = _start(parent)
    run(send)
    EmailCount.objects.create(email_id=variant.pk, day=timezone.now().date(), kind="opened", count=5)
    assert _pick(send).email_id == variant.pk
    assert Send.objects.get(pk=send.pk).ab_result["basis"] == "counts"


def test_shares_of_100_leave_nobody_held_and_only_record_the_winner(in_acme, smtp):
    from tidings.emails.models import Delivery, Email, Send

    contacts, parent, variant = _test(in_acme, parent_weight=50, variant_weight=50, people=8)
    send = _start(parent)
    run(send)
    assert not Delivery.objects.filter(send_id=send.pk, status="held").exists()
    assert len(smtp.messages) == 8
    assert _pick(send) is None
    assert Email.objects.get(pk=parent.pk).ab_winner_id == parent.pk
    assert not Send.objects.filter(held_from_send_id=send.pk).exists()


def test_a_test_still_sending_is_looked_at_again_later(in_acme, smtp):
    from tidings.emails.models import Send
    from tidings.jobs.models import ScheduledTask

    contacts, parent, variant = _test(in_acme, people=3)
    send = _start(parent)
    assert _pick(send) is None
    assert ScheduledTask.objects.filter(dedupe_key=f"email-ab-winner:{send.pk}:1").exists()
    assert Send.objects.get(pk=send.pk).ab_result == {}


def test_the_scheduled_task_picks_the_winner(in_acme, smtp, acme):
    from tidings.emails.models import Email
    from tidings.emails.tasks import pick_ab_winner_task

    contacts, parent, variant = _test(in_acme, people=6)
    send = _start(parent)
    run(send)
    pick_ab_winner_task.call(workspace_id=acme.pk, send_id=send.pk)
    assert Email.objects.get(pk=parent.pk).ab_winner_id == parent.pk


def test_the_scheduled_tasks_of_a_send_that_rolled_back_do_nothing(in_acme, acme):
    """The schedule lives in the global database and survives the region's rollback: its task finds no send."""
    from tidings.emails.tasks import pick_ab_winner_task, run_send_task

    assert pick_ab_winner_task.call(workspace_id=acme.pk, send_id=987_654) is None
    assert run_send_task.call(workspace_id=acme.pk, send_id=987_654) == "missing"


def test_a_test_that_cannot_run_is_refused(in_acme):
    from tidings.emails.models import Email

    contacts, parent, variant = _test(in_acme, people=1)
    Email.objects.filter(pk=parent.pk).update(variant_weight=0)
    with pytest.raises(ValidationError) as refused:
        _start(parent)
    assert "variant_weight" in refused.value.message_dict
    Email.objects.filter(pk=parent.pk).update(variant_weight=80)
    with pytest.raises(ValidationError):
        _start(parent)
    Email.objects.filter(pk=parent.pk).update(variant_weight=50, ab_test_hours=0)
    with pytest.raises(ValidationError) as refused:
        _start(parent)
    assert "ab_criterion" in refused.value.message_dict
    with pytest.raises(ValidationError):
        _start(variant)  # a variant goes out with its parent


def test_only_members_who_may_send_pick_a_winner(in_acme, acme, make_user, smtp):
    from django.core.exceptions import PermissionDenied

    from tidings.accounts.models import Membership
    from tidings.accounts.selectors import principal_for_user
    from tidings.emails.models import Send

    contacts, parent, variant = _test(in_acme, people=2)
    send = _start(parent)
    run(send)
    viewer = make_user("vera@acme.example")
    Membership.objects.create(workspace=acme, user=viewer, role="analyst")
    with pytest.raises(PermissionDenied):
        _pick(send, principal_for_user(viewer, acme))
    assert Send.objects.get(pk=send.pk).ab_result == {}


def test_a_plain_send_is_no_ab_test(newsletter):
    send = _start(newsletter)
    assert send.ab_versions == {}
    with pytest.raises(ValidationError):
        _pick(send)


# ----------------------------------------------------------------------------------------------
# Authoring: the shares of a test never exceed 100%, criterion and period are required


def _welcome():
    from tidings.emails.actions import authoring

    return authoring.email_create(principal=system(), name="Welcome", subject="Welcome aboard", kind="list",
                                  html="<p>Hi</p>", variant_weight=40)  # fmt: skip


def test_variant_shares_over_100_percent_are_refused(in_acme):
    from tidings.emails.actions import authoring

    welcome = _welcome()
    authoring.variant_create(welcome.pk, principal=system(), variant_weight=30, ab_criterion="open_rate",
                             ab_test_hours=4)  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        authoring.variant_create(welcome.pk, principal=system(), variant_weight=31)
    assert "101%" in refused.value.message_dict["variant_weight"][0]
    with pytest.raises(ValidationError):
        authoring.email_update(welcome.pk, principal=system(), variant_weight=71)
    with pytest.raises(ValidationError):
        authoring.email_update(welcome.pk, principal=system(), ab_test_hours=0)
    authoring.email_update(welcome.pk, principal=system(), variant_weight=70)


def test_a_variant_needs_the_parents_criterion_and_period(in_acme):
    from tidings.emails.actions import authoring

    welcome = _welcome()
    with pytest.raises(ValidationError) as refused:
        authoring.variant_create(welcome.pk, principal=system(), variant_weight=30)
    assert "ab_criterion" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        authoring.variant_create(welcome.pk, principal=system(), variant_weight=30, ab_criterion="click_rate")
    assert "ab_test_hours" in refused.value.message_dict


def test_the_api_answers_422_for_shares_over_100(client, acme, alice, in_acme):
    from tidings.tests.api_client import token_api

    api = token_api(client, acme, alice)
    email = api.post("/emails", {"name": "Spring", "subject": "Spring", "kind": "list", "html": "<p>Hi</p>"}).json()
    ok = api.post(f"/emails/{email['id']}/variants", {"subject": "Spring!", "variant_weight": 40})
    assert ok.status_code == 201
    assert api.send("PATCH", f"/emails/{email['id']}", {"variant_weight": 60}).status_code == 200
    refused = api.post(f"/emails/{email['id']}/variants", {"subject": "Spring?", "variant_weight": 1})
    assert refused.status_code == 422
    assert "variant_weight" in refused.json()["error"]["details"]["fields"]
    assert api.send("PATCH", f"/emails/{email['id']}", {"variant_weight": 61}).status_code == 422


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    weights=st.lists(st.one_of(st.integers(min_value=-5, max_value=120), st.text(max_size=5), st.none()),
                     min_size=1, max_size=4),
    criterion=st.one_of(st.sampled_from(["open_rate", "click_rate", ""]), st.text(max_size=8), st.none()),
    hours=st.one_of(st.integers(min_value=-2, max_value=800), st.text(max_size=4), st.none()),
)  # fmt: skip
def test_any_variant_inputs_are_saved_within_100_percent_or_refused(in_acme, weights, criterion, hours):
    from tidings.emails.actions import authoring
    from tidings.emails.models import Email

    welcome = _welcome()
    for weight in weights:
        try:
            authoring.variant_create(welcome.pk, principal=system(), variant_weight=weight, ab_criterion=criterion,
                                     ab_test_hours=hours)  # fmt: skip
        except ValidationError as error:
            assert error.message_dict
    parent = Email.objects.get(pk=welcome.pk)
    shares = parent.variant_weight + sum(Email.objects.filter(variant_of=parent.pk)
                                         .values_list("variant_weight", flat=True))  # fmt: skip
    assert shares <= 100
    if Email.objects.filter(variant_of=parent.pk).exists():
        assert parent.ab_criterion and parent.ab_test_hours >= 1


# ----------------------------------------------------------------------------------------------
# The test's state and winner on the stats page and in both APIs


def test_the_stats_page_and_the_apis_show_the_test_and_its_winner(in_acme, smtp, client, acme, alice):
    from tidings.accounts.models import User
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create
    from tidings.tests.api_client import token_api

    contacts, parent, variant = _test(in_acme, people=30)  # 30 readers: the 30% arm is never empty
    api = token_api(client, acme, alice)
    before = api.get(f"/emails/{parent.pk}").json()["ab_test"]
    assert before["state"] == "not_sent" and before["arms"][str(variant.pk)]["weight"] == 30
    send = _start(parent)
    run(send)
    assert api.get(f"/emails/{variant.pk}").json()["ab_test"]["state"] == "testing"
    _mark(send, variant.pk, "opened_at", 1)
    _pick(send)
    shown = api.get(f"/emails/{parent.pk}").json()
    assert shown["ab_winner_id"] == variant.pk
    test = shown["ab_test"]
    assert (test["state"], test["winner_id"], test["send_id"]) == ("decided", variant.pk, send.pk)
    assert test["result"]["arms"][str(variant.pk)]["opened"] == 1 and test["winner_send_id"]
    _, secret = api_token_create(workspace=acme, user=User.objects.get(pk=alice.pk), name="Mautic",
                                 principal=principal_for_user(alice, acme))  # fmt: skip
    mautic = client.get(f"/api/emails/{variant.pk}", HTTP_AUTHORIZATION=f"Bearer {secret}").json()["email"]
    assert mautic["variantParent"] == {"id": parent.pk}
    assert mautic["variantSettings"] == {"weight": 30, "winnerCriteria": "email.openrate"}
    assert mautic["variantReadCount"] == 1 and mautic["variantStartDate"]
    listed = client.get("/api/emails", HTTP_AUTHORIZATION=f"Bearer {secret}").json()["emails"]
    assert {e["id"]: e["variantSettings"] for e in (listed.values() if isinstance(listed, dict) else listed)}[
        parent.pk
    ]["weight"] == 30
    client.force_login(alice)
    body = client.get(f"/w/acme/emails/{parent.pk}/stats/").content.decode()
    assert "A/B test" in body and "Winner picked" in body and "Held for the winner" in body


def test_another_workspace_cannot_pick_or_see_a_test(in_acme, smtp, globex):
    from tidings.emails.models import Send
    from tidings.emails.selectors_sending import ab_test_states
    from tidings.tenancy.context import use_workspace

    contacts, parent, variant = _test(in_acme, people=2)
    send = _start(parent)
    run(send)
    with use_workspace(globex):
        with pytest.raises(Send.DoesNotExist):
            _pick(send, system())
        assert ab_test_states([parent.pk, variant.pk]) == {}
    assert Send.objects.get(pk=send.pk).ab_result == {}
