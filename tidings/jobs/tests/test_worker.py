"""End to end: scheduled work is executed by the real django_tasks_db worker."""

import signal
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tidings.audit.models import AuditEntry
from tidings.jobs.actions import schedule_task
from tidings.jobs.models import ScheduledTask, ScheduledTaskStatus
from tidings.jobs.tests.sample_tasks import note_in_workspace, remember

# The worker runs for real, so it needs committed data and autocommit connections: in a test
# transaction its close_old_connections() would close (on PostgreSQL) the connection holding the test.
in_committed_transactions = pytest.mark.django_db(transaction=True, databases="__all__")


@pytest.fixture(autouse=True)
def _keep_signal_handlers():
    """The worker installs SIGINT/SIGTERM handlers for graceful shutdown; give pytest its own back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@in_committed_transactions
def test_a_scheduled_tenant_task_is_run_by_the_db_worker_inside_its_workspace(acme, calls, monkeypatch):
    monkeypatch.setattr("tidings.jobs.scheduler.PERIODIC_JOBS", {})
    schedule_task(note_in_workspace, due_at=timezone.now() - timedelta(seconds=1), workspace_id=acme.pk, note="e2e")

    call_command("worker", "--batch", verbosity=0)

    assert calls == [("note", acme.pk, "acme", "e2e")]
    assert AuditEntry.objects.using("region_eu").filter(workspace_id=acme.pk, action="test.noted").count() == 1
    result = DBTaskResult.objects.get(task_path="tidings.jobs.tests.sample_tasks.note_in_workspace")
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == "acme"
    assert ScheduledTask.objects.get().status == ScheduledTaskStatus.ENQUEUED


@in_committed_transactions
def test_the_worker_leaves_work_that_is_not_yet_due(calls, monkeypatch):
    monkeypatch.setattr("tidings.jobs.scheduler.PERIODIC_JOBS", {})
    schedule_task(remember, due_at=timezone.now() + timedelta(hours=1), workspace_id=None, label="tomorrow")

    call_command("worker", "--batch", verbosity=0)

    assert calls == []
    assert ScheduledTask.objects.get().status == ScheduledTaskStatus.PENDING


@in_committed_transactions
def test_a_batch_worker_runs_the_periodic_housekeeping(calls):
    call_command("worker", "--batch", verbosity=0)

    finished = DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).values_list("task_path", flat=True)
    assert {"tidings.audit.tasks.verify_audit_chains", "tidings.jobs.tasks.clear_expired_sessions"} <= set(finished)


def test_the_scheduler_command_alone_only_enqueues(calls, monkeypatch):
    monkeypatch.setattr("tidings.jobs.scheduler.PERIODIC_JOBS", {})
    schedule_task(remember, due_at=timezone.now(), workspace_id=None, label="queued-only")

    call_command("scheduler", "--once", verbosity=0)

    assert calls == []
    assert DBTaskResult.objects.get().status == TaskResultStatus.READY


def test_with_redis_the_worker_runs_rqs_worker_with_the_django_tasks_job_class(monkeypatch):
    calls = []
    monkeypatch.setattr("tidings.jobs.management.commands.worker.uses_rq", lambda: True)
    monkeypatch.setattr(
        "tidings.jobs.management.commands.worker.call_command", lambda *args, **kwargs: calls.append((args, kwargs))
    )

    call_command("worker", "--batch", "--no-scheduler", verbosity=0)

    ((args, kwargs),) = calls
    assert args == ("rqworker", "default")
    assert kwargs["job_class"] == "django_tasks_rq.Job"
    assert kwargs["burst"] is True
    assert kwargs["with_scheduler"] is True
