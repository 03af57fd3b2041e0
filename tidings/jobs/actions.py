"""Every write about delayed work: schedule it, cancel it.

These are plumbing for other apps' actions, which audit the business change themselves
(a campaign launch, a retention policy); auditing each scheduled row as well would flood
the log with one entry per contact-step and add nothing a reviewer needs.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
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
