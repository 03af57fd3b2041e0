"""Every periodic job runs as the worker runs it: with no workspace set, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from tidings.jobs.periodic import PERIODIC_JOBS
from tidings.tenancy.context import no_workspace


@pytest.mark.parametrize("name", sorted(PERIODIC_JOBS))
def test_the_periodic_job_runs_with_no_workspace_set(name, acme, globex):
    job = PERIODIC_JOBS[name]

    with no_workspace():
        job.task.call()  # raises NoWorkspaceSet (or a policy error) if it forgot to cross workspaces properly
