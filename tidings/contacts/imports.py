"""The CSV import pipeline: upload, detect the format, map columns, run in the background, resume.

1. import_create stores the upload in the region's storage (var/uploads/<region>/imports/), never
   in the global database, detects its encoding (UTF-8 with or without BOM, else Windows-1252,
   else Latin-1) and delimiter, and counts its rows.
2. import_configure records the column mapping, the tags, and the lawful basis the list was
   collected under (required: it is stored on every contact written), then queues the task.
3. import_run (called by tidings.contacts.tasks.run_contact_import) reads the file in batches,
   runs the sensitive-data guard on each row under the workspace's policy (warn keeps the row
   and lists it; reject skips it), and calls contacts_bulk_upsert. Each batch and the checkpoint
   (rows_done) commit in one transaction, so a crashed run resumes after the last committed batch
   without writing a row twice. The uploaded file is deleted when the import completes or is
   cancelled.
4. A worker killed mid-run leaves its import "running": heartbeat_at (set when queued, started,
   and with each batch) goes stale, and the periodic job tasks.recover_stalled_imports re-queues
   it (import_recover_stalled), or marks it failed after MAX_RECOVERIES stalls.

Every write here is atomic and audited with ids and counts only. Each import_* action takes the
principal that acts and needs contacts:import in the workspace in context; the tasks run and
recover imports as the system principal (recorded as "system").
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import itertools
import logging
import re
import uuid
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tidings.accounts.permissions import Principal, require
from tidings.audit.actions import audit_record
from tidings.contacts.actions import contacts_bulk_upsert, load_fields
from tidings.contacts.models import ContactImport, FieldObject, ImportStatus
from tidings.contacts.selectors import contact_settings
from tidings.privacy.guard import FindingKind, GuardPolicy, scan_values
from tidings.privacy.models import LawfulBasis
from tidings.tenancy.context import require_workspace

logger = logging.getLogger(__name__)

MAX_RECOVERIES = 3  # re-queues of a stalled import before it is marked failed
STALL_AFTER = datetime.timedelta(minutes=15)  # a batch of 1,000 rows takes seconds; this is a dead worker
DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # a million typical rows is about 100 MB
BATCH_ROWS = 1000
PREVIEW_ROWS = 5
MAX_STORED_ISSUES = 10_000  # error_count and flagged_count keep counting past this
TAGS_TARGET = "tags"
DELIMITERS = ",;\t|"

# Header spellings that mean a core field, compared after dropping case, spaces and punctuation.
HEADER_ALIASES = {
    "email": ("emailaddress", "mail", "email", "emails", "courriel"),
    "firstname": ("first", "givenname", "forename", "firstname", "prenom"),
    "lastname": ("last", "surname", "familyname", "lastname", "nom"),
    "phone": ("telephone", "phonenumber", "tel", "workphone", "businessphone"),
    "mobile": ("mobilephone", "cell", "cellphone", "mobilenumber"),
    "company": ("companyname", "organisation", "organization", "employer", "account"),
    "position": ("jobtitle", "title", "role"),
    "address1": ("address", "street", "streetaddress", "addressline1"),
    "address2": ("addressline2",),
    "zipcode": ("zip", "postcode", "postalcode", "zipcode"),
    "state": ("region", "province", "county"),
    "country": ("countrycode", "nation"),
    "website": ("url", "web", "homepage", "site"),
    "preferred_locale": ("locale", "language", "lang"),
    TAGS_TARGET: ("tags", "tag", "labels", "label"),
}


def max_upload_bytes() -> int:
    return int(getattr(settings, "TIDINGS_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def import_storage(region: str) -> FileSystemStorage:
    """Return the storage of region's uploaded import files (under var/, one folder per region)."""
    return FileSystemStorage(location=Path(settings.VAR_DIR) / "uploads" / region / "imports")


# ==============================================================================================
# Reading CSV files


def detect_encoding(path: str | Path) -> str:
    """Return the encoding of the file at path: utf-8-sig (BOM), utf-8, cp1252 or latin-1.

    UTF-8 is checked over the whole file with an incremental decoder, so a stray byte on the
    last line is not missed. Latin-1 decodes any byte string and is the last resort.
    """
    with open(path, "rb") as handle:
        head = handle.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        for encoding in ("utf-8", "cp1252"):
            handle.seek(0)
            decoder = codecs.getincrementaldecoder(encoding)()
            try:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            return encoding
    return "latin-1"


def sniff_delimiter(sample: str) -> str:
    """Return the delimiter of a CSV sample (comma, semicolon, tab or pipe); comma when unsure."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def open_rows(job: ContactImport):
    """Return (file handle, csv reader) over the stored upload of job, header included."""
    path = import_storage(require_workspace().region).path(job.file_path)
    handle = open(path, encoding=job.encoding, newline="")  # noqa: SIM115 (the caller closes it)
    return handle, csv.reader(handle, delimiter=job.delimiter)


def preview(job: ContactImport, rows: int = PREVIEW_ROWS) -> list[list[str]]:
    """Return the first rows of job's file after the header, for the mapping page."""
    handle, reader = open_rows(job)
    with handle:
        next(reader, None)
        return [row for row in itertools.islice(reader, rows)]


def _normalise_header(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.casefold())


def auto_map(headers: Sequence[str], fields) -> list[str]:
    """Return a target alias (or "") per header, matched on alias, label and common spellings.

    Each target is used once: the first header that names it wins.
    """
    lookup: dict[str, str] = {}
    for alias, spellings in HEADER_ALIASES.items():
        for spelling in spellings:
            lookup.setdefault(spelling, alias)
    for definition in fields:
        lookup[_normalise_header(definition.label)] = definition.alias
        lookup[_normalise_header(definition.alias)] = definition.alias
    mapping, used = [], set()
    for header in headers:
        target = lookup.get(_normalise_header(header), "")
        if target in used:
            target = ""
        used.add(target)
        mapping.append(target)
    return mapping


def mapping_targets() -> list[tuple[str, str]]:
    """Return (alias, label) of every field an import may write, plus the tags column."""
    from tidings.contacts.selectors import field_definitions

    system = {"last_active", "date_identified"}
    targets = [(f.alias, f.label) for f in field_definitions(FieldObject.CONTACT) if f.alias not in system]
    return [*targets, (TAGS_TARGET, "Tags (separated by | or ,)")]


# ==============================================================================================
# Actions


def import_create(upload, *, principal, request=None) -> ContactImport:
    """Store an uploaded CSV file, detect its format, count its rows; return the import awaiting mapping.

    Raise ValidationError (key "file") when the file is larger than the limit, empty, has no
    header row, or has duplicate or blank-only headers.
    """
    require(principal, "contacts:import", workspace_id=require_workspace().id)
    if upload.size > max_upload_bytes():
        raise ValidationError({"file": f"the file is larger than {max_upload_bytes() // (1024 * 1024)} MB"})
    if upload.size == 0:
        raise ValidationError({"file": "the file is empty"})
    workspace = require_workspace()
    storage = import_storage(workspace.region)
    name = storage.save(f"{workspace.id}/{uuid.uuid4().hex}.csv", upload)
    try:
        path = storage.path(name)
        encoding = detect_encoding(path)
        with open(path, encoding=encoding, newline="") as handle:
            delimiter = sniff_delimiter(handle.read(64 * 1024))
            handle.seek(0)
            reader = csv.reader(handle, delimiter=delimiter)
            headers = [h.strip() for h in next(reader, [])]
            total = sum(1 for row in reader if any(cell.strip() for cell in row))
        if not any(headers):
            raise ValidationError({"file": "the first row must name the columns"})
        if total == 0:
            raise ValidationError({"file": "the file has a header but no rows"})
    except (ValidationError, csv.Error) as error:
        storage.delete(name)
        if isinstance(error, csv.Error):
            raise ValidationError({"file": "this does not read as a CSV file"}) from error
        raise
    with transaction.atomic(using=workspace.db_alias):
        job = ContactImport.objects.create(
            workspace_id=workspace.id,
            file_path=name,
            original_filename=Path(upload.name or "upload.csv").name[:255],
            size=upload.size,
            encoding=encoding,
            delimiter=delimiter,
            headers=headers,
            mapping=auto_map(headers, load_fields(FieldObject.CONTACT).values()),
            total_rows=total,
            created_by=getattr(principal, "actor_id", None),
        )
        audit_record("contact_import.uploaded", principal=principal, request=request, target_type="contact_import",
                     target_id=job.id, data={"rows": total, "bytes": upload.size})  # fmt: skip
    return job


def import_configure(
    import_id: int,
    *,
    mapping: Sequence[str],
    lawful_basis: str,
    tags: Sequence[str] = (),
    overwrite_with_blank: bool = False,
    principal,
    request=None,
) -> ContactImport:
    """Set an uploaded import's mapping, lawful basis and tags, and queue it; return it.

    Raise ContactImport.DoesNotExist for an id not in this workspace, ValidationError when the
    import is not waiting for a mapping, the lawful basis is missing or unknown, the mapping has
    the wrong length, names an unknown or archived field, maps one field twice, or maps nothing.
    """
    require(principal, "contacts:import", workspace_id=require_workspace().id)
    job = ContactImport.objects.get(pk=import_id)
    if job.status != ImportStatus.UPLOADED:
        raise ValidationError("this import has already been started")
    errors: dict[str, str] = {}
    if lawful_basis not in LawfulBasis.values:
        errors["lawful_basis"] = "choose the lawful basis under which this list was collected"
    targets = [m or "" for m in mapping]
    allowed = {alias for alias, _ in mapping_targets()}
    chosen = [t for t in targets if t]
    if len(targets) != len(job.headers):
        errors["mapping"] = "map each column of the file"
    elif not chosen:
        errors["mapping"] = "map at least one column to a field"
    elif set(chosen) - allowed:
        errors["mapping"] = f"unknown fields: {', '.join(sorted(set(chosen) - allowed))}"
    elif len(chosen) != len(set(chosen)):
        errors["mapping"] = "each field can take one column only"
    if errors:
        raise ValidationError(errors)
    workspace = require_workspace()
    job.mapping = targets
    job.lawful_basis = lawful_basis
    job.tags = [t.strip()[:100] for t in tags if t.strip()]
    job.overwrite_with_blank = overwrite_with_blank
    job.guard_policy = contact_settings().guard_policy
    job.status = ImportStatus.QUEUED
    job.heartbeat_at = timezone.now()
    with transaction.atomic(using=workspace.db_alias):
        job.save()
        audit_record("contact_import.queued", principal=principal, request=request, target_type="contact_import",
                     target_id=job.id, data={"fields": sorted(chosen), "lawful_basis": lawful_basis,
                                             "guard_policy": job.guard_policy})  # fmt: skip
        _enqueue_on_commit(job)
    return job


def import_resume(import_id: int, *, principal, request=None) -> ContactImport:
    """Queue a failed import again; it continues after its last committed batch.

    Raise ContactImport.DoesNotExist, or ValidationError when the import has not failed.
    """
    require(principal, "contacts:import", workspace_id=require_workspace().id)
    job = ContactImport.objects.get(pk=import_id)
    if job.status != ImportStatus.FAILED:
        raise ValidationError("only a failed import can be resumed")
    with transaction.atomic(using=require_workspace().db_alias):
        job.status = ImportStatus.QUEUED
        job.failure = ""
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "failure", "heartbeat_at"])
        audit_record("contact_import.resumed", principal=principal, request=request, target_type="contact_import",
                     target_id=job.id, data={"rows_done": job.rows_done})  # fmt: skip
        _enqueue_on_commit(job)
    return job


def import_cancel(import_id: int, *, principal, request=None) -> ContactImport:
    """Cancel an import that has not finished and delete its file; rows already written stay.

    Raise ContactImport.DoesNotExist, or ValidationError when it has completed or was cancelled.
    """
    require(principal, "contacts:import", workspace_id=require_workspace().id)
    job = ContactImport.objects.get(pk=import_id)
    if job.status in (ImportStatus.COMPLETED, ImportStatus.CANCELLED):
        raise ValidationError("this import has finished")
    with transaction.atomic(using=require_workspace().db_alias):
        job.status = ImportStatus.CANCELLED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
        audit_record("contact_import.cancelled", principal=principal, request=request, target_type="contact_import",
                     target_id=job.id, data={"rows_done": job.rows_done})  # fmt: skip
        transaction.on_commit(lambda: _delete_file(job), using=require_workspace().db_alias)
    return job


def _enqueue_on_commit(job: ContactImport) -> None:
    from tidings.contacts.tasks import run_contact_import

    workspace_id, import_id = job.workspace_id, job.id
    transaction.on_commit(
        lambda: run_contact_import.enqueue(workspace_id=workspace_id, import_id=import_id),
        using=require_workspace().db_alias,
    )


def _delete_file(job: ContactImport) -> None:
    if job.file_path:
        import_storage(require_workspace().region).delete(job.file_path)


def import_run(import_id: int, *, batch_rows: int = BATCH_ROWS, principal) -> ContactImport:
    """Run (or resume) a queued import to the end; return it.

    Rows before the checkpoint (rows_done) are skipped; each batch commits with the checkpoint.
    An unexpected error marks the import failed (resumable) and is logged; a completed or
    cancelled import is left alone. Raise ContactImport.DoesNotExist for an id not in this workspace.
    """
    require(principal, "contacts:import", workspace_id=require_workspace().id)
    workspace = require_workspace()
    job = ContactImport.objects.get(pk=import_id)
    if job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return job
    job.status = ImportStatus.RUNNING
    job.started_at = job.started_at or timezone.now()
    job.heartbeat_at = timezone.now()
    job.save(update_fields=["status", "started_at", "heartbeat_at"])
    try:
        handle, reader = open_rows(job)
        with handle:
            next(reader, None)
            rows = (row for row in reader if any(cell.strip() for cell in row))
            number = job.rows_done
            for chunk in _chunks(itertools.islice(rows, job.rows_done, None), batch_rows):
                batch = []
                for raw in chunk:
                    number += 1
                    batch.append((number, raw))
                _commit_batch(job, batch, principal)
                job.refresh_from_db(fields=["status"])
                if job.status == ImportStatus.CANCELLED:
                    return job
    except _Superseded:
        logger.warning("contact import %s: another run took over at row %s", job.id, job.rows_done)
        job.refresh_from_db()
        return job
    except Exception as error:  # noqa: BLE001 (any failure must leave a resumable import behind)
        logger.exception("contact import %s failed at row %s", job.id, job.rows_done)
        ContactImport.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, failure=f"{type(error).__name__} after row {job.rows_done}"
        )
        job.refresh_from_db()
        return job
    with transaction.atomic(using=workspace.db_alias):
        job.status = ImportStatus.COMPLETED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
        audit_record("contact_import.completed", principal=principal, target_type="contact_import", target_id=job.id,
                     data={"created": job.created_count, "updated": job.updated_count, "errors": job.error_count,
                           "flagged": job.flagged_count})  # fmt: skip
        transaction.on_commit(lambda: _delete_file(job), using=workspace.db_alias)
    return job


class _Superseded(Exception):
    """Another run of the same import advanced its checkpoint (or it was cancelled); this run stops."""


def import_recover_stalled(import_id: int, *, stale_before: datetime.datetime, principal) -> ContactImport:
    """Re-queue an active import whose heartbeat is older than stale_before, or fail it; return it.

    A worker killed mid-run leaves its import "running" with no one running it. It is queued
    again (it resumes after its last committed batch) up to MAX_RECOVERIES times, then marked
    failed so that a person looks at it (import_resume queues it again). An import that is not
    queued or running, or that showed life since stale_before, is left alone (the sweep and
    the worker may race). Raise ContactImport.DoesNotExist for an id not in this workspace.
    """
    require(principal, "contacts:import", workspace_id=require_workspace().id)
    db_alias = require_workspace().db_alias
    with transaction.atomic(using=db_alias):
        job = ContactImport.objects.select_for_update().get(pk=import_id)
        if not job.is_active or (job.heartbeat_at or job.created_at) >= stale_before:
            return job
        if job.recoveries >= MAX_RECOVERIES:
            job.status = ImportStatus.FAILED
            job.failure = f"stalled after row {job.rows_done}: the worker stopped reporting progress"
            job.save(update_fields=["status", "failure"])
            audit_record("contact_import.stalled", principal=principal, target_type="contact_import",
                         target_id=job.id, data={"rows_done": job.rows_done, "recoveries": job.recoveries})  # fmt: skip
            return job
        job.status = ImportStatus.QUEUED
        job.recoveries += 1
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "recoveries", "heartbeat_at"])
        audit_record("contact_import.requeued", principal=principal, target_type="contact_import",
                     target_id=job.id, data={"rows_done": job.rows_done, "recoveries": job.recoveries})  # fmt: skip
        _enqueue_on_commit(job)
    return job


def stalled_imports(stale_before: datetime.datetime) -> list[tuple[int, int]]:
    """Return (workspace_id, import_id) of every queued or running import, in every region, silent since stale_before.

    Crosses workspaces on purpose (the periodic sweep), hence unscoped_objects; ids only.
    """
    found = []
    silent = Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, created_at__lt=stale_before)
    for alias in settings.DATABASES:
        if alias.startswith("region_"):
            rows = ContactImport.unscoped_objects.using(alias).filter(
                silent, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]
            )
            found.extend(rows.values_list("workspace_id", "id"))
    return found


def _chunks(iterable, size: int):
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _commit_batch(job: ContactImport, batch: list[tuple[int, list[str]]], principal: Principal) -> None:
    """Guard, map and upsert one batch of (row number, cells), then advance the checkpoint with it."""
    reject = job.guard_policy == GuardPolicy.REJECT
    rows, numbers, errors, flagged = [], [], [], []
    for number, cells in batch:
        values = {target: cells[i].strip() for i, target in enumerate(job.mapping) if target and i < len(cells)}
        findings = scan_values({k: v for k, v in values.items() if k != TAGS_TARGET})
        for finding in findings:
            flagged.append({"row": number, "field": finding.field, "kind": finding.kind, "rejected": reject})
        if findings and reject:
            kinds = sorted({FindingKind(f.kind).label for f in findings})
            errors.append({"row": number, "field": findings[0].field, "message": f"sensitive data: {', '.join(kinds)}"})
            continue
        rows.append(values)
        numbers.append(number)
    with transaction.atomic(using=require_workspace().db_alias):
        # Fence: a run re-queued after a stall may overlap a worker that was only slow; the run whose
        # checkpoint is stale stops instead of writing the batch twice (its transaction rolls back).
        checkpoint = (
            ContactImport.objects.select_for_update().filter(pk=job.pk).values_list("rows_done", "status").first()
        )
        if checkpoint is None or checkpoint[0] != job.rows_done or checkpoint[1] != ImportStatus.RUNNING:
            raise _Superseded
        result = contacts_bulk_upsert(
            rows,
            lawful_basis=job.lawful_basis,
            tags=job.tags,
            overwrite_with_blank=job.overwrite_with_blank,
            batch_size=max(1, len(rows)),
            source={"import": job.id},
            principal=principal,
        )
        for row_error in result.errors:
            for alias, messages in row_error.errors.items():
                errors.append({"row": numbers[row_error.index], "field": alias, "message": "; ".join(messages)})
        job.rows_done += len(batch)
        job.created_count += result.created
        job.updated_count += result.updated
        job.error_count += len({e["row"] for e in errors})
        job.flagged_count += len({f["row"] for f in flagged})
        job.errors = (job.errors + errors)[:MAX_STORED_ISSUES]
        job.flagged = (job.flagged + flagged)[:MAX_STORED_ISSUES]
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["rows_done", "created_count", "updated_count", "error_count", "flagged_count",
                                "errors", "flagged", "heartbeat_at"])  # fmt: skip


def errors_csv(job: ContactImport) -> str:
    """Return job's per-row errors and guard findings as CSV text (row numbers, fields, messages; no values)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "column", "field", "problem"])
    headers = {target: job.headers[i] for i, target in enumerate(job.mapping) if target and i < len(job.headers)}
    issues = [(e["row"], e["field"], e["message"]) for e in job.errors]
    issues += [
        (f["row"], f["field"], f"{FindingKind(f['kind']).label} ({'rejected' if f['rejected'] else 'kept'})")
        for f in job.flagged
        if not f["rejected"]
    ]
    for row, field, message in sorted(issues, key=lambda issue: issue[0]):
        writer.writerow([row, _safe_cell(headers.get(field, "")), field, _safe_cell(message)])
    return out.getvalue()


def _safe_cell(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in a cell Tidings writes."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text
