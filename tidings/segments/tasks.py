"""Background jobs of segments: keep every workspace's memberships fresh.

Two periodic jobs (see docs/configuration.md for the periods):

- refresh_changed_contacts, every few seconds: in each workspace with segments, re-evaluate the
  contacts changed since the last run (actions.segments_refresh_changed, which keeps its place in
  the event store), so a change reaches memberships within seconds without scanning anyone else;
- rebuild_all_segments, hourly: one task per workspace rebuilds every segment, because relative
  dates ("in the last 7 days") move contacts that no write touched.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django_tasks import task

from tidings.jobs.periodic import periodic
from tidings.jobs.tenant import tenant_task

logger = logging.getLogger(__name__)

# Passes per workspace and run: a backlog (a large import) is caught up over several runs, so
# one busy workspace does not hold every other one's refresh back.
MAX_PASSES = 10


@periodic(every=timedelta(seconds=settings.TIDINGS_SEGMENT_REFRESH_SECONDS))
@task()
def refresh_changed_contacts() -> int:
    """Refresh segment memberships of contacts changed since the last run, in every workspace; return them.

    Each workspace runs inside itself as the system. A workspace whose refresh fails is logged
    (its id only) and retried by the next run from the same watermark; the others go on.
    """
    from tidings.accounts.permissions import system_principal
    from tidings.segments.actions import segments_refresh_changed
    from tidings.segments.selectors import workspaces_with_segments
    from tidings.tenancy.context import use_workspace
    from tidings.tenancy.selectors import workspace_by_id

    contacts = 0
    for workspace_id in workspaces_with_segments():
        workspace = workspace_by_id(workspace_id)
        if workspace is None:
            continue  # its data goes with it
        try:
            with use_workspace(workspace):
                principal = system_principal(workspace, reason="task:refresh_changed_contacts")
                for _ in range(MAX_PASSES):
                    done = segments_refresh_changed(principal=principal)
                    contacts += done.contacts
                    if not done.more:
                        break
        except Exception:
            logger.exception("segment refresh of workspace %s failed; the next run retries it", workspace_id)
    return contacts


@periodic(every=timedelta(seconds=settings.TIDINGS_SEGMENT_REBUILD_SECONDS))
@task()
def rebuild_all_segments() -> int:
    """Queue a full rebuild of every workspace that has segments; return how many were queued."""
    from tidings.segments.selectors import workspaces_with_segments

    workspace_ids = workspaces_with_segments()
    for workspace_id in workspace_ids:
        rebuild_workspace_segments.enqueue(workspace_id=workspace_id)
    return len(workspace_ids)


@tenant_task()
def rebuild_workspace_segments(*, workspace_id: int) -> int:
    """Rebuild every segment of workspace workspace_id as the system; return how many were rebuilt."""
    from tidings.accounts.permissions import system_principal
    from tidings.segments.actions import segments_rebuild_all
    from tidings.tenancy.selectors import workspace_by_id

    principal = system_principal(workspace_by_id(workspace_id), reason="task:rebuild_workspace_segments")
    return len(segments_rebuild_all(principal=principal))
