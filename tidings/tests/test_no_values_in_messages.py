"""No personal value in messages or logs: a unique needle is fed through every error path we can reach.

Each path is scanned where the value could surface: the response, ContactImport.errors and
failure, the errors CSV, and every captured log record of every logger (messages, formatted
tracebacks, and the record's attributes), including django.request's exception logging.
"""

import csv
import io
import json
import logging

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError

from tidings.accounts.permissions import system_principal
from tidings.contacts import actions, imports, selectors
from tidings.contacts.fields import coerce
from tidings.contacts.models import ContactImport, FieldType, ImportStatus

NEEDLE = "needle.q7z@leak.invalid"
REGION = "region_eu"

# A value of each field type that fails its check and carries the needle.
BAD_VALUES = {
    FieldType.TEXT: NEEDLE * 10,
    FieldType.TEXTAREA: NEEDLE * 3000,
    FieldType.NUMBER: NEEDLE,
    FieldType.BOOLEAN: NEEDLE,
    FieldType.DATE: NEEDLE,
    FieldType.DATETIME: NEEDLE,
    FieldType.EMAIL: f"not {NEEDLE}",
    FieldType.TEL: NEEDLE,
    FieldType.URL: f"https://{NEEDLE} x",
    FieldType.SELECT: NEEDLE,
    FieldType.MULTISELECT: [NEEDLE],
    FieldType.COUNTRY: NEEDLE * 5,
    FieldType.REGION: NEEDLE * 10,
    FieldType.LOCALE: NEEDLE,
    FieldType.TIMEZONE: NEEDLE,
}


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_no_needle(*texts, logs=None):
    for text in texts:
        assert NEEDLE not in (text if isinstance(text, str) else json.dumps(text, default=str))
    if logs is not None:
        assert NEEDLE not in logs.text
        for record in logs.records:
            assert NEEDLE not in record.getMessage()
            assert NEEDLE not in str(record.exc_text or "")
            assert NEEDLE not in repr(record.__dict__)


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def bearer(acme, alice):
    from django.core.cache import cache

    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    cache.clear()  # rate limits
    _, secret = api_token_create(workspace=acme, user=alice, name="CRM sync", principal=principal_for_user(alice, acme))
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


# ---------------------------------------------------------------------------------------------- coerce


def test_every_field_type_has_a_failing_needle_value():
    assert set(BAD_VALUES) == set(FieldType.values)


@pytest.mark.parametrize("field_type", list(BAD_VALUES))
def test_a_rejected_value_is_named_by_field_and_problem_never_echoed(field_type):
    with pytest.raises(ValidationError) as caught:
        coerce(field_type, BAD_VALUES[field_type], options=["gold", "silver"], field="loyalty")

    messages = caught.value.messages
    assert all(message.startswith("loyalty ") for message in messages)
    assert_no_needle(str(caught.value), messages, repr(caught.value.__dict__))


def test_an_impossible_date_is_refused_without_echoing_it():
    with pytest.raises(ValidationError) as caught:
        coerce(FieldType.DATE, "2025-02-30", field="birthday")

    assert "2025-02-30" not in str(caught.value) and "birthday" in str(caught.value)


# ---------------------------------------------------------------------------------------------- actions


def test_a_contact_action_names_fields_not_values(in_acme, logs):
    with pytest.raises(ValidationError) as caught:
        actions.contact_create({"email": f"not {NEEDLE}", "points": NEEDLE, "website": f"{NEEDLE} x"},
                               principal=system_principal(in_acme, reason="test"))  # fmt: skip

    assert set(caught.value.message_dict) == {"email", "points", "website"}
    assert_no_needle(caught.value.message_dict, logs=logs)


# ---------------------------------------------------------------------------------------------- imports


def _rows(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def test_an_imports_row_errors_hold_no_values(alice_client, in_acme, settings, tmp_path, logs, immediate_tasks,
                                              django_capture_on_commit_callbacks):  # fmt: skip
    settings.VAR_DIR = tmp_path
    system = system_principal(in_acme, reason="test")
    content = _rows([["email", "points", "website", "timezone"],
                     [f"not {NEEDLE}", "1", "", ""], ["ok@people.example", NEEDLE, "", ""],
                     ["li@people.example", "", f"{NEEDLE} x", NEEDLE]])  # fmt: skip
    job = imports.import_create(SimpleUploadedFile("people.csv", content, "text/csv"), principal=system)
    with django_capture_on_commit_callbacks(using=REGION, execute=True):
        imports.import_configure(job.id, mapping=job.mapping, lawful_basis="consent", principal=system)

    job = selectors.import_get(job.id)
    download = alice_client.get(f"/w/acme/contacts/imports/{job.id}/errors.csv")
    page = alice_client.get(f"/w/acme/contacts/imports/{job.id}/")
    # The errors file quotes the original rows after the outcome columns (issue 8): those columns hold no values.
    outcomes = [row[:4] for row in csv.reader(io.StringIO(download.content.decode()))]
    assert job.error_count == 3 and download.status_code == 200
    assert_no_needle(job.errors, job.failure, outcomes, page.content.decode(), logs=logs)


def test_an_import_that_crashes_logs_and_records_no_values(in_acme, settings, tmp_path, logs, monkeypatch):
    settings.VAR_DIR = tmp_path
    system = system_principal(in_acme, reason="test")
    job = imports.import_create(SimpleUploadedFile("p.csv", _rows([["email"], [NEEDLE]]), "text/csv"), principal=system)
    imports.import_configure(job.id, mapping=["email"], lawful_basis="consent", principal=system)

    def crash(*args, **kwargs):
        raise IntegrityError(f"duplicate key value violates unique constraint: Key (email)=({NEEDLE}) exists")

    monkeypatch.setattr(imports, "contacts_bulk_upsert", crash)
    failed = imports.import_run(job.id, principal=system)

    assert failed.status == ImportStatus.FAILED and logs.records
    stored = ContactImport.objects.values("errors", "failure", "headers", "flagged").get(pk=job.id)
    assert_no_needle(stored, logs=logs)


# ---------------------------------------------------------------------------------------------- the APIs


def test_the_native_apis_validation_errors_hold_no_values(client, bearer, ada, logs):
    create = client.post("/api/v1/contacts", json.dumps({"fields": {"email": f"not {NEEDLE}", "points": NEEDLE}}),
                         "application/json", **bearer)  # fmt: skip
    wrong_shape = client.post("/api/v1/contacts", json.dumps({"fields": NEEDLE}), "application/json", **bearer)
    dnc = client.put(f"/api/v1/contacts/{ada.id}/dnc/email", json.dumps({"reason": NEEDLE, "comment": NEEDLE * 20}),
                     "application/json", **bearer)  # fmt: skip

    assert (create.status_code, wrong_shape.status_code, dnc.status_code) == (422, 422, 422)
    assert_no_needle(create.content.decode(), wrong_shape.content.decode(), dnc.content.decode(), logs=logs)


def test_the_mautic_apis_validation_errors_hold_no_values(client, bearer, ada, logs):
    create = client.post("/api/contacts/new", {"email": f"not {NEEDLE}", "points": NEEDLE, "website": f"{NEEDLE} x"},
                         **bearer)  # fmt: skip
    edit = client.patch(f"/api/contacts/{ada.id}/edit", json.dumps({"timezone": NEEDLE}), "application/json", **bearer)
    dnc = client.post(f"/api/contacts/{ada.id}/dnc/email/add", {"reason": NEEDLE, "comments": NEEDLE * 20}, **bearer)
    listing = client.get("/api/contacts", {"where[0][col]": "points", "where[0][expr]": "eq", "where[0][val]": NEEDLE},
                         **bearer)  # fmt: skip

    assert {create.status_code, edit.status_code, dnc.status_code, listing.status_code} <= {400, 422}
    assert_no_needle(*(r.content.decode() for r in (create, edit, dnc, listing)), logs=logs)


# ---------------------------------------------------------------------------------------------- a forced 500


@pytest.fixture
def exploding_contact_get(monkeypatch):
    def explode(contact_id):
        raise IntegrityError(f"duplicate key value violates unique constraint: Key (email)=({NEEDLE}) exists")

    monkeypatch.setattr(selectors, "contact_get", explode)


def test_a_500_in_a_page_logs_no_values(alice_client, ada, exploding_contact_get, logs):
    alice_client.raise_request_exception = False

    response = alice_client.get(f"/w/acme/contacts/{ada.id}/", {"q": NEEDLE})

    assert response.status_code == 500
    assert any(record.name == "django.request" for record in logs.records)
    assert_no_needle(response.content.decode(), logs=logs)


def test_a_500_in_the_native_api_logs_no_values(client, bearer, ada, exploding_contact_get, logs):
    response = client.get(f"/api/v1/contacts/{ada.id}", {"q": NEEDLE}, **bearer)

    assert response.status_code == 500 and logs.records
    assert_no_needle(response.content.decode(), logs=logs)


def test_a_500_in_the_mautic_api_logs_no_values(client, bearer, ada, exploding_contact_get, logs):
    response = client.get(f"/api/contacts/{ada.id}", {"q": NEEDLE}, **bearer)

    assert response.status_code == 500 and logs.records
    assert_no_needle(response.content.decode(), logs=logs)


def test_a_logged_exception_keeps_its_frames_and_type():
    logger = logging.getLogger("tidings.test")
    try:
        raise IntegrityError(NEEDLE)
    except IntegrityError:
        record = logger.makeRecord(
            "tidings.test", logging.ERROR, __file__, 1, "failed", (), __import__("sys").exc_info()
        )

    assert "IntegrityError" in record.exc_text and "test_no_values_in_messages.py" in record.exc_text
    assert NEEDLE not in record.exc_text and record.exc_info is None
