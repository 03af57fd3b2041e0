"""Periodic jobs run once per period, and a restart neither skips nor repeats a run."""

from datetime import UTC, datetime, timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from tidings.jobs.models import PeriodicJobState
from tidings.jobs.periodic import PERIODIC_JOBS, PeriodicJob, periodic
from tidings.jobs.scheduler import next_run_after, run_periodic
from tidings.jobs.tests.sample_tasks import remember

NOON = datetime(2031, 3, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def daily_job(monkeypatch):
    job = PeriodicJob(name="daily-remember", task=remember, every=timedelta(days=1))
    monkeypatch.setattr("tidings.jobs.scheduler.PERIODIC_JOBS", {job.name: job})
    return job


def runs():
    return DBTaskResult.objects.filter(task_path="tidings.jobs.tests.sample_tasks.remember").count()


def test_a_new_periodic_job_runs_on_the_first_pass(daily_job):
    assert run_periodic(NOON) == ["daily-remember"]

    assert runs() == 1
    assert PeriodicJobState.objects.get(pk="daily-remember").next_run_at == NOON + timedelta(days=1)


def test_a_periodic_job_runs_once_per_period(daily_job):
    run_periodic(NOON)

    assert run_periodic(NOON + timedelta(hours=1)) == []
    assert run_periodic(NOON + timedelta(hours=23, minutes=59)) == []
    assert run_periodic(NOON + timedelta(days=1)) == ["daily-remember"]
    assert run_periodic(NOON + timedelta(days=1, seconds=1)) == []

    assert runs() == 2


def test_after_downtime_missed_runs_collapse_into_one_and_the_time_of_day_is_kept(daily_job):
    run_periodic(NOON)

    assert run_periodic(NOON + timedelta(days=3, hours=5)) == ["daily-remember"]

    assert runs() == 2
    assert PeriodicJobState.objects.get(pk="daily-remember").next_run_at == NOON + timedelta(days=4)


def test_a_restarted_scheduler_does_not_repeat_a_run(daily_job, monkeypatch):
    run_periodic(NOON)
    # A new process registers the same job again from its tasks module; the state row decides.
    monkeypatch.setattr("tidings.jobs.scheduler.PERIODIC_JOBS", {daily_job.name: daily_job})

    assert run_periodic(NOON + timedelta(minutes=1)) == []
    assert runs() == 1


def test_next_run_after_stays_on_the_grid():
    every = timedelta(hours=6)

    assert next_run_after(NOON, every, NOON) == NOON + every
    assert next_run_after(NOON, every, NOON + timedelta(hours=13)) == NOON + timedelta(hours=18)
    assert next_run_after(NOON + every, every, NOON) == NOON + every


def test_the_platform_registers_its_housekeeping_jobs():
    assert {
        "tidings.audit.tasks.verify_audit_chains",
        "tidings.jobs.tasks.prune_finished_work",
        "tidings.jobs.tasks.clear_expired_sessions",
    } <= set(PERIODIC_JOBS)
    assert PERIODIC_JOBS["tidings.audit.tasks.verify_audit_chains"].every == timedelta(days=1)


def test_periodic_decorates_tasks_only():
    with pytest.raises(TypeError):
        periodic(every=timedelta(hours=1))(remember.func)


def test_periodic_refuses_a_period_under_a_second():
    with pytest.raises(ValueError):
        periodic(every=timedelta(milliseconds=10))
