"""Background tasks of the contacts app: thin, ids in, the work is in tidings.contacts.imports."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from tidings.jobs.periodic import periodic
from tidings.jobs.tenant import tenant_task


@tenant_task()
def run_contact_import(*, workspace_id: int, import_id: int) -> str:
    """Run or resume import import_id of workspace workspace_id; return its status when the run ends."""
    from tidings.accounts.permissions import system_principal
    from tidings.contacts.imports import import_run
    from tidings.tenancy.selectors import workspace_by_id

    principal = system_principal(workspace_by_id(workspace_id), reason="task:run_contact_import")
    return import_run(import_id, principal=principal).status


@periodic(every=timedelta(minutes=5))
@task()
def recover_stalled_imports() -> int:
    """Re-queue (or, after repeated stalls, fail) imports whose worker stopped; return how many were handled."""
    from tidings.accounts.permissions import system_principal
    from tidings.contacts.imports import STALL_AFTER, import_recover_stalled, stalled_imports
    from tidings.tenancy.context import use_workspace
    from tidings.tenancy.selectors import workspace_by_id

    stale_before = timezone.now() - STALL_AFTER
    handled = 0
    for workspace_id, import_id in stalled_imports(stale_before):
        workspace = workspace_by_id(workspace_id)
        if workspace is None:
            continue  # its data goes with it
        with use_workspace(workspace):
            principal = system_principal(workspace, reason="task:recover_stalled_imports")
            import_recover_stalled(import_id, stale_before=stale_before, principal=principal)
        handled += 1
    return handled


@periodic(every=timedelta(hours=1))
@task()
def sweep_expired_uploads() -> int:
    """Delete upload files past keeping (never started, or failed, a day ago) and stray files; return how many.

    Crosses workspaces as recover_stalled_imports does: import_uploads.expired_uploads reads ids through
    the named sweep door, then each import is expired inside its own workspace as the system.
    """
    from tidings.accounts.permissions import system_principal
    from tidings.contacts.import_uploads import (
        UPLOAD_RETENTION,
        expired_uploads,
        import_expire_upload,
        stray_upload_files,
    )
    from tidings.tenancy.context import use_workspace
    from tidings.tenancy.selectors import workspace_by_id

    before = timezone.now() - UPLOAD_RETENTION
    handled = 0
    for workspace_id, import_id in expired_uploads(before):
        workspace = workspace_by_id(workspace_id)
        if workspace is None:
            continue  # its folder is a stray below
        with use_workspace(workspace):
            principal = system_principal(workspace, reason="task:sweep_expired_uploads")
            import_expire_upload(import_id, before=before, principal=principal)
        handled += 1
    for path in stray_upload_files(before):
        path.unlink(missing_ok=True)
        handled += 1
    return handled
