"""Durable rows for work that must happen later: delayed tasks and the state of periodic jobs.

Both live in the global database, beside django_tasks_db's queue table, so moving a due row
onto the database queue is one local transaction.
"""

from __future__ import annotations

from django.db import models


class ScheduledTaskStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ENQUEUED = "enqueued", "Enqueued"
    CANCELLED = "cancelled", "Cancelled"


class ScheduledTask(models.Model):
    """A task to enqueue once due_at has passed (campaign steps, retention, reminders).

    Moves pending -> enqueued (by the scheduler) or pending -> cancelled; never back.
    kwargs holds ids and settings only, never personal data.
    """

    task_path = models.CharField(max_length=255)
    kwargs = models.JSONField(default=dict, blank=True)
    workspace_id = models.BigIntegerField(null=True, blank=True)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=ScheduledTaskStatus.choices, default=ScheduledTaskStatus.PENDING)
    # A caller's name for one piece of work, so scheduling it twice keeps one row. Unique per
    # workspace (ids in keys are per region database). Cancelling releases the key (sets it to
    # NULL), so the same work can be scheduled again.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The scheduler's one query: pending rows by due time.
            models.Index(fields=["status", "due_at"], name="jobs_sched_status_due_idx"),
            models.Index(fields=["workspace_id", "status"], name="jobs_sched_workspace_idx"),
        ]
        constraints = [
            # NULL workspace ids are distinct in a plain unique index, so Tidings' own keys get their own.
            models.UniqueConstraint(
                fields=["workspace_id", "dedupe_key"],
                condition=models.Q(workspace_id__isnull=False),
                name="jobs_sched_workspace_key_unique",
            ),
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=models.Q(workspace_id__isnull=True),
                name="jobs_sched_system_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_path} at {self.due_at:%Y-%m-%d %H:%M:%S} ({self.status})"


class PeriodicJobState(models.Model):
    """When a registered periodic job is next due; survives restarts so no run is skipped or repeated."""

    name = models.CharField(max_length=255, primary_key=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} next at {self.next_run_at:%Y-%m-%d %H:%M:%S}"
