"""Move due work onto the task queue: delayed rows (ScheduledTask) and periodic jobs.

Delivery guarantees:

- With the database backend (django_tasks_db, the default) the queue table lives in the
  global database beside ScheduledTask, so a row's status change and its enqueue commit in
  one transaction: a crash before the commit leaves the row pending and nothing queued, a
  crash after leaves it enqueued and queued once. Exactly once.
- With RQ (TIDINGS_REDIS_URL) the enqueue goes to Redis before the database commits. A crash,
  or a failed commit, between the two leaves the row pending, and the next pass enqueues it
  again: at least once. Tasks must therefore be idempotent (thin tasks that re-fetch and
  call an action which checks its own state).

Concurrent schedulers are safe on both: PostgreSQL rows are taken with SELECT ... FOR UPDATE
SKIP LOCKED, SQLite transactions are IMMEDIATE (one writer at a time), and every claim is a
conditional UPDATE on the pending status, so only one pass can claim a row.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from django.db import DatabaseError, close_old_connections, connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.base import Task

from tidings.jobs.models import PeriodicJobState, ScheduledTask, ScheduledTaskStatus
from tidings.jobs.periodic import PERIODIC_JOBS

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


def _task_for(row: ScheduledTask) -> Task | None:
    try:
        task = import_string(row.task_path)
    except ImportError:
        return None
    return task if isinstance(task, Task) else None


def run_due(now: datetime | None = None, *, batch_size: int = BATCH_SIZE) -> int:
    """Enqueue every pending scheduled task due at now (default: the current time); return how many.

    A row whose task no longer exists in the code is cancelled and logged as an error rather
    than retried forever. Raise DatabaseError when the global database is unreachable.
    """
    now = now or timezone.now()
    enqueued = 0
    while True:
        with transaction.atomic(using="default"):
            rows = list(
                ScheduledTask.objects.select_for_update(skip_locked=True)
                .filter(status=ScheduledTaskStatus.PENDING, due_at__lte=now)
                .order_by("due_at", "pk")[:batch_size]
            )
            for row in rows:
                task = _task_for(row)
                if task is None:
                    logger.error("cancelling scheduled task %s: %s is not a task", row.pk, row.task_path)
                    ScheduledTask.objects.filter(pk=row.pk, status=ScheduledTaskStatus.PENDING).update(
                        status=ScheduledTaskStatus.CANCELLED, dedupe_key=None
                    )
                    continue
                claimed = ScheduledTask.objects.filter(pk=row.pk, status=ScheduledTaskStatus.PENDING).update(
                    status=ScheduledTaskStatus.ENQUEUED, enqueued_at=timezone.now(), attempts=F("attempts") + 1
                )
                if not claimed:
                    continue  # cancelled, or taken by another scheduler, since we read it
                kwargs = dict(row.kwargs)
                if row.workspace_id is not None:
                    kwargs["workspace_id"] = row.workspace_id
                task.enqueue(**kwargs)
                enqueued += 1
        if len(rows) < batch_size:
            return enqueued


def next_run_after(previous: datetime, every: timedelta, now: datetime) -> datetime:
    """Return the first time after now on previous's grid of periods.

    After downtime the missed runs collapse into the one run happening now, and the job keeps
    its time of day instead of drifting by the scheduler's delay.
    """
    if previous > now:
        return previous
    periods = (now - previous) // every + 1
    return previous + periods * every


def run_periodic(now: datetime | None = None) -> list[str]:
    """Enqueue every registered periodic job whose time has come; return their names.

    A job seen for the first time runs now. Its state row then moves to the next period
    boundary in the same transaction as the enqueue (see the module docstring for RQ).
    """
    now = now or timezone.now()
    names = sorted(PERIODIC_JOBS)
    if not names:
        return []
    known = set(PeriodicJobState.objects.filter(name__in=names).values_list("name", flat=True))
    PeriodicJobState.objects.bulk_create(
        [PeriodicJobState(name=name, next_run_at=now) for name in names if name not in known],
        ignore_conflicts=True,  # another scheduler may create the same rows at the same time
    )
    ran = []
    with transaction.atomic(using="default"):
        due = (
            PeriodicJobState.objects.select_for_update(skip_locked=True)
            .filter(name__in=names, next_run_at__lte=now)
            .order_by("name")
        )
        for state in due:
            job = PERIODIC_JOBS[state.name]
            advanced = PeriodicJobState.objects.filter(pk=state.pk, next_run_at=state.next_run_at).update(
                next_run_at=next_run_after(state.next_run_at, job.every, now), last_run_at=now
            )
            if advanced:
                job.task.enqueue()
                ran.append(state.name)
    return ran


def tick(now: datetime | None = None) -> tuple[int, list[str]]:
    """Run one scheduler pass: delayed rows, then periodic jobs."""
    now = now or timezone.now()
    return run_due(now), run_periodic(now)


def run_forever(stop: threading.Event, *, interval: float = 1.0) -> None:
    """Run scheduler passes every interval seconds until stop is set.

    A failing pass (database locked or unreachable) is logged and retried on the next one,
    so a database restart does not end the scheduler.
    """
    try:
        while not stop.is_set():
            close_old_connections()
            try:
                enqueued, periodic = tick()
                if enqueued or periodic:
                    logger.info("scheduler enqueued %d delayed task(s) and %s", enqueued, periodic or "no periodic job")
            except DatabaseError:
                logger.exception("scheduler pass failed; retrying in %.1fs", interval)
            stop.wait(interval)
    finally:
        connections.close_all()


def start_in_thread(*, interval: float = 1.0) -> tuple[threading.Thread, threading.Event]:
    """Start the scheduler loop in a daemon thread of this process; return it and its stop event."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever, args=(stop,), kwargs={"interval": interval}, name="tidings-scheduler", daemon=True
    )
    thread.start()
    return thread, stop
