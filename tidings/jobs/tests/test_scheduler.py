"""Delayed work: due rows reach the queue exactly once, in time, and never when cancelled."""

import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tidings.jobs.actions import cancel_scheduled_task, schedule_task
from tidings.jobs.models import ScheduledTask, ScheduledTaskStatus
from tidings.jobs.scheduler import run_due
from tidings.jobs.tests.sample_tasks import note_in_workspace, remember

REMEMBER = "tidings.jobs.tests.sample_tasks.remember"


def queued(task_path=REMEMBER):
    return DBTaskResult.objects.filter(task_path=task_path)


@pytest.fixture
def now():
    return timezone.now()


def test_a_due_row_is_enqueued_once_even_when_run_due_runs_twice(now):
    row = schedule_task(remember, due_at=now - timedelta(seconds=1), workspace_id=None, label="welcome")

    assert run_due(now) == 1
    assert run_due(now) == 0

    assert queued().count() == 1
    assert queued().get().args_kwargs == {"args": [], "kwargs": {"label": "welcome"}}
    row.refresh_from_db()
    assert row.status == ScheduledTaskStatus.ENQUEUED
    assert row.attempts == 1
    assert row.enqueued_at is not None


def test_a_row_not_yet_due_waits_for_its_time(now):
    row = schedule_task(remember, due_at=now + timedelta(minutes=5), workspace_id=None, label="later")

    assert run_due(now) == 0
    assert not queued().exists()

    assert run_due(now + timedelta(minutes=5)) == 1
    row.refresh_from_db()
    assert row.status == ScheduledTaskStatus.ENQUEUED


def test_a_cancelled_row_never_reaches_the_queue(now):
    row = schedule_task(remember, due_at=now + timedelta(minutes=1), workspace_id=None, label="cancelled")

    assert cancel_scheduled_task(scheduled_id=row.pk, workspace_id=None) is True
    assert run_due(now + timedelta(days=1)) == 0

    assert not queued().exists()
    row.refresh_from_db()
    assert row.status == ScheduledTaskStatus.CANCELLED


def test_an_enqueued_row_can_no_longer_be_cancelled(now):
    row = schedule_task(remember, due_at=now, workspace_id=None, label="gone")
    run_due(now)

    assert cancel_scheduled_task(scheduled_id=row.pk, workspace_id=None) is False
    row.refresh_from_db()
    assert row.status == ScheduledTaskStatus.ENQUEUED


def test_a_workspace_cannot_cancel_another_workspaces_work(acme, globex, now):
    row = schedule_task(note_in_workspace, due_at=now, workspace_id=acme.pk, note="acme-only")

    assert cancel_scheduled_task(scheduled_id=row.pk, workspace_id=globex.pk) is False
    row.refresh_from_db()
    assert row.status == ScheduledTaskStatus.PENDING


def test_scheduling_the_same_dedupe_key_twice_keeps_one_row(now):
    first = schedule_task(
        remember, due_at=now, workspace_id=None, dedupe_key="campaign:7:step:3:contact:11", label="step"
    )
    second = schedule_task(
        remember, due_at=now, workspace_id=None, dedupe_key="campaign:7:step:3:contact:11", label="step"
    )

    assert first.pk == second.pk
    assert ScheduledTask.objects.count() == 1


def test_the_same_dedupe_key_in_two_workspaces_is_two_pieces_of_work(acme, globex, now):
    # Ids are per region database, so "step:7" of Acme (EU) and of Globex (US) are different steps.
    acme_step = schedule_task(note_in_workspace, due_at=now, workspace_id=acme.pk, dedupe_key="step:7", note="a")
    globex_step = schedule_task(note_in_workspace, due_at=now, workspace_id=globex.pk, dedupe_key="step:7", note="g")

    assert acme_step.pk != globex_step.pk
    assert {(row.workspace_id, row.kwargs["note"]) for row in ScheduledTask.objects.all()} == {
        (acme.pk, "a"),
        (globex.pk, "g"),
    }


def test_cancelling_by_key_touches_only_the_named_workspace(acme, globex, now):
    schedule_task(note_in_workspace, due_at=now, workspace_id=acme.pk, dedupe_key="step:7", note="a")
    globex_step = schedule_task(note_in_workspace, due_at=now, workspace_id=globex.pk, dedupe_key="step:7", note="g")

    assert cancel_scheduled_task(dedupe_key="step:7", workspace_id=acme.pk) is True
    globex_step.refresh_from_db()
    assert globex_step.status == ScheduledTaskStatus.PENDING


def test_the_workspace_must_be_named_when_scheduling(now):
    with pytest.raises(TypeError):
        schedule_task(remember, due_at=now, label="whose?")


def test_cancelling_releases_the_dedupe_key_for_a_new_schedule(now):
    first = schedule_task(remember, due_at=now, workspace_id=None, dedupe_key="reminder:5", label="old")
    cancel_scheduled_task(dedupe_key="reminder:5", workspace_id=None)

    second = schedule_task(
        remember, due_at=now + timedelta(hours=1), workspace_id=None, dedupe_key="reminder:5", label="new"
    )

    assert second.pk != first.pk
    assert second.status == ScheduledTaskStatus.PENDING


def test_rows_are_enqueued_in_batches_until_none_is_due(now):
    for number in range(7):
        schedule_task(remember, due_at=now - timedelta(seconds=number), workspace_id=None, label=f"n{number}")

    assert run_due(now, batch_size=3) == 7
    assert queued().count() == 7


def test_a_row_whose_task_no_longer_exists_is_cancelled_not_retried(now):
    row = ScheduledTask.objects.create(task_path="tidings.jobs.tests.sample_tasks.not_a_task", due_at=now)

    assert run_due(now) == 0
    row.refresh_from_db()
    assert row.status == ScheduledTaskStatus.CANCELLED


def test_workspace_work_is_enqueued_with_its_workspace_id(acme, now):
    schedule_task(note_in_workspace, due_at=now, workspace_id=acme.pk, note="hello")

    run_due(now)

    result = queued("tidings.jobs.tests.sample_tasks.note_in_workspace").get()
    assert result.args_kwargs["kwargs"] == {"note": "hello", "workspace_id": acme.pk}


def test_schedule_task_refuses_arguments_that_are_not_json(now):
    with pytest.raises(ValidationError):
        schedule_task(remember, due_at=now, workspace_id=None, label=object())


def test_schedule_task_refuses_a_naive_due_time():
    with pytest.raises(ValidationError):
        schedule_task(remember, due_at=timezone.now().replace(tzinfo=None), workspace_id=None, label="naive")


def test_schedule_task_refuses_a_plain_function(now):
    with pytest.raises(TypeError):
        schedule_task(remember.func, due_at=now, workspace_id=None, label="plain")


@pytest.mark.skipif(
    "sqlite" in settings.DATABASES["default"]["ENGINE"] and not settings.DATABASES["default"]["TEST"]["NAME"],
    reason="in-memory SQLite shares one cache between threads, unlike a real deployment; this test runs on "
    "PostgreSQL (bin/test) and on SQLite files (TIDINGS_TEST_SQLITE_FILES=1)",
)
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_concurrent_schedulers_enqueue_each_row_exactly_once():
    now = timezone.now()
    for number in range(40):
        schedule_task(remember, due_at=now, workspace_id=None, label=f"c{number}")
    start = threading.Barrier(2)
    counts, errors = [], []

    def scheduler():
        start.wait()
        try:
            for _attempt in range(200):
                try:
                    counts.append(run_due(now, batch_size=10))
                    return
                except OperationalError as error:
                    # In-memory SQLite test databases share one cache, where a second writer
                    # is refused at once instead of waiting; the scheduler loop retries the
                    # same way on its next pass. PostgreSQL never takes this branch.
                    if "locked" not in str(error):
                        raise
                    time.sleep(0.01)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(counts) == 40
    assert queued().count() == 40
    assert ScheduledTask.objects.filter(status=ScheduledTaskStatus.ENQUEUED, attempts=1).count() == 40
