"""The CSV import pipeline: upload, detect the format, map columns, run in the background, resume.

1. import_create stores the upload in the region's storage (var/uploads/<region>/imports/), never
   in the global database, sealed at rest (tidings.privacy.sealed: AES-GCM chunks under a per-upload
   key wrapped by the workspace key; file 0600, folders 0700); tidings.contacts.import_uploads keeps
   where it lives, reads it back and deletes it. It detects the encoding (a BOM for
   UTF-8 or UTF-16, else UTF-8, else Windows-1252, else Latin-1), the delimiter and whether the
   first row names the columns (a header-less file gets generated labels, so no data row is
   ever kept as headers), checks the limits (size, columns) and counts the rows.
2. import_configure records the column mapping, the tags, and the lawful basis the list was
   collected under (required: it is stored on every contact written), then queues the task.
3. import_run (called by tidings.contacts.tasks.run_contact_import) reads the file in batches,
   runs the sensitive-data guard on each row under the workspace's policy (warn keeps the row
   and lists it; reject skips it), and calls contacts_bulk_upsert. Each batch and the checkpoint
   (rows_done) commit in one transaction, so a crashed run resumes after the last committed batch
   without writing a row twice. Row numbers are the spreadsheet's lines (the header is line 1).
   A row without an email is skipped and reported; a row repeating an earlier row's email is
   merged into that contact and counted apart from updates; the Company column links contacts to
   companies matched by name (case and spacing ignored) or created in bulk. The uploaded file is
   deleted when the import completes cleanly or is cancelled; a failed import, or one with row
   errors (whose errors file quotes the original rows), keeps it (sealed) for UPLOAD_RETENTION, and
   the periodic job tasks.sweep_expired_uploads deletes it after that, and an upload never
   started after the same delay. Erasing a contact cancels the workspace's unfinished imports
   and deletes their files (an upload may hold that person; see erase_uploads).
4. A worker killed mid-run leaves its import "running": heartbeat_at (set when queued, started,
   and with each batch) goes stale, and the periodic job tasks.recover_stalled_imports re-queues
   it (import_recover_stalled), or marks it failed after MAX_RECOVERIES stalls.

Every write here is atomic and audited with ids and counts only. Each import_* action takes the
principal that acts and needs contacts:import in the workspace in context; the tasks run and
recover imports as the system principal (recorded as "system").
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import itertools
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tidings.accounts.permissions import Principal, require
from tidings.audit.actions import audit_record
from tidings.contacts import admission
from tidings.contacts.actions import (
    companies_link_by_name,
    contacts_bulk_upsert,
    load_fields,
)
from tidings.contacts.csv_format import (
    TAGS_TARGET,
    EncodingSniffer,
    auto_map,
    generated_headers,
    looks_like_data,
    refuse_binary,
    sniff_delimiter,
)
from tidings.contacts.import_uploads import (
    SEALED_SUFFIX,
    delete_file_on_commit,
    open_rows,
    open_upload,
    upload_folder,
)
from tidings.contacts.models import ContactImport, FieldObject, ImportStatus
from tidings.contacts.selectors import companies_by_normalised_name, contact_settings
from tidings.privacy.guard import FindingKind, GuardPolicy, scan_values
from tidings.privacy.models import LawfulBasis
from tidings.privacy.sealed import open_sealed, write_sealed
from tidings.privacy.vault import DecryptionFailed, keyring, normalise_email
from tidings.tenancy.context import require_workspace

logger = logging.getLogger(__name__)

MAX_RECOVERIES = 3  # re-queues of a stalled import before it is marked failed
STALL_AFTER = datetime.timedelta(minutes=15)  # a batch of 1,000 rows takes seconds; this is a dead worker
DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # a million typical rows is about 100 MB
DEFAULT_MAX_COLUMNS = 500  # the mapping page renders one field chooser per column
DEFAULT_PREVIEW_ROWS = 5
MAX_PREVIEW_ROWS = 50
BATCH_ROWS = 1000
PREVIEW_ROWS = DEFAULT_PREVIEW_ROWS
MAX_STORED_ISSUES = 10_000  # error_count and flagged_count keep counting past this


def max_upload_bytes() -> int:
    """Return the largest CSV file an import accepts, in bytes (TIDINGS_IMPORT_MAX_BYTES)."""
    return int(getattr(settings, "TIDINGS_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_columns() -> int:
    """Return the most columns an imported file may have (TIDINGS_IMPORT_MAX_COLUMNS)."""
    return int(getattr(settings, "TIDINGS_IMPORT_MAX_COLUMNS", DEFAULT_MAX_COLUMNS))


def preview_rows() -> int:
    """Return how many rows the mapping page reads and shows (TIDINGS_IMPORT_PREVIEW_ROWS, at most 50)."""
    return max(1, min(MAX_PREVIEW_ROWS, int(getattr(settings, "TIDINGS_IMPORT_PREVIEW_ROWS", DEFAULT_PREVIEW_ROWS))))


def preview(job: ContactImport, rows: int | None = None) -> list[list[str]]:
    """Return the first rows of job's file (preview_rows() by default), each cut to the header's width."""
    width = len(job.headers)
    handle, reader = open_rows(job)
    with handle:
        return [row[:width] for row in itertools.islice(reader, rows or preview_rows())]


def mapping_targets() -> list[tuple[str, str]]:
    """Return (alias, label) of every field an import may write, plus the tags column."""
    from tidings.contacts.selectors_fields import field_definitions

    system = {"last_active", "date_identified"}
    targets = [(f.alias, f.label) for f in field_definitions(FieldObject.CONTACT) if f.alias not in system]
    return [*targets, (TAGS_TARGET, "Tags (separated by | or ,)")]


# ==============================================================================================
# Actions


def import_create(upload, *, principal, request=None) -> ContactImport:
    """Store an uploaded CSV file, detect its format, count its rows; return the import awaiting mapping.

    The file is sealed at rest as it is written (never stored in clear). Raise ValidationError
    (key "file") when the file is larger than TIDINGS_IMPORT_MAX_BYTES, empty, does not decode
    in its detected encoding, does not read as CSV, has a blank first row, more columns than
    TIDINGS_IMPORT_MAX_COLUMNS, or no rows after its header. A first row that holds values
    (looks_like_data) is kept as data and the columns get generated labels.
    """
    require(principal, "contacts:import", workspace_id=require_workspace().id)
    if upload.size > max_upload_bytes():
        raise ValidationError({"file": f"the file is larger than {max_upload_bytes() // (1024 * 1024)} MB"})
    if upload.size == 0:
        raise ValidationError({"file": "the file is empty"})
    workspace = require_workspace()
    folder = upload_folder(workspace.region, workspace.id)
    stem = uuid.uuid4().hex
    name = f"{workspace.id}/{stem}{SEALED_SUFFIX}"
    path = folder / f"{stem}{SEALED_SUFFIX}"
    ring = keyring()
    sniffer = EncodingSniffer()

    def pieces():
        first = True
        for chunk in upload.chunks():
            if first:
                refuse_binary(chunk)
                first = False
            sniffer.feed(chunk)
            yield chunk

    try:
        write_sealed(path, pieces(), ring, stem)
        encoding = sniffer.result()
        with open_sealed(path, ring, stem, encoding=encoding, newline="") as handle:
            delimiter = sniff_delimiter(handle.read(64 * 1024))
        with open_sealed(path, ring, stem, encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            first = next(reader, [])
            if len(first) > max_columns():
                raise ValidationError(
                    {"file": f"the file has {len(first)} columns; an import takes at most {max_columns()}"}
                )
            if not any(cell.strip() for cell in first):
                raise ValidationError({"file": "the first row is blank: it must name the columns or hold a contact"})
            has_header = not looks_like_data(first)
            headers = [h.strip() for h in first] if has_header else generated_headers(len(first))
            total = sum(1 for row in reader if any(cell.strip() for cell in row)) + (0 if has_header else 1)
        if total == 0:
            raise ValidationError({"file": "the file has a header but no rows"})
    except BaseException as error:
        path.unlink(missing_ok=True)
        if isinstance(error, csv.Error):
            raise ValidationError({"file": "this does not read as a CSV file"}) from None
        if isinstance(error, UnicodeDecodeError):
            raise ValidationError({"file": f"this file does not decode as {encoding}; save it as UTF-8"}) from None
        raise
    with transaction.atomic(using=workspace.db_alias):
        job = ContactImport.objects.create(
            workspace_id=workspace.id,
            file_path=name,
            original_filename=Path(upload.name or "upload.csv").name[:255],
            size=upload.size,
            encoding=encoding,
            delimiter=delimiter,
            has_header=has_header,
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
        errors["mapping"] = "the mapping names fields that do not exist or are archived"
    elif len(chosen) != len(set(chosen)):
        errors["mapping"] = "each field can take one column only"
    elif "email" not in chosen:
        errors["mapping"] = "map a column to Email: contacts are matched by email, and rows without one are skipped"
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
    if not job.file_path:
        raise ValidationError("the uploaded file was deleted (failed imports keep it for a day): upload it again")
    with transaction.atomic(using=require_workspace().db_alias):
        job.status = ImportStatus.QUEUED
        job.failure = ""
        job.finished_at = None
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "failure", "finished_at", "heartbeat_at"])
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
        delete_file_on_commit(job)
    return job


def _enqueue_on_commit(job: ContactImport) -> None:
    from tidings.contacts.tasks import run_contact_import

    workspace_id, import_id = job.workspace_id, job.id
    transaction.on_commit(
        lambda: run_contact_import.enqueue(workspace_id=workspace_id, import_id=import_id),
        using=require_workspace().db_alias,
    )


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
            # Row numbers are the spreadsheet's lines (the header is line 1; blank lines count).
            rows = (
                (line, row)
                for line, row in enumerate(reader, start=2 if job.has_header else 1)
                if any(cell.strip() for cell in row)
            )
            run = _RunState(job, principal)
            if job.rows_done:  # resumed: the emails of the rows already written, for in-file duplicates
                run.remember(itertools.islice(rows, job.rows_done))
            for batch in _chunks(rows, batch_rows):
                _commit_batch(job, batch, principal, run)
                job.refresh_from_db(fields=["status"])
                if job.status == ImportStatus.CANCELLED:
                    return job
    except _Superseded:
        logger.warning("contact import %s: another run took over at row %s", job.id, job.rows_done)
        job.refresh_from_db()
        return job
    except (FileNotFoundError, DecryptionFailed) as error:
        logger.warning("contact import %s: its upload cannot be read (%s)", job.id, type(error).__name__)
        ContactImport.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED,
            finished_at=timezone.now(),
            failure=f"the uploaded file is gone or unreadable after row {job.rows_done}: upload it again",
        )
        job.refresh_from_db()
        return job
    except Exception as error:  # noqa: BLE001 (any failure must leave a resumable import behind)
        logger.exception("contact import %s failed at row %s", job.id, job.rows_done)
        ContactImport.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED,
            finished_at=timezone.now(),
            failure=f"{type(error).__name__} after row {job.rows_done}",
        )
        job.refresh_from_db()
        return job
    with transaction.atomic(using=workspace.db_alias):
        job.status = ImportStatus.COMPLETED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
        audit_record("contact_import.completed", principal=principal, target_type="contact_import", target_id=job.id,
                     data={"created": job.created_count, "updated": job.updated_count, "errors": job.error_count,
                           "flagged": job.flagged_count, "duplicates": job.duplicate_count,
                           "companies_created": job.companies_created})  # fmt: skip
        if not job.error_count:  # with errors, the file is kept (sealed) a day so the errors file can quote its rows
            delete_file_on_commit(job)
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
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "failure", "finished_at"])
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

    Crosses workspaces on purpose (the periodic sweep), through the one named door for that; ids only.
    """
    from tidings.tenancy.sweeps import dangerously_sweep_workspaces

    silent = Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, created_at__lt=stale_before)
    active = [ImportStatus.QUEUED, ImportStatus.RUNNING]
    with dangerously_sweep_workspaces() as across:
        return [
            row
            for imports_of_region in across(ContactImport)
            for row in imports_of_region.filter(silent, status__in=active).values_list("workspace_id", "id")
        ]


def _chunks(iterable, size: int):
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class _RunState:
    """What one run of an import remembers across batches: the file's emails and the known companies."""

    def __init__(self, job: ContactImport, principal: Principal) -> None:
        self.email_column = job.mapping.index("email") if "email" in job.mapping else None
        self.company_column = job.mapping.index("company") if "company" in job.mapping else None
        self.first_line: dict[bytes, int] = {}  # digest of a normalised email -> the line that brought it first
        self.failed_lines = {e["row"] for e in job.errors if "merged_into" not in e}
        self.companies: dict[str, int] | None = None  # read once, on the first batch with a company

    def email_of(self, cells: Sequence[str]) -> str:
        column = self.email_column
        return cells[column].strip() if column is not None and column < len(cells) else ""

    @staticmethod
    def digest(email: str) -> bytes:
        # 16 bytes per email keeps a million-row file's memory in tens of MB, not the addresses themselves.
        return hashlib.blake2b(normalise_email(email).encode(), digest_size=16).digest()

    def remember(self, rows) -> None:
        """Note the emails of rows a previous run wrote (before the checkpoint), skipping its failed lines."""
        for line, cells in rows:
            email = self.email_of(cells)
            if email and line not in self.failed_lines:
                self.first_line.setdefault(self.digest(email), line)


def _refuse_erased(rows: list, lines: list[int], errors: list[dict[str, Any]]) -> tuple[list, list[int]]:
    """Drop the rows whose email's person asked to be erased, each reported as an error (decision 0030)."""
    refused = admission.refused_emails(values["email"] for values in rows)
    if not refused:
        return rows, lines
    kept_rows, kept_lines = [], []
    for values, line in zip(rows, lines, strict=True):
        if normalise_email(values["email"]) in refused:
            errors.append({"row": line, "field": "email", "message": f"{admission.REFUSED_MESSAGE}: row skipped"})
        else:
            kept_rows.append(values)
            kept_lines.append(line)
    return kept_rows, kept_lines


def _commit_batch(
    job: ContactImport, batch: list[tuple[int, list[str]]], principal: Principal, run: _RunState | None = None
) -> None:
    """Guard, map and upsert one batch of (line, cells), then advance the checkpoint with it.

    A row without an email is skipped and reported; a row whose email an earlier row of the
    file had is merged into that contact and reported as such (not as an update); the Company
    column links each contact to its company, created when no existing one has that name.
    """
    run = run or _RunState(job, principal)
    reject = job.guard_policy == GuardPolicy.REJECT
    rows: list = []
    lines: list[int] = []
    errors: list[dict[str, Any]] = []
    flagged: list[dict[str, Any]] = []
    merged: list[dict[str, Any]] = []
    no_email = 0
    for line, cells in batch:
        values = {target: cells[i].strip() for i, target in enumerate(job.mapping) if target and i < len(cells)}
        if not values.get("email"):
            errors.append({"row": line, "field": "email", "message": "no email address: row skipped"})
            no_email += 1
            continue
        findings = scan_values({k: v for k, v in values.items() if k != TAGS_TARGET})
        for finding in findings:
            flagged.append({"row": line, "field": finding.field, "kind": finding.kind, "rejected": reject})
        if findings and reject:
            kinds = sorted({FindingKind(f.kind).label for f in findings})
            errors.append({"row": line, "field": findings[0].field, "message": f"sensitive data: {', '.join(kinds)}"})
            continue
        rows.append(values)
        lines.append(line)
    rows, lines = _refuse_erased(rows, lines, errors)
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
            return_ids=True,
            source={"import": job.id},
            principal=principal,
        )
        for row_error in result.errors:
            for alias, messages in row_error.errors.items():
                errors.append({"row": lines[row_error.index], "field": alias, "message": "; ".join(messages)})
        company_links = []
        for values, line, contact_id in zip(rows, lines, result.contact_ids, strict=True):
            if contact_id is None:
                continue
            digest = run.digest(values["email"])
            first = run.first_line.setdefault(digest, line)
            if first != line:
                merged.append({"row": line, "field": "email", "merged_into": first,
                               "message": f"duplicate in file, merged into line {first}"})  # fmt: skip
            if values.get("company"):
                company_links.append((contact_id, values["company"]))
        if company_links:
            if run.companies is None:
                run.companies = companies_by_normalised_name()
            linked = companies_link_by_name(company_links, known=run.companies, principal=principal)
            job.companies_created += linked.created
            job.companies_linked += linked.linked
        job.rows_done += len(batch)
        job.created_count += result.created
        job.updated_count += result.updated - len(merged)
        job.duplicate_count += len(merged)
        job.no_email_count += no_email
        job.error_count += len({e["row"] for e in errors})
        job.flagged_count += len({f["row"] for f in flagged})
        job.errors = (job.errors + sorted(errors + merged, key=lambda e: e["row"]))[:MAX_STORED_ISSUES]
        job.flagged = (job.flagged + flagged)[:MAX_STORED_ISSUES]
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["rows_done", "created_count", "updated_count", "error_count", "flagged_count",
                                "duplicate_count", "no_email_count", "companies_created", "companies_linked",
                                "errors", "flagged", "heartbeat_at"])  # fmt: skip


def import_errors_download(import_id: int, *, principal, request=None) -> tuple[ContactImport, str]:
    """Return (import, its errors CSV) for a person to download; audited, as it may quote the original rows.

    Raise ContactImport.DoesNotExist for an id not in this workspace, PermissionDenied when
    principal may not import.
    """
    require(principal, "contacts:import", workspace_id=require_workspace().id)
    job = ContactImport.objects.get(pk=import_id)
    text = errors_csv(job)
    with transaction.atomic(using=require_workspace().db_alias):
        data = {"issues": len(job.errors) + len(job.flagged), "original_rows": bool(job.file_path)}
        audit_record("contact_import.errors_downloaded", principal=principal, request=request,
                     target_type="contact_import", target_id=job.id, data=data)  # fmt: skip
    return job, text


def errors_csv(job: ContactImport) -> str:
    """Return job's row outcomes as CSV: line, column, field, problem, then the row as the file had it.

    Lines are the spreadsheet's (the header is line 1). While the sealed upload is kept (a day
    after an import that failed or had row errors), each line is followed by the original cells
    so the rows can be fixed and imported again; a cell the sensitive-data guard flagged is
    replaced by what it looks like, never quoted. Without the file, the outcome columns only.
    Every cell is neutralised against spreadsheet formulas.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    headers = {target: job.headers[i] for i, target in enumerate(job.mapping) if target and i < len(job.headers)}
    issues = [(e["row"], e["field"], e["message"]) for e in job.errors]
    issues += [
        (f["row"], f["field"], f"{FindingKind(f['kind']).label} ({'rejected' if f['rejected'] else 'kept'})")
        for f in job.flagged
        if not f["rejected"]
    ]
    issues.sort(key=lambda issue: issue[0])
    originals = _original_rows(job, {issue[0] for issue in issues})
    writer.writerow(["line", "column", "field", "problem", *(job.headers if originals else [])])
    for row, field, message in issues:
        cells = originals.get(row, [])
        writer.writerow([row, _safe_cell(headers.get(field, "")), field, _safe_cell(message),
                         *(_safe_cell(cell) for cell in cells)])  # fmt: skip
    return out.getvalue()


def _original_rows(job: ContactImport, lines: set[int]) -> dict[int, list[str]]:
    """Return {line: cells} of the given lines from job's sealed upload, guard-flagged cells masked; {} without it."""
    if not lines or not job.file_path:
        return {}
    masked: dict[int, dict[int, str]] = {}
    for finding in job.flagged:
        if finding["field"] in job.mapping:
            column = job.mapping.index(finding["field"])
            masked.setdefault(finding["row"], {})[column] = f"[removed: {FindingKind(finding['kind']).label}]"
    found: dict[int, list[str]] = {}
    last = max(lines)
    try:
        with open_upload(job) as handle:
            for line, cells in enumerate(csv.reader(handle, delimiter=job.delimiter), start=1):
                if line > last:
                    break
                if line in lines:
                    cells = cells[: len(job.headers)]
                    for column, text in masked.get(line, {}).items():
                        if column < len(cells):
                            cells[column] = text
                    found[line] = cells
    except (FileNotFoundError, DecryptionFailed):
        return {}
    return found


def _safe_cell(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in a cell Tidings writes."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text
