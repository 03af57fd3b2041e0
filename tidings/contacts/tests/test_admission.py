"""An erased person is not brought back (decision 0030): imports, the UI and both APIs refuse the address; a form
submission is the person's own new consent and lifts the refusal; bounces and complaints refuse nothing."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.exceptions import ValidationError

from tidings.contacts import actions, admission, imports, selectors
from tidings.emails.actions.feedback import suppression_add
from tidings.emails.models import Suppression
from tidings.tests.principals import system

ERASED = "Zoe.Erased@People.example"


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def erased(in_acme):
    """Zoe asked to be erased: her address is on the suppression list, reason erased, and she is no contact."""
    return suppression_add("zoe.erased@people.example", reason="erased", principal=system())


def _import(rows: list[list[str]]):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = "\n".join(",".join(row) for row in rows).encode()
    job = imports.import_create(SimpleUploadedFile("people.csv", content, "text/csv"), principal=system())
    imports.import_configure(job.id, mapping=rows[0], lawful_basis="consent", principal=system())
    return imports.import_run(job.id, principal=system())


def test_an_import_skips_the_erased_address_and_reports_the_row_without_it(in_acme, var_dir, erased):
    job = _import([["email", "firstname"], ["li@people.example", "Li"], [ERASED, "Zoe"]])

    assert (job.created_count, job.error_count) == (1, 1)
    assert job.errors == [{"row": 3, "field": "email", "message": f"{admission.REFUSED_MESSAGE}: row skipped"}]
    assert "zoe" not in json.dumps(job.errors).lower()
    assert selectors.contacts_count() == 1


def test_a_bounced_or_complained_address_is_imported_and_stays_suppressed(in_acme, var_dir):
    suppression_add("bounced@people.example", reason="hard_bounce", principal=system())
    suppression_add("angry@people.example", reason="complaint", principal=system())

    job = _import([["email"], ["bounced@people.example"], ["angry@people.example"]])

    assert (job.created_count, job.error_count) == (2, 0)
    assert Suppression.objects.count() == 2


def test_a_member_cannot_create_the_erased_person_again(in_acme, erased):
    with pytest.raises(ValidationError) as refused:
        actions.contact_create({"email": ERASED}, principal=system())
    assert refused.value.message_dict == {"email": [admission.REFUSED_MESSAGE]}
    with pytest.raises(ValidationError):
        actions.contact_upsert({"email": ERASED, "firstname": "Zoe"}, principal=system())
    assert selectors.contacts_count() == 0


def test_a_member_cannot_give_another_contact_the_erased_address(in_acme, ada, erased):
    with pytest.raises(ValidationError) as refused:
        actions.contact_update(ada.id, {"email": ERASED}, principal=system())
    assert refused.value.message_dict == {"email": [admission.REFUSED_MESSAGE]}
    actions.contact_update(ada.id, {"city": "London"}, principal=system())  # other changes are not checked
    assert selectors.contact_get(ada.id).email == "ada@analytical.example"


def test_the_contact_form_in_the_ui_shows_the_refusal_on_the_email(alice_client, in_acme, erased):
    response = alice_client.post("/w/acme/contacts/new/", {"email": ERASED, "firstname": "Zoe"})
    assert response.status_code in (200, 400, 422)
    assert admission.REFUSED_MESSAGE in response.content.decode().replace("&#x27;", "'")
    assert selectors.contacts_count() == 0


def test_the_native_api_answers_422_on_the_email(client, acme, alice, in_acme, erased):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    _, secret = api_token_create(workspace=acme, user=alice, name="CRM sync", principal=principal_for_user(alice, acme))
    response = client.post("/api/v1/contacts", json.dumps({"fields": {"email": ERASED}}),
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")  # fmt: skip
    assert response.status_code == 422
    assert "email" in response.json()["error"]["details"]["fields"]
    assert "zoe" not in response.content.decode().lower()


def test_the_mautic_api_refuses_a_new_contact(client, acme, alice, in_acme, erased):
    from tidings.tests.principals import allow_password_basic

    allow_password_basic(acme)
    raw = base64.b64encode(b"alice@acme.example:correct horse battery staple").decode()
    response = client.post("/api/contacts/new", json.dumps({"email": ERASED}), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Basic {raw}")  # fmt: skip
    assert response.status_code >= 400 and response.status_code < 500
    assert "zoe" not in response.content.decode().lower()
    assert selectors.contacts_count() == 0


def test_a_form_submission_is_a_new_consent_that_lifts_the_refusal(in_acme, erased):
    from tidings.audit.models import AuditEntry
    from tidings.forms import actions as forms_actions
    from tidings.forms.tests.conftest import newsletter_fields, submit

    form = forms_actions.form_create(name="Newsletter", published=True, fields=newsletter_fields(),
                                     principal=system())  # fmt: skip
    submit(form, system(), email=ERASED, firstname="Zoe", newsletter_ok="1")

    assert selectors.contact_by_unique_identifier("email", ERASED).fields["firstname"] == "Zoe"
    assert not Suppression.objects.filter(reason="erased").exists()
    lifted = AuditEntry.objects.using("region_eu").get(action="email.suppression_removed")
    assert lifted.data["cause"] == "given_again_by_subject"
    assert admission.refused_emails([ERASED]) == set()
