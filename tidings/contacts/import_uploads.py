"""An import's uploaded file (see tidings.contacts.imports): where it is stored, how it is read, how it goes.

The upload lives in the region's storage (var/uploads/<region>/imports/<workspace>/), never in the global
database, sealed at rest (tidings.privacy.sealed: AES-GCM chunks under a per-upload key wrapped by the
workspace key; file 0600, folders 0700), and is decrypted as it is read. It is deleted when its import
completes cleanly or is cancelled (on commit); a failed import's, or one with row errors, is kept for
UPLOAD_RETENTION and then deleted by the periodic sweep, as is an upload never started; erasing a contact
deletes every upload of the workspace that could still hold people.
"""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from tidings.accounts.permissions import require
from tidings.audit.actions import audit_record
from tidings.contacts.models import ContactImport, ImportStatus
from tidings.files import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, private_makedirs
from tidings.privacy.sealed import open_sealed
from tidings.privacy.vault import keyring
from tidings.tenancy.context import require_workspace, use_workspace

SEALED_SUFFIX = ".sealed"
UPLOAD_RETENTION = datetime.timedelta(days=1)  # an unstarted upload, or a failed import's file, is kept this long


def import_storage(region: str) -> FileSystemStorage:
    """Return the storage of region's uploaded import files (under var/, one folder per region), owner-only."""
    return FileSystemStorage(
        location=Path(settings.VAR_DIR) / "uploads" / region / "imports",
        file_permissions_mode=PRIVATE_FILE_MODE,
        directory_permissions_mode=PRIVATE_DIR_MODE,
    )


def upload_folder(region: str, workspace_id: int) -> Path:
    """Return (creating, 0700 at every level under var/) the folder of a workspace's uploads."""
    root = Path(settings.VAR_DIR) / "uploads"
    folder = root
    for part in (region, "imports", str(workspace_id)):
        private_makedirs(folder)
        folder = folder / part
    return private_makedirs(folder)


def _file_name(file_path: str) -> str:
    """Return the name a sealed upload is bound to (its random stem), from its stored path."""
    return Path(file_path).name.removesuffix(SEALED_SUFFIX)


def open_upload(job: ContactImport):
    path = import_storage(require_workspace().region).path(job.file_path)
    return open_sealed(path, keyring(), _file_name(job.file_path), encoding=job.encoding, newline="")


def open_rows(job: ContactImport):
    """Return (file handle, csv reader) over the rows of job's stored upload, after its header row if any.

    The upload is decrypted as it is read. Raise FileNotFoundError when the file was deleted,
    DecryptionFailed when it does not open under this workspace's keys.
    """
    if not job.file_path:
        raise FileNotFoundError("the uploaded file was deleted")
    handle = open_upload(job)
    reader = csv.reader(handle, delimiter=job.delimiter)
    if job.has_header:
        next(reader, None)
    return handle, reader


def delete_file_on_commit(job: ContactImport) -> None:
    """Delete job's file once the current transaction commits, in this workspace wherever the callback runs."""
    workspace = require_workspace()

    def delete() -> None:
        with use_workspace(workspace):
            _delete_file(job)

    transaction.on_commit(delete, using=workspace.db_alias)


def _delete_file(job: ContactImport) -> None:
    """Delete job's stored upload and forget its path (run on commit of the change that ends it)."""
    if job.file_path:
        import_storage(require_workspace().region).delete(job.file_path)
        ContactImport.objects.filter(pk=job.pk, file_path=job.file_path).update(file_path="")
        job.file_path = ""


# ==============================================================================================
# Uploads that outlive their import: sweeps and erasure


def expired_uploads(before: datetime.datetime) -> list[tuple[int, int]]:
    """Return (workspace_id, import_id) of every import, in every region, whose file is past keeping.

    An upload never started (status uploaded) created before `before`, or a failed import (or
    one completed with row errors) that ended before `before`, still holding its file. Crosses
    workspaces on purpose (the periodic sweep, through the one named door for that); ids only.
    """
    from tidings.tenancy.sweeps import dangerously_sweep_workspaces

    abandoned = Q(status=ImportStatus.UPLOADED, created_at__lt=before)
    failed = Q(status=ImportStatus.FAILED, failed_or_seen__lt=before)
    failed |= Q(status=ImportStatus.COMPLETED, error_count__gt=0, failed_or_seen__lt=before)
    with dangerously_sweep_workspaces() as across:
        return [
            row
            for imports_of_region in across(ContactImport)
            for row in imports_of_region.exclude(file_path="")
            .annotate(failed_or_seen=Coalesce("finished_at", "heartbeat_at", "created_at"))
            .filter(abandoned | failed)
            .values_list("workspace_id", "id")
        ]


def import_expire_upload(import_id: int, *, before: datetime.datetime, principal) -> ContactImport:
    """Delete the file of an upload never started, or of an import that failed or had row errors, older than before.

    Return the import.

    An unstarted upload is cancelled; a failed import stays failed and can no longer be resumed
    (its failure says to upload the file again). An import that changed since the sweep looked
    (started, resumed, or newer) is left alone. Audited with ids only. Raise
    ContactImport.DoesNotExist for an id not in this workspace, PermissionDenied when principal
    may not import.
    """
    require(principal, "contacts:import", workspace_id=require_workspace().id)
    db_alias = require_workspace().db_alias
    with transaction.atomic(using=db_alias):
        job = ContactImport.objects.select_for_update().get(pk=import_id)
        last_sign = job.finished_at or job.heartbeat_at or job.created_at
        if not job.file_path:
            return job
        if job.status == ImportStatus.UPLOADED and job.created_at < before:
            job.status = ImportStatus.CANCELLED
            job.finished_at = timezone.now()
            job.failure = "never started: the uploaded file was deleted after a day"
        elif job.status == ImportStatus.FAILED and last_sign < before:
            job.failure = f"{job.failure}; the file was deleted after a day"[:255]
        elif job.status == ImportStatus.COMPLETED and job.error_count and last_sign < before:
            pass  # the errors file loses the original rows; the import stays completed
        else:
            return job
        job.save(update_fields=["status", "finished_at", "failure"])
        audit_record("contact_import.file_expired", principal=principal, target_type="contact_import",
                     target_id=job.id, data={"status": job.status})  # fmt: skip
        delete_file_on_commit(job)
    return job


def stray_upload_files(before: datetime.datetime) -> list[Path]:
    """Return upload files, in every region, last written before `before` that no import of a live workspace holds.

    Files of a deleted workspace, or left by a process that died between writing the file and
    recording its import. Crosses workspaces on purpose (the periodic sweep).
    """
    from tidings.tenancy.context import region_db_alias
    from tidings.tenancy.selectors import workspace_by_id
    from tidings.tenancy.sweeps import dangerously_sweep_workspaces

    cutoff = before.timestamp()
    stray: list[Path] = []
    for region in settings.TIDINGS_REGIONS:
        root = Path(settings.VAR_DIR) / "uploads" / region / "imports"
        if not root.is_dir():
            continue
        alias = region_db_alias(region)
        for folder in root.iterdir():
            if not folder.is_dir():
                continue
            files = [f for f in folder.iterdir() if f.is_file() and f.stat().st_mtime < cutoff]
            if not files:
                continue
            live = folder.name.isdigit() and workspace_by_id(int(folder.name)) is not None
            held: set[str] = set()
            if live:
                with dangerously_sweep_workspaces():
                    held = set(
                        ContactImport.unscoped_objects.using(alias)
                        .filter(workspace_id=int(folder.name))
                        .exclude(file_path="")
                        .values_list("file_path", flat=True)
                    )
            stray.extend(f for f in files if f"{folder.name}/{f.name}" not in held)
    return stray


def erase_uploads(contact_ids) -> int:
    """Cancel the workspace's unfinished imports and delete their files; return how many (registry eraser).

    The rule: an upload holds many people and cannot be searched for one without decrypting and
    matching every row, so erasing any contact deletes every upload of the workspace that could
    still write or hold people (uploaded, queued, running, failed). Contacts already imported
    stay; the person importing uploads the file again without the erased person.
    """
    jobs = list(
        ContactImport.objects.select_for_update()
        .exclude(file_path="")
        .exclude(status__in=[ImportStatus.COMPLETED, ImportStatus.CANCELLED])
    )
    jobs += list(
        ContactImport.objects.exclude(file_path="").filter(status__in=[ImportStatus.COMPLETED, ImportStatus.CANCELLED])
    )
    now = timezone.now()
    for job in jobs:
        if job.status not in (ImportStatus.COMPLETED, ImportStatus.CANCELLED):
            job.status = ImportStatus.CANCELLED
            job.finished_at = now
            job.failure = "cancelled: a contact was erased and this upload may hold them; upload the file again"
            job.save(update_fields=["status", "finished_at", "failure"])
        delete_file_on_commit(job)
    return len(jobs)


def erase_workspace_uploads() -> int:
    """Delete every upload file of the workspace in context and forget their paths; return how many files."""
    workspace = require_workspace()
    folder = Path(settings.VAR_DIR) / "uploads" / workspace.region / "imports" / str(workspace.id)
    ContactImport.objects.exclude(file_path="").update(file_path="")
    count = 0
    if folder.is_dir():
        for path in folder.iterdir():
            path.unlink(missing_ok=True)
            count += 1
        folder.rmdir()
    return count
