"""Background tasks of the contacts app: thin, ids in, the work is in tidings.contacts.imports."""

from __future__ import annotations

from tidings.jobs.tenant import tenant_task


@tenant_task()
def run_contact_import(*, workspace_id: int, import_id: int) -> str:
    """Run or resume import import_id of workspace workspace_id; return its status when the run ends."""
    from tidings.contacts.imports import import_run

    return import_run(import_id).status
