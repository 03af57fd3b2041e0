"""Tasks that work on one workspace's data: ids in, re-fetch, run inside the workspace."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django_tasks import task

from tidings.tenancy.context import use_workspace
from tidings.tenancy.selectors import workspace_by_id

logger = logging.getLogger(__name__)


def tenant_task(function: Callable | None = None, *, coalesce: bool = False, **task_options: Any):
    """Make a task of function that takes workspace_id and runs with that workspace as the current one.

    The workspace is re-fetched from the global database when the task runs, so a task queued
    before a change sees the workspace as it is now. When the workspace no longer exists the
    body is skipped and the task returns None: its data is gone with it. task_options are
    passed to django_tasks' @task (priority, queue_name, backend). With coalesce, the task is
    enqueued with jobs.actions.enqueue_once (one queued run per workspace) and its run, first of
    all, marks the queued run started (release_coalesced), so later wake-ups queue the next run.
    Raise TypeError (when called) if workspace_id is missing.
    """

    def decorate(body: Callable) -> Any:
        @functools.wraps(body)
        def run(*args: Any, workspace_id: int, **kwargs: Any) -> Any:
            if coalesce:
                from tidings.jobs.actions import release_coalesced

                release_coalesced(f"{body.__module__}.{body.__qualname__}", workspace_id=int(workspace_id))
            workspace = workspace_by_id(int(workspace_id))
            if workspace is None:
                logger.warning("skipping %s: workspace %s no longer exists", body.__qualname__, workspace_id)
                return None
            with use_workspace(workspace):
                return body(*args, workspace_id=workspace.pk, **kwargs)

        return task(**task_options)(run)

    if function is not None:
        return decorate(function)
    return decorate
