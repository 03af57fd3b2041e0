"""Emails' test world.

Sending's actors: Acme's spring newsletter (a broadcast to its readers' segment), a welcome template,
readers who consented to marketing email, and a real SMTP server (aiosmtpd) on loopback. Feedback's: an
email with a frozen version and two links, a finished send, and deliveries to ada (who allows tracking)
and grace (who does not), created directly. Authoring's: alice's API token as a Mautic client sends it,
and fresh rate limits per test.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass
from typing import Any

import pytest


class Inbox:
    """An aiosmtpd handler keeping every message it receives (and optionally refusing some recipients)."""

    def __init__(self):
        self.messages: list[bytes] = []
        self.refuse: set[str] = set()
        self.defer: dict[str, int] = {}  # address -> how many more times to answer "451 try again later"
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook
        if address in self.refuse:
            return "550 No such mailbox here"
        if self.defer.get(address, 0) > 0:
            self.defer[address] -= 1
            return "451 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self._lock:
            self.messages.append(envelope.content)
        return "250 Message accepted for delivery"

    def parsed(self):
        return [email.message_from_bytes(m, policy=email.policy.default) for m in self.messages]

    def to(self, address: str):
        return [m for m in self.parsed() if address in str(m["To"])]


@pytest.fixture
def smtp(settings):
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port (the controller checks readiness by connecting to it)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    yield inbox
    controller.stop()


@pytest.fixture(autouse=True)
def _journal_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    # One lane unless a test asks for more (test_lanes.py): these tests look at a send's own checkpoint and journal.
    settings.TIDINGS_EMAIL_SEND_LANES = 1


def system():
    from tidings.tests.principals import system as _system

    return _system()


def make_contact(values, *, consent: bool = True):
    from tidings.consent.actions import consent_record
    from tidings.contacts.actions import contact_create

    contact = contact_create(values, principal=system())
    if consent:
        consent_record(purpose="marketing_email", given=True, method="form", contact_id=contact.id, principal=system())
    return contact


DEFAULT_TEXT = "Hi {contactfield=firstname|there}\n{unsubscribe_url}"


def make_email(*, name="Spring news", kind="list", segment_ids=(), html=None, transactional=False, published=True,
               subject="Hello {contactfield=firstname|there}", text=DEFAULT_TEXT, **extra):  # fmt: skip
    """An email and its frozen version 1, written directly (the authoring actions come with the author helper)."""
    from tidings.emails.models import Email, EmailVersion

    html = html if html is not None else (
        "<html><body><p>Hi {contactfield=firstname|there} from {contactfield=city|somewhere}</p>"
        '<a href="https://acme.example/spring?x=1&amp;y=2">Spring</a> '
        '<a href="{unsubscribe_url}">Unsubscribe</a></body></html>'
    )  # fmt: skip
    fields = dict(subject=subject, from_name="Acme News", from_address="news@acme.example", html=html, text=text)
    fields.update(extra)
    mail = Email.objects.create(name=name, kind=kind, segment_ids=list(segment_ids), transactional=transactional,
                                published=published, **fields)  # fmt: skip
    versioned = {"subject", "preheader", "from_name", "from_address", "reply_to", "html", "text"}
    EmailVersion.objects.create(email_id=mail.pk, number=1, **{k: v for k, v in fields.items() if k in versioned})
    return mail


def make_segment(contact_ids, name="Readers"):
    from tidings.segments.actions import segment_create, segment_members_add

    segment = segment_create(name=name, principal=system())
    segment_members_add(segment.pk, list(contact_ids), principal=system())
    return segment


@pytest.fixture
def readers(in_acme):
    """Ada and Grace, who consented to Acme's marketing email, in the Readers segment."""
    ada = make_contact({"email": "ada@analytical.example", "firstname": "Ada", "city": "London"})
    grace = make_contact({"email": "grace@navy.example", "firstname": "Grace <b>"})
    return [ada, grace]


@pytest.fixture
def newsletter(readers):
    segment = make_segment([c.id for c in readers])
    return make_email(segment_ids=[segment.pk])


def run(send, **kwargs):
    """Run a send to the end in this thread, as the task would."""
    from tidings.emails.actions.sending import send_run

    return send_run(send.pk, principal=system(), **kwargs)


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
