"""Issue 11's "Done when", end to end in a real headless Chromium against the real endpoints.

A customer page on a loopback origin (http://localhost:<port>, tidings/tracking/tests/browser_site.py)
carries the tracker snippet of a consent site and the form's script embed, both pointed at Tidings
(http://127.0.0.1:<port>, another origin: CORS applies), served as production serves it (the collect
front before Django). The visitor consents to tracking, browses, fills the form and sends it: the
contact is created, the visit history joins it, the double opt-in mail reaches a real SMTP server
(aiosmtpd) on 127.0.0.1, and following its link records the marketing consent with its proof.
A second test posts Mautic's own form HTML (mauticform[...]) and gets the same contact.
"""

from __future__ import annotations

import re

import pytest

from tidings.tracking.tests.browser_site import page, snippet
from tidings.tracking.tests.live_front import eventually, read
from tidings.web.tests.browser import assert_accessible, browser_test

pytestmark = browser_test

WORDING = "Send me Acme's spring programme by email."


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope.content)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(settings):
    import socket

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
    yield inbox
    controller.stop()


def _setup(acme):
    """Acme's consent site on localhost, a published notice, and a published form with a double opt-in."""
    from tidings.consent import actions as consent_actions
    from tidings.forms import actions
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system
    from tidings.tracking import actions as tracking_actions

    with use_workspace(acme):
        site = tracking_actions.site_create(name="Acme shop", domains=["localhost"], consent_mode="consent",
                                            principal=system())  # fmt: skip
        consent_actions.notice_publish(title="Acme privacy notice", url="https://acme.example/privacy",
                                       principal=system())  # fmt: skip
        form = actions.form_create(
            name="Spring programme", published=True, principal=system(),
            fields=[{"kind": "email", "label": "Email", "alias": "email", "required": True, "maps_to": "email"},
                    {"kind": "text", "label": "First name", "alias": "firstname", "maps_to": "firstname"},
                    {"kind": "consent", "label": WORDING, "alias": "programme_ok", "purpose": "marketing_email"}],
            actions=[{"kind": "tags_add", "tags": ["spring"]},
                     {"kind": "double_opt_in", "purpose": "marketing_email", "subject": "Confirm your subscription"}],
        )  # fmt: skip
    return site, form


def _confirm_link(inbox) -> str:
    import email

    message = email.message_from_bytes(inbox.messages[-1])
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes) and message["Subject"] == "Confirm your subscription"
    found = re.search(r"http://\S+/form/confirm/\S+", payload.decode())
    assert found is not None
    return found.group(0)


def test_a_visitor_consents_submits_the_embedded_form_and_confirms_by_email(
    acme, tidings_server, customer_site, smtp, tab
):
    from tidings.consent.models import ConsentRecord
    from tidings.contacts.selectors import contact_by_unique_identifier
    from tidings.events.models import Visitor
    from tidings.events.selectors import contact_events
    from tidings.tenancy.context import use_workspace
    from tidings.tracking.event_types import PAGE_HIT

    site, form = _setup(acme)
    embed = f'<script src="{tidings_server}/m/acme/form/generate.js?id={form.pk}"></script>'
    customer_site.pages["/"] = page("Spring programme", head=snippet(tidings_server, site.public_key), body=embed)
    customer_site.pages["*"] = customer_site.pages["/"]
    tab.goto(customer_site.page_url("/"))

    tab.evaluate("() => tidings('consent', {tracking: true})")  # the site's banner, accepted
    tab.wait_for_function("() => document.cookie.includes('_tdv=')")
    token = {c["name"]: c["value"] for c in tab.context.cookies(customer_site.page_url())}["_tdv"]
    visitor = int(token.split(".")[0])
    tab.evaluate("() => { history.pushState({}, '', '/programme'); document.title = 'Programme'; }")

    def hits():
        with use_workspace(acme):
            from tidings.events.models import Event

            return Event.objects.filter(type=PAGE_HIT, visitor_id=visitor).exists()

    eventually(hits, what="the consented visitor's page.hit")

    tab.get_by_role("textbox", name="Email").fill("ada@lovelace.example")
    tab.get_by_label("First name").fill("Ada")
    tab.get_by_label(WORDING).check()
    tab.get_by_role("button", name="Submit").click()
    tab.get_by_text("Thank you").wait_for()

    def joined():
        with use_workspace(acme):
            contact = contact_by_unique_identifier("email", "ada@lovelace.example")
            assert contact.fields["firstname"] == "Ada" and "spring" in contact.tags
            assert Visitor.objects.get(pk=visitor).contact_id == contact.id
            assert contact_events(contact.id, [PAGE_HIT]).exists()  # the visit history is the contact's now
            assert not ConsentRecord.objects.filter(contact_id=contact.id, purpose_id__isnull=False, given=True,
                                                    method="form").exists()  # pending until the click  # fmt: skip
            return contact

    contact = read(joined)

    eventually(lambda: smtp.messages, what="the double opt-in mail at the SMTP server")
    link = _confirm_link(smtp)
    tab.goto(link)
    assert_accessible(tab)
    tab.get_by_role("button", name="Confirm").click()
    tab.get_by_text("Your subscription is confirmed.").wait_for()

    with use_workspace(acme):
        record = read(lambda: ConsentRecord.objects.get(contact_id=contact.id, method="form", given=True))
        assert record.wording == WORDING and record.notice_version == 1
        assert record.source == f"form:{form.pk}" and record.ip_network == "127.0.0.0/24"


def test_mautics_own_form_html_posting_mauticform_fields_creates_the_contact(acme, tidings_server, customer_site, tab):
    from tidings.contacts.selectors import contact_by_unique_identifier
    from tidings.tenancy.context import use_workspace

    _site, form = _setup(acme)
    # Mautic's form markup as its builder writes it (trimmed): plain HTML, no Tidings script.
    mautic_form = f"""
<form autocomplete="false" role="form" method="post" action="{tidings_server}/m/acme/form/submit?formId={form.pk}"
 id="mauticform_springprogramme" data-mautic-form="springprogramme" enctype="multipart/form-data">
<label for="mauticform_input_email">Email</label>
<input id="mauticform_input_email" name="mauticform[email]" type="email">
<label for="mauticform_input_firstname">First name</label>
<input id="mauticform_input_firstname" name="mauticform[firstname]" type="text">
<input type="hidden" name="mauticform[formId]" value="{form.pk}">
<input type="hidden" name="mauticform[return]" value="{customer_site.page_url("/thanks")}">
<input type="hidden" name="mauticform[formName]" value="springprogramme">
<button type="submit" name="mauticform[submit]" value="1">Send</button>
</form>"""
    customer_site.pages["/"] = page("Mautic form", body=mautic_form)
    customer_site.pages["/thanks"] = page("Thanks")
    tab.goto(customer_site.page_url("/"))
    tab.get_by_label("Email", exact=True).fill("charles@engine.example")
    tab.get_by_label("First name").fill("Charles")
    with tab.expect_navigation():
        tab.get_by_role("button", name="Send").click()
    assert "/thanks?mauticMessage=" in tab.url
    with use_workspace(acme):
        assert contact_by_unique_identifier("email", "charles@engine.example").fields["firstname"] == "Charles"


def test_a_landing_page_with_the_embedded_form_creates_the_contact_and_confirms_by_email(
    acme, tidings_server, smtp, tab
):
    """Issue 11's first "Done when": the form in a landing page ({form=ID}) on the workspace's public path."""
    from tidings.consent.models import ConsentRecord
    from tidings.contacts.selectors import contact_by_unique_identifier
    from tidings.pages import actions as page_actions
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system

    _site, form = _setup(acme)
    with use_workspace(acme):
        content = f"<h2>Our spring programme</h2><p>Ten evenings of talks.</p>{{form={form.pk}}}"
        page_actions.page_create(title="Spring programme", slug="spring", is_published=True, content=content,
                                 principal=system())  # fmt: skip
    tab.goto(f"{tidings_server}/m/{acme.slug}/p/spring")
    assert_accessible(tab)
    tab.get_by_role("textbox", name="Email").fill("grace@harbour.example")
    tab.get_by_label("First name").fill("Grace")
    tab.get_by_label(WORDING).check()
    tab.get_by_role("button", name="Submit").click()
    tab.get_by_text("Thank you").wait_for()

    def created():
        with use_workspace(acme):
            contact = contact_by_unique_identifier("email", "grace@harbour.example")
            assert contact.fields["firstname"] == "Grace"
            assert not ConsentRecord.objects.filter(contact_id=contact.id, given=True).exists()  # until the click
            return contact

    contact = read(created)
    eventually(lambda: smtp.messages, what="the double opt-in mail at the SMTP server")
    tab.goto(_confirm_link(smtp))
    tab.get_by_role("button", name="Confirm").click()
    tab.get_by_text("Your subscription is confirmed.").wait_for()
    with use_workspace(acme):
        record = read(lambda: ConsentRecord.objects.get(contact_id=contact.id, method="form", given=True))
    assert record.wording == WORDING and record.notice_version == 1 and record.source == f"form:{form.pk}"
    assert record.ip_network == "127.0.0.0/24"
