"""The "replied to an email" decision (decision 0040): a reply recorded by the emails app takes the yes path,
the window closing the no path; a reply to another email does not count when one is chosen; the builder, the
graph check and Mautic's email.reply.

ada and grace consented to Acme's marketing email; campaigns are published from steps, contacts added by hand.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tidings.campaigns import graph
from tidings.campaigns.tests.conftest import add, later, make_email, publish, run, runs
from tidings.campaigns.tests.conftest import system as system_principal


def _sent(email, *contacts):
    """A finished send of email to contacts (the rows the sender writes), as the emails' feedback tests build it."""
    from tidings.emails.models import Delivery, Send
    from tidings.tenancy.context import require_workspace

    ws = require_workspace().id
    send = Send.objects.create(workspace_id=ws, email_id=email.pk, version=1, status="finished")
    for contact in contacts:
        Delivery.objects.create(workspace_id=ws, send_id=send.pk, email_id=email.pk, contact_id=contact.id,
                                status="sent", sent_at=timezone.now())  # fmt: skip
    return send


def _reply(send, contact):
    """The contact's reply to its message of send, as the mailbox poller or the inbound API records it."""
    from tidings.emails.actions.feedback import reply_record
    from tidings.emails.links import MessageRef

    assert reply_record(MessageRef(send.pk, contact.id), principal=system_principal()) is not None


def _tags(contact):
    from tidings.contacts.selectors import contact_tags

    return contact_tags(contact.id)


def _yes_no(decision: dict):
    """A campaign: step 1 decides, yes tags "yes", no tags "no"."""
    return publish({"id": 1, "kind": "decision", **decision, "yes": 2, "no": 3},
                   {"id": 2, "kind": "add_tags", "tags": ["yes"]},
                   {"id": 3, "kind": "add_tags", "tags": ["no"]})  # fmt: skip


def test_a_reply_takes_the_yes_path_and_silence_the_no_path_when_the_window_closes(readers):
    ada, grace = readers
    news = make_email(name="News", kind="template")
    send = _sent(news, ada, grace)
    campaign = _yes_no({"event": "replied_email", "email_id": news.pk, "window_seconds": 600})
    add(campaign, ada, grace)
    assert run().waiting == 2
    _reply(send, ada)
    run()
    assert runs(campaign, ada)[0][2] == "yes" and _tags(ada) == ["yes"]
    assert runs(campaign, grace)[0][1] == "pending"
    with later(minutes=11):
        run()
    assert runs(campaign, grace)[0][2] == "no" and _tags(grace) == ["no"]


def test_a_reply_to_another_email_does_not_count_when_one_is_chosen_and_any_does_without(readers):
    ada, grace = readers
    news, other = make_email(name="News", kind="template"), make_email(name="Other", kind="template")
    send = _sent(other, ada)
    chosen = _yes_no({"event": "replied_email", "email_id": news.pk, "window_seconds": 600})
    anyone = publish({"id": 1, "kind": "decision", "event": "replied_email", "window_seconds": 600, "yes": 2, "no": 3},
                     {"id": 2, "kind": "exit"}, {"id": 3, "kind": "exit"}, name="Any reply")  # fmt: skip
    add(chosen, ada)
    add(anyone, ada)
    run()
    _reply(send, ada)
    run()
    assert runs(chosen, ada)[0][1] == "pending"
    assert runs(anyone, ada)[0][2] == "yes"


def test_an_out_of_office_does_not_take_the_yes_path(readers):
    from tidings.emails import replies
    from tidings.emails.headers import message_id

    ada, _ = readers
    news = make_email(name="News", kind="template")
    send = _sent(news, ada)
    campaign = _yes_no({"event": "replied_email", "email_id": news.pk, "window_seconds": 600})
    add(campaign, ada)
    run()
    ooo = (f"From: ada@analytical.example\r\nSubject: Automatic reply: News\r\nAuto-Submitted: auto-replied\r\n"
           f"In-Reply-To: {message_id(send.pk, ada.id, 'acme.example')}\r\n\r\nI am away.\r\n")  # fmt: skip
    assert not replies.reply_message_record(ooo, principal=system_principal()).recorded
    run()
    assert runs(campaign, ada)[0][1] == "pending"
    with later(minutes=11):
        run()
    assert _tags(ada) == ["no"]


def test_a_reply_wakes_the_campaigns_and_the_waiting_decision(readers, monkeypatch, django_capture_on_commit_callbacks):
    from tidings.campaigns import tasks
    from tidings.campaigns.models import StepRun
    from tidings.tenancy.context import require_workspace

    ada, _ = readers
    news = make_email(name="News", kind="template")
    send = _sent(news, ada)
    campaign = _yes_no({"event": "replied_email", "window_seconds": 86400})
    add(campaign, ada)
    run()
    assert StepRun.objects.get(step=1).due_at > timezone.now() + datetime.timedelta(seconds=30)
    woken = []
    monkeypatch.setattr(tasks, "WAKE_DEBOUNCE", 0)
    monkeypatch.setattr(tasks, "enqueue_once", lambda task, **kw: woken.append(kw))
    with django_capture_on_commit_callbacks(using=require_workspace().db_alias, execute=True):
        _reply(send, ada)
    assert woken == [{"workspace_id": require_workspace().id}]
    assert run().done == 2  # nudged: due now, not at the next recheck
    assert _tags(ada) == ["yes"]


@pytest.mark.engine_independent
def test_the_graph_check_keeps_the_replied_decision_and_its_email():
    step = graph.check({"start": 1, "steps": [{"id": 1, "kind": "decision", "event": "replied_email", "email_id": 4,
                                               "window_seconds": 600}]})["steps"][0]  # fmt: skip
    assert step == {"id": 1, "kind": "decision", "event": "replied_email", "email_id": 4, "window_seconds": 600,
                    "yes": None, "no": None}  # fmt: skip


def test_the_builder_writes_the_replied_decision_and_summarises_it(alice_client, in_acme):
    from tidings.campaigns.tests.test_views_ui import _add, _campaign

    email = make_email(name="News", kind="template")
    campaign = _campaign(alice_client)
    page = alice_client.get(f"/w/acme/campaigns/{campaign.pk}/steps/new/", {"kind": "decision", "edge": "next"})
    assert "replied to an email" in page.content.decode()
    step_id = _add(alice_client, campaign, "decision", event="replied_email", email_id=str(email.pk),
                   window_amount="2", window_unit="86400")  # fmt: skip
    step = {s["id"]: s for s in campaign.graph["steps"]}[step_id]
    assert (step["event"], step["email_id"], step["window_seconds"]) == ("replied_email", email.pk, 2 * 86400)
    detail = alice_client.get(f"/w/acme/campaigns/{campaign.pk}/").content.decode()
    assert "Has the contact replied to an email “News” within 2 days?" in detail
