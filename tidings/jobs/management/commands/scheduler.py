"""`tidings scheduler`: move due delayed tasks and periodic jobs onto the queue, without running tasks."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from tidings.jobs import scheduler


class Command(BaseCommand):
    help = "Run the scheduler alone (use with `tidings worker --no-scheduler`). --once runs one pass."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run one pass and exit.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between passes.")

    def handle(self, *args, once, interval, verbosity, **options):
        if once:
            enqueued, periodic = scheduler.tick()
            if verbosity:
                self.stdout.write(f"scheduler: {enqueued} delayed task(s), periodic: {', '.join(periodic) or '-'}")
            return
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            if verbosity:
                self.stdout.write(f"scheduler running every {interval:g}s; Ctrl+C to stop")
            scheduler.run_forever(stop, interval=interval)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
