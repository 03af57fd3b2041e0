"""Every write about delayed work: schedule it, cancel it; and coalesced enqueues (enqueue_once).

These are plumbing for other apps' actions, which audit the business change themselves
(a campaign launch, a retention policy); auditing each scheduled row as well would flood
the log with one entry per contact-step and add nothing a reviewer needs.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_tasks.base import Task

from tidings.jobs.models import ScheduledTask, ScheduledTaskStatus


def schedule_task(
    task: Task, *, due_at: datetime, workspace_id: int | None, dedupe_key: str | None = None, **kwargs
) -> ScheduledTask:
    """Store task to be enqueued with kwargs once due_at has passed; return the row.

    workspace_id is required: the workspace the work is for (the task receives it as a keyword
    argument, see tenant_task), or None for work of Tidings itself. With a dedupe_key already
    held by a pending or enqueued row of the same workspace, return that row and store nothing:
    the same work is never scheduled twice. Keys are per workspace, because the ids they are
    usually made of (``step:{pk}``) are per region database.
    Raise TypeError when task is not a task, ValidationError when due_at is naive or kwargs
    are not JSON (ids and settings only).
    """
    if not isinstance(task, Task):
        raise TypeError("schedule_task takes a task (a function decorated with @task)")
    if timezone.is_naive(due_at):
        raise ValidationError({"due_at": "due_at must be timezone-aware"})
    if "workspace_id" in kwargs:
        raise ValidationError({"workspace_id": "pass workspace_id as the keyword of schedule_task itself"})
    try:
        payload = json.loads(json.dumps(kwargs))
    except (TypeError, ValueError) as error:
        raise ValidationError({"kwargs": f"task arguments must be JSON: {error}"}) from error
    if dedupe_key is not None:
        existing = ScheduledTask.objects.filter(workspace_id=workspace_id, dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    row = ScheduledTask(
        task_path=task.module_path,
        kwargs=payload,
        workspace_id=workspace_id,
        due_at=due_at,
        dedupe_key=dedupe_key,
    )
    try:
        with transaction.atomic(using="default"):
            row.save(using="default")
    except IntegrityError:
        # Another process scheduled the same key between our look-up and insert: keep theirs.
        if dedupe_key is None:
            raise
        return ScheduledTask.objects.get(workspace_id=workspace_id, dedupe_key=dedupe_key)
    return row


def cancel_scheduled_task(
    *, scheduled_id: int | None = None, dedupe_key: str | None = None, workspace_id: int | None
) -> bool:
    """Cancel a pending scheduled task of workspace_id named by id or dedupe key; return whether one was cancelled.

    Only a row of workspace_id (None: Tidings' own work) is cancelled, so a caller acting for
    one workspace cannot cancel another's work. An already enqueued row is left alone (it is on
    the queue) and False is returned. Cancelling releases the dedupe key.
    Raise ValueError unless exactly one of scheduled_id and dedupe_key is given.
    """
    if (scheduled_id is None) == (dedupe_key is None):
        raise ValueError("name the scheduled task by scheduled_id or by dedupe_key")
    rows = ScheduledTask.objects.filter(status=ScheduledTaskStatus.PENDING)
    rows = rows.filter(pk=scheduled_id) if scheduled_id is not None else rows.filter(dedupe_key=dedupe_key)
    rows = rows.filter(workspace_id=workspace_id)
    # One conditional UPDATE: a scheduler moving the row at the same moment wins or loses whole.
    return rows.update(status=ScheduledTaskStatus.CANCELLED, dedupe_key=None) == 1


# A coalescing key whose task has not started after this long is taken over (the task was lost: a worker
# killed between taking it and running it, an RQ enqueue whose commit failed); at worst one extra run.
COALESCE_STALE = timedelta(minutes=2)


def coalesce_key(task_path: str) -> str:
    """The dedupe key that marks task_path as queued and not yet started (see enqueue_once)."""
    return f"queued:{task_path}"[:200]


def enqueue_once(task: Task, *, workspace_id: int | None, stale_after: timedelta = COALESCE_STALE) -> bool:
    """Enqueue task for workspace_id now unless a run of it is already queued and not started; return whether queued.

    The ScheduledTask dedupe key, held by a row born "enqueued" (the scheduler never moves it): a burst of
    wake-ups queues one run. The task must be a tenant_task(coalesce=True), whose run releases the key
    before its body starts, so a wake-up after a run began (it may have read its work already) queues the
    next one. The row is committed before the enqueue: a worker never starts the task before the key is
    visible (RQ), and a crash in between only holds the key until stale_after, when the next call takes it.
    For tasks whose only argument is the workspace (anything else would be merged away). Raise TypeError
    when task is not a task.
    """
    if not isinstance(task, Task):
        raise TypeError("enqueue_once takes a task (a function decorated with @tenant_task(coalesce=True))")
    key = coalesce_key(task.module_path)
    now = timezone.now()
    # One conditional UPDATE takes over a stale key (of two callers finding it, one takes it). When it took
    # none, the insert takes a free key; the unique key refuses it while a row holds the key.
    stale = ScheduledTask.objects.filter(workspace_id=workspace_id, dedupe_key=key, status=ScheduledTaskStatus.ENQUEUED,
                                         enqueued_at__lt=now - stale_after)  # fmt: skip
    if not stale.update(enqueued_at=now, attempts=F("attempts") + 1):
        row = ScheduledTask(task_path=task.module_path, workspace_id=workspace_id, due_at=now, enqueued_at=now,
                            status=ScheduledTaskStatus.ENQUEUED, attempts=1, dedupe_key=key)  # fmt: skip
        try:
            with transaction.atomic(using="default"):
                row.save(using="default")
        except IntegrityError:
            return False  # the key is held: a run is queued and has not started
    try:
        if workspace_id is None:
            task.enqueue()
        else:
            task.enqueue(workspace_id=workspace_id)
    except Exception:
        # The queue refused it (Redis down): nothing is queued, so the key must not hold the next wake-up off.
        release_coalesced(task.module_path, workspace_id=workspace_id)
        raise
    return True


def release_coalesced(task_path: str, *, workspace_id: int | None) -> None:
    """Mark task_path's queued run for workspace_id as started: the next enqueue_once queues another."""
    ScheduledTask.objects.filter(workspace_id=workspace_id, dedupe_key=coalesce_key(task_path),
                                 status=ScheduledTaskStatus.ENQUEUED).delete()  # fmt: skip
