"""CSV import: format detection, mapping, the background run, errors, the guard, resuming, and 10k rows."""

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tidings.contacts import actions, csv_format, imports, selectors, selectors_fields
from tidings.contacts.models import ImportStatus
from tidings.tests.principals import system

CARD = "4111 1111 1111 1111"  # the well-known Visa test number: passes Luhn


def _csv(rows, delimiter=",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode()


def _upload(client, content: bytes, name="people.csv"):
    return client.post("/w/acme/contacts/import/", {"file": SimpleUploadedFile(name, content, "text/csv")})


def _start(client, job_id, django_capture_on_commit_callbacks, **data):
    job = selectors.import_get(job_id)
    form = {f"column_{i}": target for i, target in enumerate(job.mapping)}
    form.update({"lawful_basis": "consent", **data})
    with django_capture_on_commit_callbacks(using="region_eu", execute=True):
        response = client.post(f"/w/acme/contacts/imports/{job_id}/map/", form)
    return response


def _import(client, content, django_capture_on_commit_callbacks, **data):
    response = _upload(client, content)
    job_id = int(response["Location"].rstrip("/").split("/")[-2])
    _start(client, job_id, django_capture_on_commit_callbacks, **data)
    return selectors.import_get(job_id)


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


# ---------------------------------------------------------------------------------------------- reading files


def test_a_utf8_file_with_a_bom_is_read_as_utf8_sig(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("email,firstname\nzoe@people.example,Zoë\n".encode("utf-8-sig"))

    assert csv_format.detect_encoding(path) == "utf-8-sig"


def test_a_plain_utf8_file_is_read_as_utf8(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_bytes("firstname\nZoë\n".encode())

    assert csv_format.detect_encoding(path) == "utf-8"


def test_a_latin1_file_falls_back_to_a_single_byte_encoding(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("firstname\nZoë Müller\n".encode("latin-1"))

    encoding = csv_format.detect_encoding(path)
    assert path.read_bytes().decode(encoding) == "firstname\nZoë Müller\n"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed(delimiter):
    sample = _csv([["email", "firstname", "city"], ["zoe@people.example", "Zoe", "Ghent"]], delimiter).decode()

    assert csv_format.sniff_delimiter(sample) == delimiter


def test_headers_are_mapped_by_name_alias_and_label(in_acme):
    actions.field_create(alias="shoe_size", label="Shoe size", type="number", principal=system())
    fields = selectors_fields.field_definitions()

    mapping = csv_format.auto_map(["E-mail Address", "Given name", "Surname", "Shoe Size", "Tags", "Whatever"], fields)

    assert mapping == ["email", "firstname", "lastname", "shoe_size", "tags", ""]


# ---------------------------------------------------------------------------------------------- upload and mapping


def test_an_upload_is_stored_in_the_regions_storage_and_mapped(alice_client, in_acme, var_dir):
    response = _upload(alice_client, _csv([["Email", "First name"], ["zoe@people.example", "Zoe"]]))

    job = selectors.imports_recent()[0]
    assert response.status_code == 302 and response["Location"].endswith(f"/imports/{job.id}/map/")
    assert (var_dir / "uploads" / "eu" / "imports" / job.file_path).exists()
    assert (job.total_rows, job.mapping) == (1, ["email", "firstname"])


def test_the_mapping_page_previews_the_first_rows(alice_client, in_acme, var_dir):
    rows = [["email", "firstname"]] + [[f"p{i}@people.example", f"Person{i}"] for i in range(8)]
    job_id = _upload(alice_client, _csv(rows))["Location"].split("/")[-3]

    response = alice_client.get(f"/w/acme/contacts/imports/{job_id}/map/")

    content = response.content.decode()
    assert "p4@people.example" in content and "p5@people.example" not in content


def test_a_file_over_the_size_limit_is_refused(alice_client, in_acme, var_dir, settings):
    settings.TIDINGS_IMPORT_MAX_BYTES = 10

    response = _upload(alice_client, _csv([["email"], ["zoe@people.example"]]))

    assert response.status_code == 400 and "file" in response.context["form"].errors
    assert selectors.imports_recent() == []


def test_a_header_without_rows_is_refused_and_not_kept(alice_client, in_acme, var_dir):
    response = _upload(alice_client, b"email,firstname\n")

    assert response.status_code == 400
    assert not [p for p in (var_dir / "uploads" / "eu" / "imports").rglob("*") if p.is_file()]


def test_the_lawful_basis_is_required(alice_client, in_acme, var_dir, django_capture_on_commit_callbacks):
    job_id = int(_upload(alice_client, _csv([["email"], ["zoe@people.example"]]))["Location"].split("/")[-3])

    response = _start(alice_client, job_id, django_capture_on_commit_callbacks, lawful_basis="")

    assert response.status_code == 400 and "lawful_basis" in response.context["form"].errors
    assert selectors.import_get(job_id).status == ImportStatus.UPLOADED


# ---------------------------------------------------------------------------------------------- the run


def test_an_import_creates_contacts_with_basis_and_tags(
    alice_client, in_acme, var_dir, immediate_tasks, django_capture_on_commit_callbacks
):
    content = _csv(
        [["email", "firstname", "tags"], ["zoe@people.example", "Zoe", "fair"], ["li@people.example", "Li", ""]]
    )

    job = _import(alice_client, content, django_capture_on_commit_callbacks, tags="spring-list")

    zoe = selectors.contact_by_unique_identifier("email", "zoe@people.example")
    assert (job.status, job.created_count, job.rows_done) == (ImportStatus.COMPLETED, 2, 2)
    assert zoe.lawful_basis == "consent"
    assert set(zoe.tags) == {"fair", "spring-list"}


def test_an_import_updates_contacts_it_matches_by_email(
    alice_client, ada, var_dir, immediate_tasks, django_capture_on_commit_callbacks
):
    content = _csv([["email", "city"], ["ADA@analytical.example", "Paris"]])

    job = _import(alice_client, content, django_capture_on_commit_callbacks)

    assert (job.created_count, job.updated_count) == (0, 1)
    assert selectors.contact_get(ada.id).get("city") == "Paris"
    assert selectors.contacts_count() == 1


def test_the_uploaded_file_is_deleted_when_the_import_finishes(
    alice_client, in_acme, var_dir, immediate_tasks, django_capture_on_commit_callbacks
):
    job = _import(alice_client, _csv([["email"], ["zoe@people.example"]]), django_capture_on_commit_callbacks)

    assert job.status == ImportStatus.COMPLETED and job.file_path == ""
    assert not [p for p in (var_dir / "uploads" / "eu" / "imports").rglob("*") if p.is_file()]


def test_bad_rows_are_reported_and_downloadable(
    alice_client, in_acme, var_dir, immediate_tasks, django_capture_on_commit_callbacks
):
    content = _csv(
        [["email", "website"], ["zoe@people.example", ""], ["not-an-email", ""], ["li@people.example", "::"]]
    )

    job = _import(alice_client, content, django_capture_on_commit_callbacks)
    download = alice_client.get(f"/w/acme/contacts/imports/{job.id}/errors.csv")

    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert (job.created_count, job.error_count) == (1, 2)
    assert [(r["line"], r["field"]) for r in rows] == [("3", "email"), ("4", "website")]


def test_the_guard_warns_and_keeps_a_flagged_row_by_default(
    alice_client, in_acme, var_dir, immediate_tasks, django_capture_on_commit_callbacks
):
    content = _csv([["email", "position"], ["zoe@people.example", f"card {CARD}"], ["li@people.example", "Chef"]])

    job = _import(alice_client, content, django_capture_on_commit_callbacks)
    page = alice_client.get(f"/w/acme/contacts/imports/{job.id}/")

    assert (job.created_count, job.flagged_count) == (2, 1)
    assert job.flagged == [{"row": 2, "field": "position", "kind": "card_number", "rejected": False}]
    assert b"Flagged rows" in page.content and CARD.encode() not in page.content


def test_the_guard_rejects_flagged_rows_when_the_workspace_chose_so(
    alice_client, in_acme, var_dir, immediate_tasks, django_capture_on_commit_callbacks
):
    alice_client.post("/w/acme/contacts/imports/policy/", {"guard_policy": "reject"})
    content = _csv(
        [["email", "position"], ["zoe@people.example", "diagnosed with asthma"], ["li@people.example", "Chef"]]
    )

    job = _import(alice_client, content, django_capture_on_commit_callbacks)

    assert (job.guard_policy, job.created_count, job.error_count) == ("reject", 1, 1)
    assert selectors.contacts_count(search="email:zoe@people.example") == 0


def test_only_settings_managers_choose_the_policy(client, acme, make_user):
    from tidings.accounts.actions import membership_create

    maya = make_user("maya@acme.example")
    membership_create(workspace=acme, user=maya, role="marketer", principal=system(acme))
    client.force_login(maya)

    assert client.post("/w/acme/contacts/imports/policy/", {"guard_policy": "reject"}).status_code == 403


def test_a_crashed_import_resumes_without_duplicates(alice_client, in_acme, var_dir, monkeypatch):
    # A row written twice would count as an update or an in-file duplicate.
    rows = [["email", "lastname"]] + [[f"person{i}@people.example", f"Number{i}"] for i in range(25)]
    job_id = int(_upload(alice_client, _csv(rows))["Location"].split("/")[-3])
    imports.import_configure(job_id, mapping=["email", "lastname"], lawful_basis="contract", principal=system())
    real_upsert, calls = imports.contacts_bulk_upsert, []

    def crash_on_the_third_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk went away")
        return real_upsert(*args, **kwargs)

    monkeypatch.setattr(imports, "contacts_bulk_upsert", crash_on_the_third_batch)
    crashed = imports.import_run(job_id, batch_rows=10, principal=system())
    imports.import_resume(job_id, principal=system())
    resumed = imports.import_run(job_id, batch_rows=10, principal=system())

    assert (crashed.status, crashed.rows_done) == (ImportStatus.FAILED, 20)
    assert (resumed.status, resumed.rows_done, resumed.created_count) == (ImportStatus.COMPLETED, 25, 25)
    assert (resumed.updated_count, resumed.duplicate_count) == (0, 0)
    assert selectors.contacts_count() == 25


def test_the_progress_part_polls_while_the_import_runs(alice_client, in_acme, var_dir):
    job_id = int(_upload(alice_client, _csv([["email"], ["zoe@people.example"]]))["Location"].split("/")[-3])
    imports.import_configure(job_id, mapping=["email"], lawful_basis="consent", principal=system())

    response = alice_client.get(f"/w/acme/contacts/imports/{job_id}/", HTTP_HX_REQUEST="true")

    assert b'hx-trigger="every 2s"' in response.content and b"<progress" in response.content
    assert b"<html" not in response.content


def test_ten_thousand_rows(alice_client, in_acme, var_dir):
    rows = [["email", "firstname", "lastname", "city"]]
    rows += [[f"person{i}@people.example", "Person", f"Number{i}", "Ghent"] for i in range(10_000)]
    job_id = int(_upload(alice_client, _csv(rows))["Location"].split("/")[-3])
    imports.import_configure(
        job_id, mapping=["email", "firstname", "lastname", "city"], lawful_basis="consent", principal=system()
    )

    job = imports.import_run(job_id, principal=system())

    assert (job.status, job.created_count, job.error_count) == (ImportStatus.COMPLETED, 10_000, 0)
    assert selectors.contacts_count(search="email:person9999@people.example") == 1


def test_an_analyst_cannot_import(arun_client, in_acme):
    assert arun_client.get("/w/acme/contacts/import/").status_code == 403


def test_cancelling_deletes_the_file(alice_client, in_acme, var_dir, django_capture_on_commit_callbacks):
    job_id = int(_upload(alice_client, _csv([["email"], ["zoe@people.example"]]))["Location"].split("/")[-3])
    path = Path(var_dir / "uploads" / "eu" / "imports" / selectors.import_get(job_id).file_path)

    with django_capture_on_commit_callbacks(using="region_eu", execute=True):
        alice_client.post(f"/w/acme/contacts/imports/{job_id}/cancel/")

    assert selectors.import_get(job_id).status == ImportStatus.CANCELLED
    assert not path.exists()
