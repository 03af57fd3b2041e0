"""Tasks the jobs tests schedule and run; each records what it saw in CALLS."""

from django_tasks import task

from tidings.audit.actions import audit_record
from tidings.jobs.tenant import tenant_task
from tidings.tenancy.context import current_workspace

CALLS: list[tuple] = []


@task()
def remember(label: str) -> str:
    CALLS.append(("remember", label))
    return label


@tenant_task
def note_in_workspace(*, workspace_id: int, note: str) -> str | None:
    """Write an audit entry in the current workspace's chain, as a tenant action would."""
    active = current_workspace()
    CALLS.append(("note", workspace_id, active.slug if active else None, note))
    audit_record("test.noted", actor_type="system", target_type="note", target_id=note)
    return active.slug if active else None


not_a_task = "plain string"


@task()
def mark_file(path: str, label: str, meet: str = "") -> int:
    """Append "label worker-pid" to path; with meet (a folder), first wait until two workers are in it.

    RQ runs each job in a forked work horse, so the worker is the parent process. Meeting makes
    parallelism a fact the test can check rather than a matter of timing: a task waits (up to a
    minute) until a task of another worker has started too.
    """
    import os
    import time
    from pathlib import Path

    worker = os.getppid()
    if meet:
        (Path(meet) / str(worker)).touch()
        deadline = time.monotonic() + 60
        while len(os.listdir(meet)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    with open(path, "a") as marks:
        marks.write(f"{label} {worker}\n")
    return worker


@tenant_task(coalesce=True)
def wake_workspace(*, workspace_id: int) -> int:
    """A coalesced tenant task (as campaigns' run_campaigns): at most one run queued per workspace."""
    CALLS.append(("wake", workspace_id))
    if WHILE_RUNNING:
        WHILE_RUNNING.pop()()
    return workspace_id


WHILE_RUNNING: list = []  # a callable the next wake_workspace run calls in its body (a wake-up during the run)
