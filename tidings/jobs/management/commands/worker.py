"""`tidings worker`: run queued tasks, with the scheduler in the same process unless --no-scheduler."""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django_tasks import task_backends

from tidings.conf import require_keys
from tidings.jobs import scheduler


def uses_rq() -> bool:
    return str(settings.TASKS["default"]["BACKEND"]).startswith("django_tasks_rq")


class Command(BaseCommand):
    help = (
        "Run background tasks: django_tasks_db's worker, or RQ's when TIDINGS_REDIS_URL is set. "
        "The scheduler (delayed and periodic work) runs in the same process unless --no-scheduler."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-scheduler", action="store_true", help="Run tasks only; run `tidings scheduler` apart."
        )
        parser.add_argument(
            "--batch", action="store_true", help="Run one scheduler pass, then every queued task, then exit."
        )
        parser.add_argument("--max-tasks", type=int, default=None, help="Exit after running this many tasks.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls of an empty queue.")
        parser.add_argument("--scheduler-interval", type=float, default=1.0, help="Seconds between scheduler passes.")

    def handle(self, *args, no_scheduler, batch, max_tasks, interval, scheduler_interval, verbosity, **options):
        require_keys()  # tasks decrypt and sign: stop now, naming `tidings init`, rather than at the first task
        queues = sorted(task_backends["default"].queues or {"default"})
        if batch:
            if not no_scheduler:
                enqueued, periodic = scheduler.tick()
                if verbosity:
                    self.stdout.write(f"scheduler: {enqueued} delayed task(s), periodic: {', '.join(periodic) or '-'}")
            self._run_worker(queues, batch=True, max_tasks=max_tasks, interval=interval, verbosity=verbosity)
            return
        thread = stop = None
        if not no_scheduler:
            thread, stop = scheduler.start_in_thread(interval=scheduler_interval)
        try:
            self._run_worker(queues, batch=False, max_tasks=max_tasks, interval=interval, verbosity=verbosity)
        finally:
            if stop is not None and thread is not None:
                stop.set()
                thread.join(timeout=10)

    def _run_worker(self, queues, *, batch, max_tasks, interval, verbosity):
        if uses_rq():
            call_command(
                "rqworker",
                *queues,
                job_class="django_tasks_rq.Job",
                # RQ's own scheduler moves tasks enqueued with run_after onto the queue.
                with_scheduler=True,
                burst=batch,
                max_jobs=max_tasks,
                verbosity=verbosity,
            )
            return
        call_command(
            "db_worker",
            queue_name=",".join(queues),
            batch=batch,
            max_tasks=max_tasks,
            interval=interval,
            reload=False,
            startup_delay=not batch,
            verbosity=verbosity,
        )
