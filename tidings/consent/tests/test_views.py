"""The consent pages: purposes and notices in settings, and the contact page's "Consents" panel."""

from __future__ import annotations

import pytest

from tidings.consent import actions
from tidings.consent.models import PrivacyNotice, Purpose
from tidings.privacy.models import LawfulBasis
from tidings.tests.principals import system

PAGE = "/w/acme/privacy/consent/"


def _member(acme, email: str, role: str):
    from tidings.accounts.actions import membership_create, user_create

    user = user_create(email=email, password="correct horse battery staple")
    membership_create(workspace=acme, user=user, role=role, principal=system(acme))
    return user


@pytest.fixture
def mia_client(acme, client):
    """A client signed in as mia, a marketer in Acme: she records consent but does not see the ledger."""
    client.force_login(_member(acme, "mia@acme.example", "marketer"))
    return client


def test_the_page_lists_the_standard_purposes_and_the_notices(alice_client, in_acme):
    actions.notice_publish(principal=system(), title="Privacy notice 2026", url="https://acme.example/privacy")
    body = alice_client.get(PAGE).content.decode()
    for name in ("Marketing email", "Website tracking", "Profiling", "Sharing with partners", "Privacy notice 2026"):
        assert name in body
    assert "Add a purpose" in body and "Publish a new version" in body
    assert 'href="/w/acme/privacy/consent/"' in alice_client.get("/w/acme/").content.decode()  # in the navigation


def test_adding_a_purpose(alice_client, in_acme):
    posted = {
        "key": "event_invites",
        "name": "Event invitations",
        "lawful_basis": "legitimate_interests",
        "active": "on",
    }
    response = alice_client.post(PAGE + "purposes/new/", posted)
    assert response.status_code == 302
    assert Purpose.objects.get(key="event_invites").lawful_basis == LawfulBasis.LEGITIMATE_INTERESTS


def test_a_taken_key_is_shown_beside_the_field(alice_client, in_acme):
    response = alice_client.post(PAGE + "purposes/new/", {"key": "tracking", "name": "Again",
                                                          "lawful_basis": "consent"})  # fmt: skip
    assert response.status_code == 400
    assert "another purpose has this key" in response.content.decode()


def test_editing_a_purpose(alice_client, in_acme):
    purpose = Purpose.objects.get(key="profiling")
    assert alice_client.get(f"{PAGE}purposes/{purpose.pk}/").status_code == 200
    response = alice_client.post(f"{PAGE}purposes/{purpose.pk}/", {"name": "Scoring", "lawful_basis": "consent"})
    assert response.status_code == 302
    purpose.refresh_from_db()
    assert (purpose.name, purpose.active) == ("Scoring", False)


def test_publishing_a_notice_and_a_refused_one(alice_client, in_acme):
    assert (
        alice_client.post(PAGE + "notices/publish/", {"title": "v1", "url": "https://acme.example/p"}).status_code
        == 302
    )
    refused = alice_client.post(PAGE + "notices/publish/", {"title": "v2", "url": "ftp://acme.example/p"})
    assert refused.status_code == 400
    assert list(PrivacyNotice.objects.values_list("version", flat=True)) == [1]


def test_a_marketer_neither_sees_nor_changes_them(mia_client, in_acme):
    assert mia_client.get(PAGE).status_code == 403
    assert mia_client.post(PAGE + "purposes/new/", {"key": "x", "name": "x"}).status_code == 403


def test_the_contact_page_shows_the_current_state_and_the_ledger(alice_client, ada):
    actions.consent_record(purpose="marketing_email", given=True, contact_id=ada.id, method="form",
                           source="form:3", principal=system())  # fmt: skip
    actions.consent_record(purpose="tracking", given=False, contact_id=ada.id, method="tracker", signal="gpc",
                           principal=system())  # fmt: skip
    body = alice_client.get(f"/w/acme/contacts/{ada.id}/").content.decode()
    assert 'id="consents"' in body
    assert "given" in body and "withdrawn" in body
    assert "Global Privacy Control" in body and "form:3" in body


def test_the_panel_is_not_shown_without_privacy_view(mia_client, ada):
    body = mia_client.get(f"/w/acme/contacts/{ada.id}/").content.decode()
    assert 'id="consents"' not in body
