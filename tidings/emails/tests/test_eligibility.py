"""Eligibility per batch: each skip reason, counted; transactional emails skip only what they may."""

from __future__ import annotations

import pytest

from tidings.emails.tests.conftest import make_contact, make_email, system


def _check(mail, contacts, **settings_values):
    from tidings.emails import eligibility
    from tidings.emails.models import SendingSettings
    from tidings.privacy.vault import keyring

    return eligibility.check([c.id for c in contacts], email=mail, settings=SendingSettings(**settings_values),
                             ring=keyring())  # fmt: skip


def _dnc(contact, reason):
    from tidings.contacts.actions import dnc_add

    dnc_add(contact.id, channel="email", reason=reason, principal=system())


def _suppress(address):
    from tidings.emails.models import Suppression
    from tidings.emails.selectors import suppression_index

    Suppression.objects.create(email_index=suppression_index(address), reason="hard_bounce")


@pytest.fixture
def people(in_acme):
    return {
        "ok": make_contact({"email": "ok@example.example"}),
        "no_address": make_contact({"firstname": "Nobody"}),
        "no_consent": make_contact({"email": "silent@example.example"}, consent=False),
        "unsubscribed": make_contact({"email": "gone@example.example"}),
        "bounced": make_contact({"email": "bounced@example.example"}),
        "suppressed": make_contact({"email": "Suppressed@Example.example"}),
    }


def test_each_reason_is_given_for_a_marketing_email(people):
    _dnc(people["unsubscribed"], "unsubscribed")
    _dnc(people["bounced"], "bounced")
    _suppress("suppressed@example.example")
    verdict = _check(make_email(), people.values())
    assert [c.id for c in verdict.allowed] == [people["ok"].id]
    assert verdict.skipped == {
        people["no_address"].id: "no_address", people["no_consent"].id: "no_consent",
        people["unsubscribed"].id: "dnc_unsubscribed", people["bounced"].id: "dnc_bounced",
        people["suppressed"].id: "suppressed",
    }  # fmt: skip


def test_a_transactional_email_skips_consent_and_unsubscribe_but_never_bounces_or_suppression(people):
    _dnc(people["unsubscribed"], "unsubscribed")
    _dnc(people["bounced"], "bounced")
    _suppress("suppressed@example.example")
    verdict = _check(make_email(transactional=True, kind="template"), people.values())
    assert {c.id for c in verdict.allowed} == {people["ok"].id, people["no_consent"].id, people["unsubscribed"].id}
    assert verdict.skipped == {people["no_address"].id: "no_address", people["bounced"].id: "dnc_bounced",
                               people["suppressed"].id: "suppressed"}  # fmt: skip


def test_an_erased_or_unknown_contact_is_skipped(people):
    from tidings.emails import eligibility
    from tidings.emails.models import SendingSettings
    from tidings.privacy.vault import keyring

    verdict = eligibility.check([people["ok"].id, 987654], email=make_email(), settings=SendingSettings(),
                                ring=keyring())  # fmt: skip
    assert verdict.skipped == {987654: "no_contact"}


def test_the_frequency_cap_counts_marketing_emails_sent_in_the_period(people):
    from django.utils import timezone

    from tidings.emails.models import Delivery

    old = make_email(name="Older")
    receipt = make_email(name="Receipt", transactional=True, kind="template")
    now = timezone.now()
    for mail in (old, old, receipt, receipt):
        Delivery.objects.create(send_id=mail.pk * 100 + Delivery.objects.count(), email_id=mail.pk,
                                contact_id=people["ok"].id, status="sent", sent_at=now)  # fmt: skip
    mail = make_email()
    assert _check(mail, [people["ok"]], cap_count=2, cap_days=7).skipped == {people["ok"].id: "frequency_cap"}
    assert _check(mail, [people["ok"]], cap_count=3, cap_days=7).skipped == {}
    assert _check(make_email(transactional=True, kind="template"), [people["ok"]], cap_count=1).skipped == {}


def test_skips_are_counted_by_reason_on_the_send(people, smtp):
    from tidings.emails.actions.sending import send_start
    from tidings.emails.models import Delivery, Send
    from tidings.emails.tests.conftest import make_segment, run

    _dnc(people["unsubscribed"], "unsubscribed")
    mail = make_email(segment_ids=[make_segment([c.id for c in people.values()]).pk])
    send = send_start(mail.pk, principal=system())
    run(send)
    counts = Send.objects.get(pk=send.pk).counts
    assert counts == {"sent": 3, "skipped:no_address": 1, "skipped:no_consent": 1, "skipped:dnc_unsubscribed": 1}
    assert Delivery.objects.filter(send_id=send.pk, status="skipped").count() == 3
    assert len(smtp.messages) == 3


def test_an_unknown_purpose_allows_nobody(people):
    mail = make_email(purpose_key="no_such_purpose")
    verdict = _check(mail, [people["ok"]])
    assert verdict.skipped == {people["ok"].id: "no_consent"}


def test_the_queries_of_a_batch_do_not_grow_with_its_size(in_acme):
    """The keyring is read once per batch: the suppression check once cost a query per recipient."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from tidings.tenancy.context import require_workspace

    mail = make_email()
    few = [make_contact({"email": f"few{i}@example.example"}) for i in range(2)]
    many = [make_contact({"email": f"many{i}@example.example"}) for i in range(8)]
    _check(mail, few)  # the first call may create the workspace's keys and warm caches
    counted = []
    for contacts in (few, many):
        with CaptureQueriesContext(connections[require_workspace().db_alias]) as queries:
            verdict = _check(mail, contacts)
        assert len(verdict.allowed) == len(contacts)
        counted.append(len(queries))
    assert counted[0] == counted[1], counted
