"""send_to_contacts: send_to_contact for a batch (campaign send steps): one Send, one eligibility pass, claims
committed before the messages leave."""

from __future__ import annotations

import pytest

from tidings.emails.tests.conftest import make_contact, make_email, system


def test_a_batch_is_one_send_with_each_contacts_fate(in_acme, smtp):
    from tidings.contacts.actions import dnc_add
    from tidings.emails.actions.sending import send_to_contacts
    from tidings.emails.models import Delivery, Send

    ada = make_contact({"email": "ada@analytical.example", "firstname": "Ada"})
    grace = make_contact({"email": "grace@navy.example", "firstname": "Grace"}, consent=False)
    alan = make_contact({"email": "alan@bletchley.example", "firstname": "Alan"})
    dnc_add(alan.id, reason="unsubscribed", principal=system())
    linus = make_contact({"email": "linus@kernel.example", "firstname": "Linus"})
    mail = make_email(name="Welcome", kind="template")
    fates = send_to_contacts(mail.pk, [ada.id, grace.id, alan.id, linus.id, 10**12], principal=system())
    assert fates == {ada.id: ("sent", ""), linus.id: ("sent", ""), grace.id: ("skipped", "no_consent"),
                     alan.id: ("skipped", "dnc_unsubscribed"), 10**12: ("skipped", "no_contact")}  # fmt: skip
    assert sorted(m["To"] for m in smtp.parsed()) == ["ada@analytical.example", "linus@kernel.example"]
    (send,) = Send.objects.filter(email_id=mail.pk)
    assert send.status == "finished" and send.counts == {"sent": 2, "skipped:no_consent": 1,
                                                          "skipped:dnc_unsubscribed": 1}  # fmt: skip
    assert sorted(Delivery.objects.filter(send_id=send.pk).values_list("contact_id", "status")) == sorted(
        [(ada.id, "sent"), (linus.id, "sent"), (grace.id, "skipped"), (alan.id, "skipped")]
    )


def test_the_claims_are_committed_before_a_message_leaves(in_acme, smtp, monkeypatch):
    from tidings.emails import sender
    from tidings.emails.actions.sending import send_to_contacts
    from tidings.emails.models import Delivery

    ada = make_contact({"email": "ada@analytical.example"})
    grace = make_contact({"email": "grace@navy.example"})
    mail = make_email(name="Welcome", kind="template")
    seen = []

    def send_all(self, jobs):
        seen.append(sorted(Delivery.objects.filter(email_id=mail.pk).values_list("contact_id", "status")))
        raise RuntimeError("killed while sending")

    monkeypatch.setattr(sender.Workers, "send_all", send_all)
    with pytest.raises(RuntimeError):
        send_to_contacts(mail.pk, [ada.id, grace.id], principal=system())
    assert seen == [sorted([(ada.id, "claimed"), (grace.id, "claimed")])]
    assert smtp.messages == []


def test_an_unpublished_email_is_refused(in_acme):
    from django.core.exceptions import ValidationError

    from tidings.emails.actions.sending import send_to_contacts

    ada = make_contact({"email": "ada@analytical.example"})
    mail = make_email(name="Draft", kind="template", published=False)
    with pytest.raises(ValidationError):
        send_to_contacts(mail.pk, [ada.id], principal=system())
