"""Privacy requests of the preference centre in the erasure and export registry: erasure keeps nothing personal."""

from __future__ import annotations

from tidings.pages import actions, selectors
from tidings.pages.models import PrivacyRequest
from tidings.privacy.registry import erase_subject, export_subject, unregistered_models


def _request(in_acme, contact_id, kind):
    link = selectors.preference_principal(in_acme, contact_id)
    return actions.privacy_request_record(contact_id, kind, principal=link)


def test_pages_models_declare_their_personal_data():
    assert not [label for label in unregistered_models() if label.startswith("pages.")]


def test_an_access_export_holds_the_contacts_requests(in_acme, ada):
    _request(in_acme, ada.id, "access")
    (row,) = export_subject(ada.id)["pages.privacyrequest"]
    assert row["kind"] == "access" and row["status"] == "received"


def test_erasure_keeps_the_request_as_anonymised_proof(in_acme, ada, grace):
    erasure = _request(in_acme, ada.id, "erasure")
    graces = _request(in_acme, grace.id, "access")
    erase_subject(ada.id, reason="art17")
    kept = PrivacyRequest.objects.get(pk=erasure.pk)
    assert kept.contact_id is None and (kept.kind, kept.status) == ("erasure", "received")
    assert PrivacyRequest.objects.get(pk=graces.pk).contact_id == grace.id
    assert "pages.privacyrequest" not in export_subject(ada.id)
