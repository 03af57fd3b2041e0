"""Contact pages show an action's ValidationError that names no field on the form (400), never a 500.

Actions refuse with ValidationError("...") or ValidationError({NON_FIELD_ERRORS: [...]}) as well
as with messages keyed by field; the pages read all three through tidings.validation.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tidings.contacts import actions, imports, selectors
from tidings.tests.principals import system

MESSAGE = "This workspace cannot take that now."
REFUSALS = {
    "plain": ValidationError(MESSAGE),
    "non-field key": ValidationError({NON_FIELD_ERRORS: [MESSAGE]}),
}


def _refuse(error):
    def action(*args, **kwargs):
        raise error

    return action


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def _csv_file() -> SimpleUploadedFile:
    out = io.StringIO()
    csv.writer(out).writerows([["email", "firstname"], ["zoe@people.example", "Zoë"]])
    return SimpleUploadedFile("people.csv", out.getvalue().encode(), "text/csv")


@pytest.mark.parametrize("kind", REFUSALS)
def test_creating_a_field_refused_without_a_field_name(alice_client, in_acme, monkeypatch, kind):
    monkeypatch.setattr(actions, "field_create", _refuse(REFUSALS[kind]))
    response = alice_client.post(
        "/w/acme/settings/fields/?object=contact",
        {"object": "contact", "type": "text", "alias": "shoe_size", "label": "Shoe size"},
    )
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()


@pytest.mark.parametrize("kind", REFUSALS)
def test_deleting_a_field_refused_without_a_field_name(alice_client, in_acme, monkeypatch, kind):
    field = actions.field_create(alias="shoe_size", label="Shoe size", type="number", principal=system())
    monkeypatch.setattr(actions, "field_delete", _refuse(REFUSALS[kind]))
    response = alice_client.post(f"/w/acme/settings/fields/{field.id}/delete/", {"confirm": "shoe_size"})
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()


@pytest.mark.parametrize("kind", REFUSALS)
def test_an_upload_refused_without_a_field_name(alice_client, in_acme, var_dir, monkeypatch, kind):
    monkeypatch.setattr(imports, "import_create", _refuse(REFUSALS[kind]))
    response = alice_client.post("/w/acme/contacts/import/", {"file": _csv_file()})
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()


@pytest.mark.parametrize("kind", REFUSALS)
def test_a_mapping_refused_without_a_field_name(alice_client, in_acme, var_dir, monkeypatch, kind):
    uploaded = alice_client.post("/w/acme/contacts/import/", {"file": _csv_file()})
    job = selectors.import_get(int(uploaded["Location"].rstrip("/").split("/")[-2]))
    monkeypatch.setattr(imports, "import_configure", _refuse(REFUSALS[kind]))
    form = {f"column_{i}": target for i, target in enumerate(job.mapping)}
    response = alice_client.post(f"/w/acme/contacts/imports/{job.id}/map/", {**form, "lawful_basis": "consent"})
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
