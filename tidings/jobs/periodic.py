"""The registry of periodic jobs: tasks the scheduler enqueues once per period.

    @periodic(every=timedelta(days=1))
    @task()
    def verify_audit_chains(): ...

The decorator only registers; the scheduler (tidings.jobs.scheduler.run_periodic) keeps a
PeriodicJobState row per job so a restart neither skips nor repeats a run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django_tasks.base import Task


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: Task
    every: timedelta


PERIODIC_JOBS: dict[str, PeriodicJob] = {}


def periodic(*, every: timedelta, name: str | None = None) -> Callable[[Task], Task]:
    """Register the decorated task to run once every period; return the task unchanged.

    The job's name defaults to the task's import path. Raise TypeError when the decorated
    object is not a task (put @periodic above @task), ValueError on a period under a second
    or a name registered twice for different tasks.
    """
    if every < timedelta(seconds=1):
        raise ValueError("a periodic job needs a period of at least one second")

    def register(task: Task) -> Task:
        if not isinstance(task, Task):
            raise TypeError("@periodic decorates a task: put it above @task()")
        job_name = name or task.module_path
        existing = PERIODIC_JOBS.get(job_name)
        if existing is not None and existing.task.module_path != task.module_path:
            raise ValueError(f"periodic job {job_name!r} is already registered for {existing.task.module_path}")
        PERIODIC_JOBS[job_name] = PeriodicJob(name=job_name, task=task, every=every)
        return task

    return register
