"""enqueue_once: a burst of wake-ups queues one run per workspace; a wake-up after the run started queues another."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tidings.jobs.actions import COALESCE_STALE, enqueue_once
from tidings.jobs.models import ScheduledTask
from tidings.jobs.tests import sample_tasks
from tidings.jobs.tests.sample_tasks import wake_workspace

WAKE = "tidings.jobs.tests.sample_tasks.wake_workspace"


def queued(workspace_id):
    return DBTaskResult.objects.filter(task_path=WAKE, args_kwargs__kwargs__workspace_id=workspace_id)


def test_a_burst_of_wake_ups_queues_one_run_per_workspace(acme, globex):
    assert [enqueue_once(wake_workspace, workspace_id=acme.pk) for _ in range(50)] == [True] + [False] * 49
    assert enqueue_once(wake_workspace, workspace_id=globex.pk)

    assert queued(acme.pk).count() == 1
    assert queued(globex.pk).count() == 1  # another workspace's run is its own


def test_a_wake_up_during_a_running_turn_queues_one_more(acme, calls):
    assert enqueue_once(wake_workspace, workspace_id=acme.pk)
    woken: list[bool] = []
    sample_tasks.WHILE_RUNNING.append(lambda: woken.append(enqueue_once(wake_workspace, workspace_id=acme.pk)))

    wake_workspace.call(workspace_id=acme.pk)  # the worker starts the queued run

    assert calls == [("wake", acme.pk)]
    assert woken == [True]  # the run had started: the wake-up was not swallowed
    assert queued(acme.pk).count() == 2
    assert not enqueue_once(wake_workspace, workspace_id=acme.pk)  # the new one is queued, not started
    assert queued(acme.pk).count() == 2


def test_a_started_run_releases_only_its_own_workspace(acme, globex):
    enqueue_once(wake_workspace, workspace_id=acme.pk)
    enqueue_once(wake_workspace, workspace_id=globex.pk)

    wake_workspace.call(workspace_id=acme.pk)

    assert enqueue_once(wake_workspace, workspace_id=acme.pk)
    assert not enqueue_once(wake_workspace, workspace_id=globex.pk)


def test_a_lost_run_holds_the_key_only_until_it_is_stale(acme):
    enqueue_once(wake_workspace, workspace_id=acme.pk)
    ScheduledTask.objects.filter(workspace_id=acme.pk).update(enqueued_at=timezone.now() - COALESCE_STALE * 2)

    assert enqueue_once(wake_workspace, workspace_id=acme.pk)  # taken over once
    assert not enqueue_once(wake_workspace, workspace_id=acme.pk)
    assert queued(acme.pk).count() == 2
    assert ScheduledTask.objects.filter(workspace_id=acme.pk).count() == 1


def test_the_scheduler_leaves_coalescing_rows_alone(acme):
    from tidings.jobs.scheduler import run_due

    enqueue_once(wake_workspace, workspace_id=acme.pk)

    assert run_due(timezone.now() + timedelta(days=1)) == 0
    assert queued(acme.pk).count() == 1


def test_enqueue_once_takes_a_task():
    with pytest.raises(TypeError):
        enqueue_once(WAKE, workspace_id=None)


def test_a_run_the_queue_refused_does_not_hold_the_key(acme, monkeypatch):
    from django_tasks_db.backend import DatabaseBackend

    def down(self, task, args, kwargs):
        raise ConnectionError("queue unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(DatabaseBackend, "enqueue", down)
        with pytest.raises(ConnectionError):
            enqueue_once(wake_workspace, workspace_id=acme.pk)
    assert enqueue_once(wake_workspace, workspace_id=acme.pk)  # the next wake-up queues it
    assert queued(acme.pk).count() == 1
