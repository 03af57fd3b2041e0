"""Uploads leave nothing behind: sealed at rest, owner-only, deleted when the import ends, swept, erased."""

import csv
import datetime
import io
import os
import stat

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tidings.accounts.permissions import system_principal
from tidings.contacts import actions, imports, selectors
from tidings.contacts.models import ContactImport, ImportStatus
from tidings.privacy import registry

REGION = "region_eu"


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def system(in_acme):
    return system_principal(in_acme, reason="test")


def _csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _upload(content: bytes, principal, name="people.csv"):
    return imports.import_create(SimpleUploadedFile(name, content, "text/csv"), principal=principal)


def _files(var_dir):
    return [p for p in (var_dir / "uploads").rglob("*") if p.is_file()]


def _sweep(django_capture_on_commit_callbacks):
    from tidings.contacts.tasks import sweep_expired_uploads

    with django_capture_on_commit_callbacks(using=REGION, execute=True):
        return sweep_expired_uploads.call()


def _age(job, **fields):
    day_ago = timezone.now() - datetime.timedelta(days=1, minutes=5)
    ContactImport.objects.filter(pk=job.id).update(**{name: day_ago for name in fields})


# ---------------------------------------------------------------------------------------------- at rest


def test_an_upload_is_stored_sealed_with_no_value_in_clear(var_dir, system):
    job = _upload(_csv([["email", "firstname"], ["zoe@people.example", "Zoe"]]), system)

    (stored,) = _files(var_dir)
    assert b"zoe@people.example" not in stored.read_bytes() and b"Zoe" not in stored.read_bytes()
    assert imports.preview(job) == [["zoe@people.example", "Zoe"]]


def test_an_upload_and_its_folders_are_owner_only(var_dir, system):
    previous = os.umask(0o022)
    try:
        _upload(_csv([["email"], ["zoe@people.example"]]), system)
    finally:
        os.umask(previous)

    (stored,) = _files(var_dir)
    folders = [var_dir / "uploads", *[p for p in (var_dir / "uploads").rglob("*") if p.is_dir()]]
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert {oct(stat.S_IMODE(folder.stat().st_mode)) for folder in folders} == {oct(0o700)}


def test_a_header_less_file_keeps_no_person_in_its_headers(var_dir, system, immediate_tasks,
                                                          django_capture_on_commit_callbacks):  # fmt: skip
    job = _upload(_csv([["zoe@people.example", "Zoe"], ["li@people.example", "Li"]]), system)

    assert (job.has_header, job.headers, job.total_rows) == (False, ["Column 1", "Column 2"], 2)
    with django_capture_on_commit_callbacks(using=REGION, execute=True):
        imports.import_configure(job.id, mapping=["email", "firstname"], lawful_basis="consent", principal=system)
    assert selectors.import_get(job.id).created_count == 2
    assert "zoe" not in str(ContactImport.objects.values_list("headers", flat=True).get(pk=job.id))


def test_a_header_row_of_words_is_kept_as_headers(var_dir, system):
    job = _upload(_csv([["Email", "First name"], ["zoe@people.example", "Zoe"]]), system)

    assert (job.has_header, job.headers, job.total_rows) == (True, ["Email", "First name"], 1)


# ---------------------------------------------------------------------------------------------- end of life


def test_a_failed_imports_file_is_kept_for_resuming(var_dir, system, monkeypatch):
    job = _upload(_csv([["email"], ["zoe@people.example"]]), system)
    imports.import_configure(job.id, mapping=["email"], lawful_basis="consent", principal=system)
    monkeypatch.setattr(imports, "contacts_bulk_upsert", lambda *a, **k: (_ for _ in ()).throw(OSError("disk")))

    failed = imports.import_run(job.id, principal=system)

    assert failed.status == ImportStatus.FAILED and failed.finished_at is not None
    assert len(_files(var_dir)) == 1


def test_the_sweep_deletes_a_failed_imports_file_after_a_day(var_dir, system, monkeypatch,
                                                            django_capture_on_commit_callbacks):  # fmt: skip
    job = _upload(_csv([["email"], ["zoe@people.example"]]), system)
    imports.import_configure(job.id, mapping=["email"], lawful_basis="consent", principal=system)
    monkeypatch.setattr(imports, "contacts_bulk_upsert", lambda *a, **k: (_ for _ in ()).throw(OSError("disk")))
    imports.import_run(job.id, principal=system)
    _age(job, finished_at=True)

    assert _sweep(django_capture_on_commit_callbacks) == 1
    swept = selectors.import_get(job.id)
    assert (swept.status, swept.file_path, _files(var_dir)) == (ImportStatus.FAILED, "", [])
    with pytest.raises(ValidationError, match="upload it again"):
        imports.import_resume(job.id, principal=system)


def test_the_sweep_deletes_an_upload_never_started_after_a_day(var_dir, system, django_capture_on_commit_callbacks):
    job = _upload(_csv([["email"], ["zoe@people.example"]]), system)
    _age(job, created_at=True)

    assert _sweep(django_capture_on_commit_callbacks) == 1
    assert selectors.import_get(job.id).status == ImportStatus.CANCELLED
    assert _files(var_dir) == []


def test_the_sweep_keeps_a_recent_upload(var_dir, system, django_capture_on_commit_callbacks):
    _upload(_csv([["email"], ["zoe@people.example"]]), system)

    assert _sweep(django_capture_on_commit_callbacks) == 0
    assert len(_files(var_dir)) == 1


def test_the_sweep_runs_outside_any_workspace(acme, var_dir, django_capture_on_commit_callbacks):
    from tidings.tenancy.context import use_workspace

    with use_workspace(acme):
        job = _upload(_csv([["email"], ["zoe@people.example"]]), system_principal(acme, reason="test"))
        _age(job, created_at=True)

    assert _sweep(django_capture_on_commit_callbacks) == 1
    assert _files(var_dir) == []


def test_the_sweep_deletes_a_stray_file_no_import_holds(var_dir, system, django_capture_on_commit_callbacks):
    _upload(_csv([["email"], ["zoe@people.example"]]), system)
    stray = var_dir / "uploads" / "eu" / "imports" / "999999" / "left-behind.sealed"
    stray.parent.mkdir()
    stray.write_bytes(b"sealed")
    day_ago = (timezone.now() - datetime.timedelta(days=2)).timestamp()
    os.utime(stray, (day_ago, day_ago))

    assert _sweep(django_capture_on_commit_callbacks) == 1
    assert not stray.exists() and len(_files(var_dir)) == 1


# ---------------------------------------------------------------------------------------------- erasure


def test_uploads_join_the_registry_as_a_store_that_is_not_a_table():
    assert "contacts.import_upload" in [store.label for store in registry.other_stores()]


def test_erasing_a_contact_deletes_the_workspaces_unfinished_uploads(var_dir, ada, system,
                                                                    django_capture_on_commit_callbacks):  # fmt: skip
    job = _upload(_csv([["email"], ["ada@analytical.example"]]), system)

    with django_capture_on_commit_callbacks(using=REGION, execute=True):
        touched = registry.erase_subject(ada.id, principal=system)

    assert touched["contacts.import_upload"] == 1
    assert selectors.import_get(job.id).status == ImportStatus.CANCELLED
    assert _files(var_dir) == []


def test_deleting_a_contact_deletes_the_workspaces_unfinished_uploads(var_dir, ada, system,
                                                                     django_capture_on_commit_callbacks):  # fmt: skip
    _upload(_csv([["email"], ["ada@analytical.example"]]), system)

    with django_capture_on_commit_callbacks(using=REGION, execute=True):
        actions.contact_delete(ada.id, principal=system)

    assert _files(var_dir) == []


def test_merging_contacts_leaves_uploads_alone(var_dir, ada, grace, system, django_capture_on_commit_callbacks):
    _upload(_csv([["email"], ["zoe@people.example"]]), system)

    with django_capture_on_commit_callbacks(using=REGION, execute=True):
        actions.contact_merge(ada.id, grace.id, principal=system)

    assert len(_files(var_dir)) == 1


def test_deleting_a_workspace_erases_its_uploads(var_dir, system):
    job = _upload(_csv([["email"], ["zoe@people.example"]]), system)

    erased = registry.erase_workspace_stores()
    assert erased["contacts.import_upload"] == 1  # other stores (asset files...) report their own counts
    assert not any(count for store, count in erased.items() if store != "contacts.import_upload")
    assert _files(var_dir) == [] and selectors.import_get(job.id).file_path == ""


# ---------------------------------------------------------------------------------------------- limits and encodings


def test_a_file_with_too_many_columns_is_refused_before_the_mapping_page(var_dir, system, settings):
    settings.TIDINGS_IMPORT_MAX_COLUMNS = 20

    with pytest.raises(ValidationError, match="21 columns; an import takes at most 20"):
        _upload(_csv([[f"c{i}" for i in range(21)], ["x"] * 21]), system)
    assert _files(var_dir) == []


def test_a_hundred_thousand_column_file_is_refused_at_upload_with_the_default_limit(var_dir, system):
    with pytest.raises(ValidationError, match="100000 columns; an import takes at most 500"):
        _upload(_csv([[f"c{i}" for i in range(100_000)], ["x"] * 100_000]), system)


def test_a_file_over_the_size_limit_names_the_limit(var_dir, system, settings):
    settings.TIDINGS_IMPORT_MAX_BYTES = 2 * 1024 * 1024

    with pytest.raises(ValidationError, match="larger than 2 MB"):
        _upload(b"email\n" + b"zoe@people.example\n" * 120_000, system)


def test_the_preview_reads_the_configured_rows_cut_to_the_headers_width(var_dir, system, settings):
    settings.TIDINGS_IMPORT_PREVIEW_ROWS = 2
    job = _upload(_csv([["email"], *[[f"p{i}@people.example", "extra"] for i in range(5)]]), system)

    assert imports.preview(job) == [["p0@people.example"], ["p1@people.example"]]


@pytest.mark.parametrize(
    ("encoding", "expected"), [("utf-8-sig", "utf-8-sig"), ("utf-16-le", "utf-16"), ("utf-16-be", "utf-16")]
)
def test_a_file_with_a_bom_is_decoded_by_it(var_dir, system, encoding, expected):
    bom = {"utf-8-sig": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding]
    job = _upload(bom + "email,firstname\nzoe@people.example,Zoë\n".encode(encoding), system)

    assert (job.encoding, job.headers, job.mapping) == (expected, ["email", "firstname"], ["email", "firstname"])
    assert imports.preview(job) == [["zoe@people.example", "Zoë"]]


def test_a_utf16_import_writes_its_contacts(var_dir, system, immediate_tasks, django_capture_on_commit_callbacks):
    job = _upload("email,firstname\nzoe@people.example,Zoë\n".encode("utf-16"), system)
    with django_capture_on_commit_callbacks(using=REGION, execute=True):
        imports.import_configure(job.id, mapping=job.mapping, lawful_basis="consent", principal=system)

    assert selectors.import_get(job.id).created_count == 1
    (contact,) = selectors.contacts_page(search="email:zoe@people.example").items
    assert contact.get("firstname") == "Zoë"
