"""`tidings flusher`: persist the tracking spools in a process of its own (started by `tidings serve`)."""

from __future__ import annotations

import gc
import signal
import threading

from django.core.management.base import BaseCommand

from tidings.tracking.collect.flusher import PROCESS_BATCH, PROCESS_INTERVAL_SECONDS, FlusherProcess


class Command(BaseCommand):
    help = (
        "Drain the collect endpoints' spool files (live and orphaned) into the database, twice a second, "
        "so the web processes never persist hits themselves. The web processes hand it their spools when "
        "TIDINGS_TRACKING_FLUSHER=process (`tidings serve` sets it and runs this command). One per spool folder: "
        "a second one waits for the first to stop. SIGTERM or Ctrl+C: drain once more, then exit."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=PROCESS_INTERVAL_SECONDS, help="Seconds between passes.")
        parser.add_argument("--batch", type=int, default=PROCESS_BATCH, help="Hits per transaction.")

    def handle(self, *args, interval, batch, verbosity, **options):
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        # Django and the apps stay loaded for the process's life: frozen, the cyclic collector stops walking them at
        # each full collection, which a batch's thousands of short-lived records set off (decision 0042).
        gc.collect()
        gc.freeze()
        flusher = FlusherProcess(interval=interval, batch=batch)
        while not flusher.acquire(blocking=False):
            if stop.wait(1.0):  # another flusher holds the folder: take over when it stops
                return
        try:
            if verbosity > 1:
                self.stdout.write(f"flusher: draining {flusher.directory}")
            flusher.run(stop)
        finally:
            flusher.release()
