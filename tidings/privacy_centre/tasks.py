"""Background jobs of the privacy centre: the daily retention run of every workspace."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from tidings.jobs.periodic import periodic
from tidings.jobs.tenant import tenant_task


@periodic(every=timedelta(days=1))
@task()
def enforce_retention_everywhere() -> int:
    """Queue the retention run of every workspace; return how many were queued."""
    from tidings.tenancy.selectors import all_workspace_ids

    ids = all_workspace_ids()
    for workspace_id in ids:
        enforce_workspace_retention.enqueue(workspace_id=workspace_id)
    return len(ids)


@tenant_task()
def enforce_workspace_retention(*, workspace_id: int) -> dict[str, int]:
    """Purge the workspace's data older than its retention periods, as the system; return rows per class."""
    from tidings.accounts.permissions import system_principal
    from tidings.privacy_centre.actions import retention_enforce
    from tidings.tenancy.selectors import workspace_by_id

    principal = system_principal(workspace_by_id(workspace_id), reason="task:enforce_workspace_retention")
    return retention_enforce(principal=principal)
