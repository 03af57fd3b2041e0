"""Panels on the contact page: apps register them (contacts.panels), the page shows those a member may see."""

import logging
from pathlib import Path

import pytest

from tidings.contacts.panels import ContactPanel, register, unregister, visible_panels
from tidings.tests.principals import system

TEMPLATES = Path(__file__).parent / "templates"


@pytest.fixture
def test_templates(settings):
    """Let the loader find the test app's panel template (tests/templates)."""
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [*engine["DIRS"], TEMPLATES]}]


def _loyalty_context(request, contact):
    return {"tier": "gold"}


def _broken_context(request, contact):
    raise RuntimeError("the loyalty service is down")


@pytest.fixture
def loyalty_panel(test_templates):
    """A panel registered as a test app would from its ready(): members:manage required (owners, not marketers)."""
    register(
        ContactPanel(
            "loyalty", "Loyalty", "panel_tests/loyalty.html", _loyalty_context, permission="members:manage", order=5
        )
    )
    yield
    unregister("loyalty")


@pytest.fixture
def broken_panel(test_templates):
    register(ContactPanel("broken", "Broken", "panel_tests/loyalty.html", _broken_context, order=6))
    yield
    unregister("broken")


@pytest.fixture
def maya_client(acme, client):
    """A client signed in as maya, a marketer in Acme (contacts:view, not members:manage)."""
    from tidings.accounts.actions import membership_create, user_create

    maya = user_create(email="maya@acme.example", password="correct horse battery staple")
    membership_create(workspace=acme, user=maya, role="marketer", principal=system(acme))
    client.force_login(maya)
    return client


def test_a_registered_panel_appears_for_a_member_with_its_permission(loyalty_panel, alice_client, ada):
    response = alice_client.get(f"/w/acme/contacts/{ada.id}/")

    assert response.status_code == 200
    assert f"Loyalty tier: gold for contact {ada.id}".encode() in response.content
    assert b'<section class="panel" id="loyalty" aria-labelledby="loyalty-heading">' in response.content


def test_a_registered_panel_is_hidden_from_a_member_without_its_permission(loyalty_panel, maya_client, ada):
    response = maya_client.get(f"/w/acme/contacts/{ada.id}/")

    assert response.status_code == 200
    assert b"Loyalty tier" not in response.content
    assert b'id="notes"' in response.content


def test_panels_are_ordered_within_their_column(loyalty_panel, acme):
    keys = [panel.key for panel in visible_panels(system(acme), "side")]

    # consents, segments and campaigns: registered by the consent, segments and campaigns apps
    assert keys == ["loyalty", "tags", "companies", "dnc", "consents", "segments", "campaigns"]


def test_contacts_shows_its_own_sections_through_the_registry(alice_client, ada):
    response = alice_client.get(f"/w/acme/contacts/{ada.id}/")

    for key in (b"notes", b"tags", b"companies", b"dnc"):
        assert b'<section class="panel" id="' + key + b'"' in response.content
    assert b"mathematics" in response.content  # ada's tag, in the tags panel


def test_a_failing_panel_fails_the_test_suite_loudly(broken_panel, alice_client, ada):
    with pytest.raises(RuntimeError):
        alice_client.get(f"/w/acme/contacts/{ada.id}/")


def test_in_production_a_failing_panel_is_logged_and_the_page_still_renders(
    broken_panel, alice_client, ada, settings, caplog
):
    settings.TIDINGS_PANELS_FAIL_LOUDLY = False
    with caplog.at_level(logging.ERROR, logger="tidings.contacts.panels"):
        response = alice_client.get(f"/w/acme/contacts/{ada.id}/")

    assert response.status_code == 200
    assert b"This panel could not be shown" in response.content
    assert b'id="notes"' in response.content
    logged = [record.getMessage() for record in caplog.records]
    assert logged == ["contact panel broken failed (RuntimeError); shown as unavailable"]


def test_a_panel_cannot_replace_the_pages_contact(test_templates, alice_client, ada, grace):
    register(ContactPanel("sneaky", "Sneaky", "panel_tests/loyalty.html", lambda request, contact: {"contact": grace}))
    try:
        response = alice_client.get(f"/w/acme/contacts/{ada.id}/")
    finally:
        unregister("sneaky")

    assert f"for contact {ada.id}".encode() in response.content


def test_a_bad_note_keeps_its_bound_form_in_the_notes_panel(alice_client, ada):
    response = alice_client.post(f"/w/acme/contacts/{ada.id}/notes/", {"type": "general", "text": ""})

    assert response.status_code == 400
    assert b'class="errorlist' in response.content
