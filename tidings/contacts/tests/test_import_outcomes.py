"""Import outcomes of issue 8: companies by name, in-file duplicates, rows without email, line numbers,
original rows in the errors file, the link to the imported contacts, and binary files refused."""

import csv
import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tidings.accounts.permissions import Principal, Via
from tidings.contacts import actions, import_uploads, imports, selectors
from tidings.contacts.models import Company, ContactCompany, ImportStatus
from tidings.tests.principals import system

# Savepoints (2 + 2), company field definitions, companies inserted, links read, links inserted, the
# contacts' company field read and updated, their changed time bumped (segments' refresh reads it), audit
# chain read and entry inserted: 13, whatever the rows (reading the known companies' names adds one when
# some are known).
QUERIES_TO_LINK = 13
CARD = "4111 1111 1111 1111"  # the well-known Visa test number: passes Luhn


def _csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _upload(client, content: bytes, name="people.csv"):
    return client.post("/w/acme/contacts/import/", {"file": SimpleUploadedFile(name, content, "text/csv")})


def _import(client, content, django_capture_on_commit_callbacks, **data):
    response = _upload(client, content)
    job_id = int(response["Location"].rstrip("/").split("/")[-2])
    job = selectors.import_get(job_id)
    form = {f"column_{i}": target for i, target in enumerate(job.mapping)}
    form.update({"lawful_basis": "consent", **data})
    with django_capture_on_commit_callbacks(using="region_eu", execute=True):
        client.post(f"/w/acme/contacts/imports/{job_id}/map/", form)
    return selectors.import_get(job_id)


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def _errors(client, job) -> list[dict]:
    download = client.get(f"/w/acme/contacts/imports/{job.id}/errors.csv")
    return list(csv.DictReader(io.StringIO(download.content.decode())))


# ---------------------------------------------------------------------------------------------- companies


def test_the_company_column_creates_missing_companies_once(
    alice_client, in_acme, var_dir, immediate_tasks, django_capture_on_commit_callbacks
):
    content = _csv(
        [["email", "company"], ["zoe@people.example", "Lumen Studios"], ["li@people.example", "lumen  studios"]]
    )

    job = _import(alice_client, content, django_capture_on_commit_callbacks)

    assert list(Company.objects.values_list("name", flat=True)) == ["Lumen Studios"]
    assert (job.companies_created, job.companies_linked) == (1, 2)
    assert ContactCompany.objects.filter(is_primary=True).count() == 2


def test_the_company_column_links_an_existing_company_whatever_its_case(
    alice_client, in_acme, var_dir, immediate_tasks, django_capture_on_commit_callbacks
):
    lumen = actions.company_create({"companyname": "Lumen Studios"}, principal=system())

    job = _import(alice_client, _csv([["email", "company"], ["zoe@people.example", " LUMEN studios "]]),
                  django_capture_on_commit_callbacks)  # fmt: skip

    zoe = selectors.contact_by_unique_identifier("email", "zoe@people.example")
    assert job.companies_created == 0 and Company.objects.count() == 1
    assert [link.company.id for link in selectors.contact_companies(zoe.id)] == [lumen.id]
    assert zoe.get("company") == "Lumen Studios"


def test_a_contact_with_a_primary_company_keeps_it(alice_client, ada, var_dir, immediate_tasks,
                                                   django_capture_on_commit_callbacks):  # fmt: skip
    globe = actions.company_create({"companyname": "Analytical Engines"}, principal=system())
    actions.company_link(ada.id, globe.id, principal=system())

    _import(alice_client, _csv([["email", "company"], ["ada@analytical.example", "Lumen Studios"]]),
            django_capture_on_commit_callbacks)  # fmt: skip

    primary = ContactCompany.objects.get(contact_id=ada.id, is_primary=True)
    assert primary.company_id == globe.id and ContactCompany.objects.filter(contact_id=ada.id).count() == 2


@pytest.mark.parametrize("people", [2, 12])
def test_companies_are_linked_in_as_many_queries_for_2_or_12_contacts(in_acme, people, django_assert_num_queries):
    contacts = [actions.contact_create({"email": f"p{i}@people.example"}, principal=system()) for i in range(people)]
    actions.company_create({"companyname": "Warm Up"}, principal=system())  # field definitions cached
    links = [(contact.id, f"Company {i}") for i, contact in enumerate(contacts)]

    with django_assert_num_queries(QUERIES_TO_LINK, using="region_eu"):
        result = actions.companies_link_by_name(links, known={}, principal=system())

    assert (result.created, result.linked) == (people, people)


def test_a_company_deleted_since_it_was_known_is_created_again(in_acme, ada):
    gone = actions.company_create({"companyname": "Lumen Studios"}, principal=system())
    known = {"lumen studios": gone.id}
    actions.company_delete(gone.id, principal=system())

    result = actions.companies_link_by_name([(ada.id, "Lumen Studios")], known=known, principal=system())

    assert (result.created, result.linked) == (1, 1) and known["lumen studios"] != gone.id


def test_linking_companies_needs_contacts_edit(in_acme, alice, ada):
    viewer = Principal(workspace=in_acme, user=alice, permissions=frozenset({"contacts:view"}), via=Via.TOKEN,
                       credential_id=1)  # fmt: skip

    with pytest.raises(PermissionDenied):
        actions.companies_link_by_name([(ada.id, "Lumen Studios")], principal=viewer)

    assert Company.objects.count() == 0


# ---------------------------------------------------------------------------------------------- duplicates, no email


def test_a_row_repeating_an_earlier_email_is_a_duplicate_not_an_update(
    alice_client, in_acme, var_dir, immediate_tasks, django_capture_on_commit_callbacks
):
    content = _csv(
        [["email", "city"], ["zoe@people.example", "Ghent"], ["li@people.example", ""], ["ZOE@people.example", "Lyon"]]
    )

    job = _import(alice_client, content, django_capture_on_commit_callbacks)

    assert (job.created_count, job.updated_count, job.duplicate_count, job.error_count) == (2, 0, 1, 0)
    assert {"row": 4, "field": "email", "merged_into": 2, "message": "duplicate in file, merged into line 2"} in (
        job.errors
    )


def test_a_duplicate_across_batches_names_the_first_line(
    alice_client, in_acme, var_dir, settings, django_capture_on_commit_callbacks
):
    content = _csv([["email"], ["zoe@people.example"], ["li@people.example"], ["zoe@people.example"]])
    response = _upload(alice_client, content)
    job_id = int(response["Location"].rstrip("/").split("/")[-2])
    imports.import_configure(job_id, mapping=["email"], lawful_basis="consent", principal=system())

    job = imports.import_run(job_id, batch_rows=1, principal=system())

    assert (job.created_count, job.updated_count, job.duplicate_count) == (2, 0, 1)
    assert job.errors[0]["message"] == "duplicate in file, merged into line 2"


def test_rows_without_an_email_are_skipped_and_counted(
    alice_client, in_acme, var_dir, immediate_tasks, django_capture_on_commit_callbacks
):
    content = _csv([["email", "firstname"], ["", "Nameless"], ["zoe@people.example", "Zoe"]])

    job = _import(alice_client, content, django_capture_on_commit_callbacks)

    assert (job.created_count, job.error_count, job.no_email_count) == (1, 1, 1)
    assert job.errors == [{"row": 2, "field": "email", "message": "no email address: row skipped"}]
    assert selectors.contacts_count() == 1


def test_an_import_without_an_email_column_is_refused(
    alice_client, in_acme, var_dir, django_capture_on_commit_callbacks
):
    response = _upload(alice_client, _csv([["firstname"], ["Zoe"]]))
    job_id = int(response["Location"].rstrip("/").split("/")[-2])

    response = alice_client.post(f"/w/acme/contacts/imports/{job_id}/map/",
                                 {"column_0": "firstname", "lawful_basis": "consent"})  # fmt: skip

    assert response.status_code == 400 and "Email" in response.content.decode()
    assert selectors.import_get(job_id).status == ImportStatus.UPLOADED


# ---------------------------------------------------------------------------------------------- the errors file


def test_error_lines_are_the_spreadsheets_lines_blank_lines_included(
    alice_client, in_acme, var_dir, immediate_tasks, django_capture_on_commit_callbacks
):
    content = b"email,website\nzoe@people.example,\n\nnot-an-email,\n"

    job = _import(alice_client, content, django_capture_on_commit_callbacks)

    assert [e["row"] for e in job.errors] == [4]


def test_the_errors_file_quotes_the_original_rows_while_the_file_is_kept(
    alice_client, in_acme, var_dir, immediate_tasks, django_capture_on_commit_callbacks
):
    content = _csv([["email", "firstname"], ["zoe@people.example", "Zoe"], ["not-an-email", "Li"]])

    job = _import(alice_client, content, django_capture_on_commit_callbacks)
    rows = _errors(alice_client, job)

    assert job.file_path  # completed with an error: kept a day
    assert rows == [{"line": "3", "column": "email", "field": "email", "problem": rows[0]["problem"],
                     "email": "not-an-email", "firstname": "Li"}]  # fmt: skip


def test_downloading_the_errors_file_is_audited_without_values(
    alice_client, in_acme, var_dir, immediate_tasks, django_capture_on_commit_callbacks
):
    from tidings.audit.models import AuditEntry

    job = _import(alice_client, _csv([["email"], ["not-an-email"]]), django_capture_on_commit_callbacks)

    _errors(alice_client, job)

    entries = AuditEntry.objects.using("region_eu").filter(workspace_id=in_acme.id)
    entry = entries.get(action="contact_import.errors_downloaded")
    assert (entry.target_id, entry.data) == (str(job.id), {"issues": 1, "original_rows": True})


def test_the_errors_file_masks_what_the_guard_flagged(
    alice_client, in_acme, var_dir, immediate_tasks, django_capture_on_commit_callbacks
):
    content = _csv([["email", "position"], ["zoe@people.example", f"card {CARD}"], ["bad", "Chef"]])

    job = _import(alice_client, content, django_capture_on_commit_callbacks)
    download = alice_client.get(f"/w/acme/contacts/imports/{job.id}/errors.csv").content.decode()

    assert CARD not in download and "[removed: " in download


def test_the_errors_file_has_lines_only_once_the_file_is_deleted(
    alice_client, in_acme, var_dir, immediate_tasks, django_capture_on_commit_callbacks
):
    job = _import(alice_client, _csv([["email"], ["not-an-email"]]), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(using="region_eu", execute=True):
        import_uploads.import_expire_upload(
            job.id, before=timezone.now() + datetime.timedelta(days=2), principal=system()
        )

    rows = _errors(alice_client, job)

    assert selectors.import_get(job.id).file_path == ""
    assert list(rows[0]) == ["line", "column", "field", "problem"] and "not-an-email" not in str(rows)


def test_a_completed_import_with_errors_is_swept_after_a_day(
    alice_client, in_acme, var_dir, immediate_tasks, django_capture_on_commit_callbacks
):
    job = _import(alice_client, _csv([["email"], ["not-an-email"]]), django_capture_on_commit_callbacks)

    # The sweep passes "now minus a day": the file is kept while the import ended after that.
    assert (job.workspace_id, job.id) not in import_uploads.expired_uploads(
        job.finished_at - import_uploads.UPLOAD_RETENTION
    )
    assert (job.workspace_id, job.id) in import_uploads.expired_uploads(job.finished_at + datetime.timedelta(minutes=1))


# ---------------------------------------------------------------------------------------------- link, binary


def test_the_finished_import_links_to_its_contacts(
    alice_client, ada, var_dir, immediate_tasks, django_capture_on_commit_callbacks
):
    content = _csv([["email"], ["zoe@people.example"], ["ada@analytical.example"]])
    job = _import(alice_client, content, django_capture_on_commit_callbacks)

    page = alice_client.get(f"/w/acme/contacts/imports/{job.id}/").content.decode()
    found = selectors.contacts_page(search=f"import:{job.id}", order="id")

    assert f"?q=import:{job.id}" in page
    assert sorted(c.email for c in found.items) == ["ada@analytical.example", "zoe@people.example"]


def test_an_unknown_import_finds_no_contacts(in_acme, ada):
    assert selectors.contacts_page(search="import:999999", order="id").items == []


@pytest.mark.parametrize(
    "content",
    [b"PK\x03\x04\x14\x00\x06\x00 workbook", b"email\x00name\x00\n", b"%PDF-1.7\n%binary"],
    ids=["xlsx", "nul-bytes", "pdf"],
)
def test_a_binary_file_is_refused_at_upload(alice_client, in_acme, var_dir, content):
    response = _upload(alice_client, content)

    assert response.status_code == 400 and "CSV" in str(response.context["form"].errors["file"])
    assert not [p for p in (var_dir / "uploads").rglob("*") if p.is_file()]


def test_a_utf16_file_is_not_taken_for_binary(alice_client, in_acme, var_dir):
    response = _upload(alice_client, "email\nzoe@people.example\n".encode("utf-16"))

    assert response.status_code == 302
