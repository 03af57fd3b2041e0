"""Replies (decision 0040): the parser (our Message-ID quoted, reports and automatic answers refused), what a
reply records (once per delivery, whatever the tracking consent), the inbound endpoints (native and Mautic's),
the mailbox poller, stats and erasure.

ada allows tracking, grace does not; both were sent Acme's "Spring news" (conftest.sent).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.emails import replies, selectors
from tidings.emails.headers import message_id, read_tracking_hash
from tidings.emails.links import MessageRef
from tidings.emails.models import Delivery, EmailCount
from tidings.emails.tests.dsn_samples import dsn
from tidings.emails.tests.test_bounces import FakeImap
from tidings.tests.principals import system

DOMAIN = "mail.acme.example"
WS = 7  # the parser's own tests name a workspace id: no database needed


def reply(in_reply_to: str | None = None, *, references: str | None = None, subject: str = "Re: Spring news",
          extra: str = "", body: str = "Thanks, see you there.") -> bytes:  # fmt: skip
    """A person's reply as a mail client writes it (extra: more header lines, each ending in CRLF)."""
    lines = ["From: Ada <ada@analytical.example>", "To: news@acme.example", f"Subject: {subject}",
             "Date: Wed, 02 Dec 2026 08:00:00 +0000", "Message-ID: <reply-1@analytical.example>"]  # fmt: skip
    if in_reply_to:
        lines.append(f"In-Reply-To: {in_reply_to}")
    if references:
        lines.append(f"References: {references}")
    return ("\r\n".join(lines) + "\r\n" + extra + "Content-Type: text/plain\r\n\r\n" + body + "\r\n").encode()


def ours(send_id: int, contact_id: int, workspace_id: int | None = None) -> str:
    return message_id(send_id, contact_id, DOMAIN, workspace_id=workspace_id)


def events(code_name, contact_id):
    from tidings.events.models import Event
    from tidings.events.registry import code_for

    return Event.objects.filter(type=code_for(code_name), contact_id=contact_id).count()


def replied_count() -> int:
    return sum(EmailCount.objects.filter(kind="replied").values_list("count", flat=True))


def replied_at(delivery):
    return Delivery.objects.get(pk=delivery.pk).replied_at


# ---------------------------------------------------------------------------------------------
# The parser


@pytest.mark.engine_independent
def test_a_reply_names_the_message_it_quotes():
    assert replies.parse_reply(reply(ours(4, 9, WS)), workspace_id=WS) == [MessageRef(4, 9)]


@pytest.mark.engine_independent
def test_in_reply_to_comes_first_then_references_from_the_last():
    raw = reply(ours(1, 9, WS), references=f"{ours(2, 9, WS)} <x@elsewhere.example>\r\n {ours(3, 9, WS)}")
    assert replies.parse_reply(raw, workspace_id=WS) == [MessageRef(1, 9), MessageRef(3, 9), MessageRef(2, 9)]
    assert replies.parse_reply(reply(references=ours(3, 9, WS)), workspace_id=WS) == [MessageRef(3, 9)]


@pytest.mark.engine_independent
def test_a_forged_hmac_another_workspaces_id_and_a_stranger_name_nothing():
    forged = ours(4, 9, WS).replace(ours(4, 9, WS).split(".")[2][:8], "00000000")
    assert replies.parse_reply(reply(forged), workspace_id=WS) == []
    assert replies.parse_reply(reply(ours(4, 9, WS + 1)), workspace_id=WS) == []
    assert replies.parse_reply(reply("<CAF=xyz@mail.gmail.example>"), workspace_id=WS) == []
    assert replies.parse_reply(reply(None), workspace_id=WS) == []


@pytest.mark.engine_independent
def test_a_dsn_is_no_reply_even_quoting_our_message_id():
    raw = dsn("ada@analytical.example", message_id=ours(4, 9, WS))
    assert replies.parse_reply(raw, workspace_id=WS) == []
    report = raw.replace(b"MIME-Version", f"In-Reply-To: {ours(4, 9, WS)}\r\nMIME-Version".encode(), 1)
    found = replies.read_reply(report, workspace_id=WS)
    assert found.report and not found.is_reply


AUTOMATIC = [
    ("Auto-Submitted: auto-replied\r\n", "Re: Spring news"),
    ("Auto-Submitted: auto-generated; owner-email=x@y.example\r\n", "Re: Spring news"),
    ("X-Autoreply: yes\r\n", "Re: Spring news"),
    ("X-Autorespond: Spring news\r\n", "Re: Spring news"),
    ("Precedence: bulk\r\n", "Re: Spring news"),
    ("Precedence: auto_reply\r\n", "Re: Spring news"),
    ("Precedence: junk\r\n", "Re: Spring news"),
    ("X-Precedence: list\r\n", "Re: Spring news"),
    ("Return-Path: <>\r\n", "Re: Spring news"),
    ("", "Out of Office: Spring news"),
    ("", "Automatic reply: Spring news"),
    ("", "Auto: Spring news"),
    ("", "Abwesenheitsnotiz: Spring news"),
    ("", "=?utf-8?q?R=C3=A9ponse_automatique_:_Spring_news?="),
]


@pytest.mark.engine_independent
@pytest.mark.parametrize(("extra", "subject"), AUTOMATIC)
def test_an_automatic_answer_is_no_reply(extra, subject):
    found = replies.read_reply(reply(ours(4, 9, WS), extra=extra, subject=subject), workspace_id=WS)
    assert found.automatic and found.refs == (MessageRef(4, 9),) and not found.is_reply
    assert replies.parse_reply(reply(ours(4, 9, WS), extra=extra, subject=subject), workspace_id=WS) == []


@pytest.mark.engine_independent
def test_auto_submitted_no_and_a_person_writing_about_the_office_are_replies():
    raw = reply(ours(4, 9, WS), extra="Auto-Submitted: no\r\nReturn-Path: <ada@analytical.example>\r\n",
                subject="Re: Out of office plans in Spring news?")  # fmt: skip
    assert replies.parse_reply(raw, workspace_id=WS) == [MessageRef(4, 9)]


@pytest.mark.engine_independent
@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_the_parser_never_fails_on_bytes(raw):
    assert isinstance(replies.parse_reply(raw, workspace_id=WS), list)


@pytest.mark.engine_independent
@settings(max_examples=150, deadline=None)
@given(in_reply_to=st.text(max_size=300), references=st.text(max_size=300), subject=st.text(max_size=120),
       auto=st.text(max_size=40))  # fmt: skip
def test_the_parser_never_fails_on_odd_headers(in_reply_to, references, subject, auto):
    raw = reply(ours(4, 9, WS)).replace(b"Subject: Re: Spring news", ("Subject: " + subject).encode("utf-8", "replace"))
    raw = raw.replace(b"Message-ID:", f"In-Reply-To: {in_reply_to}\r\nReferences: {references}\r\n"
                      f"Auto-Submitted: {auto}\r\nMessage-ID:".encode("utf-8", "replace"))  # fmt: skip
    found = replies.read_reply(raw, workspace_id=WS)
    assert all(ref == MessageRef(4, 9) for ref in found.refs)  # only an id this workspace signed is ever read


@pytest.mark.engine_independent
def test_a_huge_message_is_read_from_its_headers_only():
    raw = reply(ours(4, 9, WS), body="x" * (replies.MAX_REPLY_BYTES * 2))
    assert replies.parse_reply(raw, workspace_id=WS) == [MessageRef(4, 9)]


@pytest.mark.engine_independent
def test_the_tracking_hash_is_the_left_part_of_our_message_id():
    left = ours(4, 9, WS).strip("<>").split("@")[0]
    assert read_tracking_hash(left, workspace_id=WS) == MessageRef(4, 9)
    assert read_tracking_hash(left, workspace_id=WS + 1) is None
    assert read_tracking_hash(left[:-1] + ("0" if left[-1] != "0" else "1"), workspace_id=WS) is None
    assert read_tracking_hash(f"<{left}@{DOMAIN}>", workspace_id=WS) is None
    assert read_tracking_hash(None, workspace_id=WS) is None


# ---------------------------------------------------------------------------------------------
# What a reply records


def test_a_reply_is_recorded_once_per_delivery(sent):
    from tidings.audit.models import AuditEntry
    from tidings.emails.actions.feedback import reply_record

    ref = MessageRef(sent.send.pk, sent.ada.id)
    first = reply_record(ref, principal=system())
    again = reply_record(ref, principal=system())
    assert (first.email_id, first.first, again.first) == (sent.email.pk, True, False)
    assert replied_at(sent.ada_delivery) is not None and replied_at(sent.grace_delivery) is None
    assert replied_count() == 1 and events("email.replied", sent.ada.id) == 1
    (entry,) = AuditEntry.objects.filter(action="email.replied")
    assert entry.target_id == str(sent.email.pk)
    assert entry.data == {"send_id": sent.send.pk, "contact_id": sent.ada.id}  # ids only


def test_the_same_reply_read_twice_counts_once(sent):
    raw = reply(ours(sent.send.pk, sent.ada.id))
    assert replies.reply_message_record(raw, principal=system()).first
    outcome = replies.reply_message_record(raw, principal=system())
    assert outcome.recorded and not outcome.first
    assert replied_count() == 1 and events("email.replied", sent.ada.id) == 1


def test_a_reply_is_recorded_without_the_tracking_consent(sent):
    """grace does not allow tracking: her opens are only counted, but her reply is hers to send (decision 0040)."""
    outcome = replies.reply_message_record(reply(ours(sent.send.pk, sent.grace.id)), principal=system())
    assert outcome.email_id == sent.email.pk
    assert replied_at(sent.grace_delivery) is not None and events("email.replied", sent.grace.id) == 1


def test_an_out_of_office_records_nothing(sent):
    raw = reply(ours(sent.send.pk, sent.ada.id), extra="Auto-Submitted: auto-replied\r\n")
    outcome = replies.reply_message_record(raw, principal=system())
    assert outcome.automatic and not outcome.recorded
    assert replied_at(sent.ada_delivery) is None and replied_count() == 0 and events("email.replied", sent.ada.id) == 0


def test_a_reference_naming_no_delivery_records_nothing(sent):
    from tidings.emails.actions.feedback import reply_record

    assert reply_record(MessageRef(sent.send.pk, 999_999), principal=system()) is None
    assert not replies.reply_message_record(reply(ours(999_998, sent.ada.id)), principal=system()).recorded
    assert replied_count() == 0


def test_a_member_without_the_permission_cannot_record_replies(sent, alice, acme):
    from django.core.exceptions import PermissionDenied

    from tidings.accounts.permissions import Principal
    from tidings.emails.actions.feedback import reply_record

    marketer = Principal(workspace=acme, user=alice, permissions=frozenset({"emails:send", "emails:view"}))
    with pytest.raises(PermissionDenied):
        reply_record(MessageRef(sent.send.pk, sent.ada.id), principal=marketer)
    assert replied_at(sent.ada_delivery) is None


def test_a_reply_quoting_another_workspaces_message_id_records_nothing_in_either(sent, make_user):
    """Initech shares Acme's region database: its Message-ID read in Acme, and Acme's read in Initech, name nothing."""
    from django.utils import timezone

    from tidings.accounts.actions import workspace_create
    from tidings.contacts.actions import contact_create
    from tidings.emails.models import Send
    from tidings.tenancy.context import use_workspace

    initech = workspace_create(name="Initech", slug="initech", region="eu", owner=make_user("peter@initech.example"))
    with use_workspace(initech):
        peter = contact_create({"email": "peter@initech.example"}, principal=system(initech))
        send = Send.objects.create(workspace_id=initech.id, email_id=sent.email.pk, version=1, status="finished")
        theirs = Delivery.objects.create(workspace_id=initech.id, send_id=send.pk, email_id=sent.email.pk,
                                         contact_id=peter.id, status="sent", sent_at=timezone.now())  # fmt: skip
        acme_id = ours(sent.send.pk, sent.ada.id, sent.send.workspace_id)
        assert not replies.reply_message_record(reply(acme_id), principal=system(initech)).recorded
        initech_id = ours(send.pk, peter.id)
    # In Acme, Initech's id (its HMAC is Initech's) names nothing, not even Acme's rows with the same ids.
    assert not replies.reply_message_record(reply(initech_id), principal=system()).recorded
    assert replied_count() == 0 and not Delivery.objects.filter(replied_at__isnull=False).exists()
    with use_workspace(initech):
        assert Delivery.objects.get(pk=theirs.pk).replied_at is None
        assert not EmailCount.objects.exists()


# ---------------------------------------------------------------------------------------------
# Stats and erasure


def test_stats_count_recipients_who_replied(client, sent, alice):
    replies.reply_message_record(reply(ours(sent.send.pk, sent.ada.id)), principal=system())
    total = selectors.email_stats(sent.email.pk).total
    assert (total.replied, total.opened) == (1, 0)
    assert selectors.email_stats_series(sent.email.pk, days=3)[-1].replies == 1
    client.force_login(alice)
    body = client.get(f"/w/acme/emails/{sent.email.pk}/stats/").content.decode()
    assert "Replied" in body and "Replies by day" in body


def test_the_timeline_says_the_contact_replied(sent):
    from tidings.events.descriptions import describe
    from tidings.events.registry import code_for

    (line,) = describe([(code_for("email.replied"), {"email_id": sent.email.pk, "send_id": sent.send.pk})])
    assert line.text == "Replied to the email “Spring news”"


def test_erasing_the_contact_leaves_nothing_of_its_reply(sent):
    from tidings.privacy.registry import erase_subject

    replies.reply_message_record(reply(ours(sent.send.pk, sent.ada.id)), principal=system())
    erase_subject(sent.ada.id, principal=system())
    assert not Delivery.objects.filter(contact_id=sent.ada.id).exists()
    assert events("email.replied", sent.ada.id) == 0
    assert replied_count() == 1  # the aggregate stays: it names nobody


# ---------------------------------------------------------------------------------------------
# The native inbound endpoint


@pytest.fixture
def inbound_token(acme, alice):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    _, secret = api_token_create(workspace=acme, user=alice, name="Mail hook", permissions=["emails:bounces"],
                                 principal=principal_for_user(alice, acme))  # fmt: skip
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def post_reply(client, body, token, content_type="message/rfc822"):
    return client.post("/api/v1/emails/replies", body, content_type=content_type, **token)


def test_the_inbound_endpoint_records_a_reply_once(client, sent, inbound_token):
    raw = reply(ours(sent.send.pk, sent.ada.id))
    response = post_reply(client, raw, inbound_token)
    assert response.status_code == 200, response.content
    assert response.json() == {"email_id": sent.email.pk, "first": True}
    assert post_reply(client, raw, inbound_token).json() == {"email_id": sent.email.pk, "first": False}
    assert replied_count() == 1


def test_the_inbound_endpoint_refuses_what_is_not_a_reply_of_ours(client, sent, inbound_token):
    ooo = reply(ours(sent.send.pk, sent.ada.id), subject="Out of office")
    for body in (ooo, dsn("ada@analytical.example", message_id=ours(sent.send.pk, sent.ada.id)),
                 reply("<someone@elsewhere.example>"), b"hello"):  # fmt: skip
        response = post_reply(client, body, inbound_token)
        assert response.status_code == 422, response.content
    assert b"automatic" in post_reply(client, ooo, inbound_token).content
    assert post_reply(client, b"", inbound_token).status_code in (400, 415)  # the client drops an empty body's type
    assert post_reply(client, b"{}", inbound_token, "application/json").status_code == 415
    assert client.post("/api/v1/emails/replies", reply(ours(sent.send.pk, sent.ada.id)),
                       content_type="message/rfc822").status_code == 401  # fmt: skip
    assert replied_count() == 0


def test_the_inbound_endpoint_needs_the_inbound_permission(client, sent, acme, alice):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    _, secret = api_token_create(workspace=acme, user=alice, name="Reports", permissions=["emails:view"],
                                 principal=principal_for_user(alice, acme))  # fmt: skip
    response = post_reply(client, reply(ours(sent.send.pk, sent.ada.id)), {"HTTP_AUTHORIZATION": f"Bearer {secret}"})
    assert response.status_code == 403 and replied_count() == 0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_the_inbound_endpoint_never_fails_on_bytes(client, sent, inbound_token, body):
    assert post_reply(client, body, inbound_token).status_code < 500


# ---------------------------------------------------------------------------------------------
# Mautic's POST /emails/reply/{trackingHash}


def tracking_hash(sent, contact) -> str:
    return ours(sent.send.pk, contact.id).strip("<>").split("@")[0]


def test_mautics_reply_route_answers_201_and_counts_once(client, sent, inbound_token):
    path = f"/api/emails/reply/{tracking_hash(sent, sent.ada)}"
    response = client.post(path, **inbound_token)
    assert response.status_code == 201, response.content
    assert response.json() == {"success": True}
    assert client.post(path, **inbound_token).status_code == 201
    assert replied_count() == 1 and replied_at(sent.ada_delivery) is not None


def test_mautics_reply_route_answers_404_for_a_hash_not_ours(client, sent, inbound_token):
    forged = tracking_hash(sent, sent.ada)[:-8] + "00000000"
    for value in (forged, f"{sent.send.pk}.999999.abcdef12", "not-a-hash", tracking_hash(sent, sent.ada) + "0"):
        response = client.post(f"/api/emails/reply/{value}", **inbound_token)
        assert response.status_code == 404, value
        assert response.json()["errors"][0]["code"] == 404  # Mautic's error shape
    assert client.get(f"/api/emails/reply/{tracking_hash(sent, sent.ada)}", **inbound_token).status_code == 405
    assert replied_count() == 0


def test_mautics_reply_route_needs_the_inbound_permission(client, sent, acme, alice):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    _, secret = api_token_create(workspace=acme, user=alice, name="Reports", permissions=["emails:view"],
                                 principal=principal_for_user(alice, acme))  # fmt: skip
    response = client.post(f"/api/emails/reply/{tracking_hash(sent, sent.ada)}", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 403 and replied_count() == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=80))
def test_mautics_reply_route_never_fails_on_a_hash(client, sent, inbound_token, value):
    from urllib.parse import quote

    response = client.post(f"/api/emails/reply/{quote(value, safe='')}", **inbound_token)
    assert response.status_code < 500


# ---------------------------------------------------------------------------------------------
# The mailbox poller


def test_the_poller_records_replies_and_leaves_out_of_office_unseen(sent):
    from tidings.emails import mailbox

    fake = FakeImap([
        reply(ours(sent.send.pk, sent.ada.id)),
        reply(ours(sent.send.pk, sent.grace.id), extra="X-Autoreply: yes\r\n", subject="Out of office"),
        dsn("grace@navy.example", message_id=sent.grace_delivery.message_id),
        b"Subject: hello\r\n\r\nhi",
    ])  # fmt: skip
    result = mailbox.poll(fake, principal=system(), delete=True)
    assert (result.read, result.dsn, result.replies, result.other) == (4, 1, 1, 2)
    assert fake.flags == {1: "(\\Seen)", 3: "(\\Deleted)"}  # a reply is never deleted, even with --delete
    assert replied_at(sent.ada_delivery) is not None and replied_at(sent.grace_delivery) is None
