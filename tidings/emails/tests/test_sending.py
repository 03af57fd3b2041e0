"""A broadcast to a segment reaches a real SMTP server once per contact, personalised and tracked; a send run
twice sends once, a crash mid-batch resumes, pause/resume/cancel hold between batches."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tidings.emails.tests.conftest import make_contact, make_email, make_segment, run, system


def _start(mail):
    from tidings.emails.actions.sending import send_start

    return send_start(mail.pk, principal=system())


def test_a_broadcast_reaches_every_reader_once_personalised_and_tracked(newsletter, readers, smtp):
    from tidings.emails import links
    from tidings.emails.headers import read_message_id
    from tidings.emails.models import Delivery, DeliveryStatus, Send

    send = _start(newsletter)
    assert send.total == 2
    result = run(send)
    assert result.status == "finished"
    assert len(smtp.messages) == 2
    ada = smtp.to("ada@analytical.example")[0]
    assert ada["Subject"] == "Hello Ada"
    html = ada.get_body(("html",)).get_content()
    assert "Hi Ada from London" in html
    token = links.message_token(newsletter.workspace_id, send.pk, readers[0].id)
    assert links.click_url("acme", token, 1).rsplit("/", 1)[0] in html  # the link goes through the redirect
    assert "https://acme.example/spring" not in html
    assert links.open_pixel_url("acme", token) in html
    assert ada["List-Unsubscribe"] == f"<{links.unsubscribe_url('acme', token)}>"
    assert ada["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert read_message_id(ada["Message-ID"]) == links.MessageRef(send.pk, readers[0].id)
    grace = smtp.to("grace@navy.example")[0]
    assert "Grace &lt;b&gt;" in grace.get_body(("html",)).get_content()  # a contact's value is escaped
    assert "somewhere" in grace.get_body(("html",)).get_content()
    rows = Delivery.objects.filter(send_id=send.pk)
    assert {r.status for r in rows} == {DeliveryStatus.SENT}
    assert all(r.message_id and r.tokens_hash for r in rows)
    assert Send.objects.get(pk=send.pk).counts == {"sent": 2}


def test_email_sent_events_are_written_per_message(newsletter, readers, smtp):
    from tidings.contacts.selectors import timeline

    run(_start(newsletter))
    found = timeline(readers[0].id, describe=True).items
    assert any("Sent the email “Spring news”" in event.text for event in found)


def test_a_send_run_twice_sends_once(newsletter, smtp):
    from tidings.emails.models import Send

    send = _start(newsletter)
    run(send)
    Send.objects.filter(pk=send.pk).update(status="running", checkpoint_contact_id=0, lease_until=None)
    run(send)
    assert len(smtp.messages) == 2


def test_a_crash_mid_send_resumes_at_the_checkpoint_and_sends_nobody_twice(in_acme, smtp):
    from tidings.emails.models import Delivery, Send

    people = [make_contact({"email": f"reader{i}@example.example", "firstname": f"R{i}"}) for i in range(7)]
    mail = make_email(segment_ids=[make_segment([p.id for p in people]).pk])
    send = _start(mail)
    first = run(send, batch_size=3, stop_after=1)  # the worker "dies" after one batch, lease held
    assert first.status == "running" and len(smtp.messages) == 3
    assert Send.objects.get(pk=send.pk).checkpoint_contact_id == people[2].id
    Send.objects.filter(pk=send.pk).update(lease_until=None)  # the lease lapses
    assert run(send, batch_size=3).status == "finished"
    assert len(smtp.messages) == 7
    assert sorted(str(m["To"]) for m in smtp.parsed()) == sorted(f"reader{i}@example.example" for i in range(7))
    assert Delivery.objects.filter(send_id=send.pk, status="sent").count() == 7


def test_claimed_deliveries_of_a_dead_runner_are_settled_from_its_journal(in_acme, smtp):
    """Accepted -> sent; attempted, no answer -> in doubt (never again); never attempted -> sent now."""
    from tidings.emails.models import Delivery, Send
    from tidings.emails.sender import Journal

    people = [make_contact({"email": f"reader{i}@example.example"}) for i in range(3)]
    mail = make_email(segment_ids=[make_segment([p.id for p in people]).pk])
    send = _start(mail)
    Send.objects.filter(pk=send.pk).update(status="running")
    for person in people:
        Delivery.objects.create(send_id=send.pk, email_id=mail.pk, contact_id=person.id, status="claimed")
    journal = Journal(send.workspace_id, send.pk)
    journal.open()
    journal.write(f"a {people[0].id}")
    journal.write(f"s {people[0].id} 1700000000.000 {'00' * 32} <x@acme.example>")
    journal.write(f"a {people[1].id}")
    journal.write(f"c {people[1].id}")  # its data ended: in doubt
    journal.close()
    assert run(send).status == "finished"
    states = dict(Delivery.objects.filter(send_id=send.pk).values_list("contact_id", "status"))
    assert states == {people[0].id: "sent", people[1].id: "in_doubt", people[2].id: "sent"}
    assert [str(m["To"]) for m in smtp.parsed()] == ["reader2@example.example"]
    counts = Send.objects.get(pk=send.pk).counts
    assert counts == {"sent": 2, "in_doubt": 1}


def test_a_message_stopped_before_its_data_ended_is_sent_again_once(in_acme, smtp):
    """Begun ("a") but killed before the data's final "." ("c"): the server took nothing, so it is sent now."""
    from tidings.emails.models import Delivery, Send
    from tidings.emails.sender import Journal

    people = [make_contact({"email": f"reader{i}@example.example"}) for i in range(2)]
    mail = make_email(segment_ids=[make_segment([p.id for p in people]).pk])
    send = _start(mail)
    Send.objects.filter(pk=send.pk).update(status="running")
    for person in people:
        Delivery.objects.create(send_id=send.pk, email_id=mail.pk, contact_id=person.id, status="claimed")
    journal = Journal(send.workspace_id, send.pk)
    journal.open()
    journal.write(f"a {people[0].id}")  # MAIL, RCPT, DATA and the body may have left; the final "." did not
    journal.write(f"a {people[1].id}")
    journal.write(f"c {people[1].id}")  # the final "." may have left: in doubt
    journal.close()
    assert run(send).status == "finished"
    states = dict(Delivery.objects.filter(send_id=send.pk).values_list("contact_id", "status"))
    assert states == {people[0].id: "sent", people[1].id: "in_doubt"}
    assert [str(m["To"]) for m in smtp.parsed()] == ["reader0@example.example"]


def test_a_journal_written_before_the_data_mark_keeps_a_begun_message_in_doubt(in_acme, smtp):
    """A version 1 journal (no version in its header) had no "c" lines: "a" alone may have been taken."""
    from tidings.emails import journal as journal_module
    from tidings.emails.models import Delivery, Send
    from tidings.emails.sender import Journal

    person = make_contact({"email": "reader@example.example"})
    mail = make_email(segment_ids=[make_segment([person.id]).pk])
    send = _start(mail)
    Send.objects.filter(pk=send.pk).update(status="running")
    Delivery.objects.create(send_id=send.pk, email_id=mail.pk, contact_id=person.id, status="claimed")
    journal = Journal(send.workspace_id, send.pk)
    journal.path.parent.mkdir(parents=True, exist_ok=True)
    header = journal_module.Journal._header().rsplit(" ", 1)[0]  # boot and host, no version
    journal.path.write_text(f"{header}\na {person.id}\n", encoding="ascii")
    assert run(send).status == "finished"
    assert Delivery.objects.get(send_id=send.pk).status == "in_doubt"
    assert not smtp.messages


@pytest.mark.parametrize("broken_at", ["DATA command", "data"])
def test_a_connection_broken_mid_message_is_retried_only_if_the_data_had_not_left(in_acme, smtp, monkeypatch,
                                                                                broken_at):  # fmt: skip
    import smtplib

    from tidings.emails.models import Delivery

    person = make_contact({"email": "reader@example.example"})
    send = _start(make_email(segment_ids=[make_segment([person.id]).pk]))
    real_send = smtplib.SMTP.send

    def breaking(self, payload):
        payload = payload.encode() if isinstance(payload, str) else payload
        if (broken_at == "DATA command" and payload.lower() == b"data\r\n") or (
            broken_at == "data" and payload.endswith(b"\r\n.\r\n")
        ):
            raise ConnectionResetError("the line dropped")
        return real_send(self, payload)

    monkeypatch.setattr(smtplib.SMTP, "send", breaking)
    run(send)
    delivery = Delivery.objects.get(send_id=send.pk)
    assert not smtp.messages
    if broken_at == "DATA command":
        assert (delivery.status, delivery.reason) == ("deferred", "connection")  # tried again later
        assert delivery.retry_at is not None
    else:
        assert delivery.status == "in_doubt"  # the server may have taken it: never sent again


def test_without_a_trusted_journal_every_claimed_delivery_is_in_doubt(in_acme, smtp):
    from tidings.emails.models import Delivery, Send

    people = [make_contact({"email": f"reader{i}@example.example"}) for i in range(2)]
    mail = make_email(segment_ids=[make_segment([p.id for p in people]).pk])
    send = _start(mail)
    Send.objects.filter(pk=send.pk).update(status="running")
    Delivery.objects.create(send_id=send.pk, email_id=mail.pk, contact_id=people[0].id, status="claimed")
    run(send)
    states = dict(Delivery.objects.filter(send_id=send.pk).values_list("contact_id", "status"))
    assert states == {people[0].id: "in_doubt", people[1].id: "sent"}


def test_pause_stops_between_batches_and_resume_goes_on(in_acme, smtp):
    from tidings.emails.actions.sending import send_pause, send_resume

    people = [make_contact({"email": f"reader{i}@example.example"}) for i in range(4)]
    mail = make_email(segment_ids=[make_segment([p.id for p in people]).pk])
    send = _start(mail)
    send_pause(send.pk, principal=system())
    assert run(send).status == "paused" and not smtp.messages
    send_resume(send.pk, principal=system())
    assert run(send, batch_size=2).status == "finished"
    assert len(smtp.messages) == 4


def test_cancel_sends_nothing_more(newsletter, smtp):
    from tidings.emails.actions.sending import send_cancel

    send = _start(newsletter)
    send_cancel(send.pk, principal=system())
    assert run(send).status == "cancelled"
    assert not smtp.messages
    with pytest.raises(ValidationError):
        send_cancel(send.pk, principal=system())


def test_a_second_send_of_an_email_under_way_is_refused(newsletter):
    _start(newsletter)
    with pytest.raises(ValidationError):
        _start(newsletter)


def test_a_template_email_is_not_broadcast(readers):
    mail = make_email(kind="template", segment_ids=[make_segment([readers[0].id]).pk])
    with pytest.raises(ValidationError):
        _start(mail)


def test_a_member_without_emails_send_cannot_start(newsletter, acme, make_user):
    from django.core.exceptions import PermissionDenied

    from tidings.accounts.models import Membership
    from tidings.accounts.selectors import principal_for_user
    from tidings.emails.actions.sending import send_start

    viewer = make_user("vera@acme.example")
    Membership.objects.create(workspace=acme, user=viewer, role="analyst")
    principal = principal_for_user(viewer, acme)
    with pytest.raises(PermissionDenied):
        send_start(newsletter.pk, principal=principal)


def test_a_refused_recipient_is_counted_failed_and_the_others_still_get_it(newsletter, smtp):
    from tidings.emails.models import Delivery, Send

    smtp.refuse.add("grace@navy.example")
    send = _start(newsletter)
    run(send)
    assert len(smtp.messages) == 1
    assert Send.objects.get(pk=send.pk).counts == {"sent": 1, "failed": 1}
    assert Delivery.objects.get(send_id=send.pk, status="failed").reason == "refused"


def test_send_to_contact_sends_a_template_with_extra_tokens(readers, smtp):
    from tidings.emails.actions.sending import send_to_contact

    mail = make_email(kind="template", html="<p>Your code: {coupon} for {contactfield=firstname}</p>")
    delivery = send_to_contact(mail.pk, readers[1].id, tokens={"coupon": "SPRING<1>"}, principal=system())
    assert delivery.status == "sent"
    html = smtp.parsed()[0].get_body(("html",)).get_content()
    assert "Your code: SPRING&lt;1&gt; for Grace &lt;b&gt;" in html


def test_send_to_contact_of_another_workspace_contact_is_not_found(readers, make_user, smtp):
    from tidings.accounts.actions import workspace_create
    from tidings.contacts.models import Contact
    from tidings.emails.actions.sending import send_to_contact
    from tidings.tenancy.context import use_workspace

    mail = make_email(kind="template")
    initech = workspace_create(name="Initech", slug="initech", region="eu", owner=make_user("ian@initech.example"))
    with use_workspace(initech):
        for i in range(3):  # past Acme's ids, in the same region's database
            stranger = make_contact({"email": f"stranger{i}@initech.example"})
    with pytest.raises(Contact.DoesNotExist):
        send_to_contact(mail.pk, stranger.id, principal=system())
    assert not smtp.messages
