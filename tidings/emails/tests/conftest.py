"""Emails' test world.

Feedback's world: an email with a frozen version and two links, a finished send, and deliveries to ada
(who allows tracking) and grace (who does not). Rows are created directly. Authoring's: alice's API token as
a Mautic client sends it, and fresh rate limits per test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest


@dataclass
class Sent:
    email: Any
    version: Any
    send: Any
    link: Any
    other_link: Any
    ada: Any
    grace: Any
    ada_delivery: Any
    grace_delivery: Any

    def token(self, contact) -> str:
        from tidings.emails.links import message_token

        return message_token(self.send.workspace_id, self.send.pk, contact.id)


def make_sent(ada, grace, *, name="Spring news"):
    from django.utils import timezone

    from tidings.emails.models import Delivery, DeliveryStatus, Email, EmailLink, EmailVersion, Send
    from tidings.tenancy.context import require_workspace

    ws = require_workspace().id
    email = Email.objects.create(workspace_id=ws, name=name, subject="Hello {contactfield=firstname}",
                                 html="<p>Hi</p>", published=True)  # fmt: skip
    version = EmailVersion.objects.create(
        workspace_id=ws,
        email_id=email.pk,
        number=1,
        subject=email.subject,
        html='<p>Hi {contactfield=firstname}</p><a href="https://shop.example/a?x=1">A</a>',
    )
    link = EmailLink.objects.create(workspace_id=ws, email_id=email.pk, version=1, url="https://shop.example/a?x=1")
    other_email = Email.objects.create(workspace_id=ws, name="Other")
    other_link = EmailLink.objects.create(workspace_id=ws, email_id=other_email.pk, version=1,
                                          url="https://elsewhere.example/")  # fmt: skip
    send = Send.objects.create(workspace_id=ws, email_id=email.pk, version=1, status="finished")
    now = timezone.now()
    deliveries = [
        Delivery.objects.create(
            workspace_id=ws,
            send_id=send.pk,
            email_id=email.pk,
            contact_id=contact.id,
            status=DeliveryStatus.SENT,
            sent_at=now,
            message_id=f"<{send.pk}.{contact.id}.abcdef12@mail.acme.example>",
        )  # fmt: skip
        for contact in (ada, grace)
    ]
    return Sent(email, version, send, link, other_link, ada, grace, *deliveries)


def allow_tracking(contact, given: bool = True) -> None:
    from tidings.consent.actions import consent_record
    from tidings.tests.principals import system

    consent_record(purpose="tracking", given=given, method="operator", contact_id=contact.id, principal=system())


@pytest.fixture
def sent(ada, grace):
    allow_tracking(ada)
    return make_sent(ada, grace)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def alice_bearer(acme, alice):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    _, secret = api_token_create(workspace=acme, user=alice, name="Mautic plugin",
                                 principal=principal_for_user(alice, acme))  # fmt: skip
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
