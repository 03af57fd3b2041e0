"""The overdue check: every hour, open requests past their due date alert the workspace's admins once."""

from __future__ import annotations

import logging
from datetime import timedelta

from django_tasks import task

from tidings.jobs.periodic import periodic

logger = logging.getLogger(__name__)


@periodic(every=timedelta(hours=1))
@task()
def alert_overdue_requests() -> int:
    """In every workspace with open requests, alert (once per request) those past due; return how many."""
    from tidings.accounts.permissions import system_principal
    from tidings.subject_requests.actions import alert_overdue
    from tidings.subject_requests.selectors import workspaces_with_open_requests
    from tidings.tenancy.context import use_workspace
    from tidings.tenancy.selectors import workspace_by_id

    alerted = 0
    for workspace_id in workspaces_with_open_requests():
        workspace = workspace_by_id(workspace_id)
        if workspace is None:
            continue
        try:
            with use_workspace(workspace):
                alerted += alert_overdue(principal=system_principal(workspace, reason="task:alert_overdue_requests"))
        except Exception:
            logger.exception("overdue check of workspace %s failed; the next run retries it", workspace_id)
    return alerted
