"""Drive the built-in worker from a test: scheduler passes and batch runs until a condition holds."""

from __future__ import annotations

import signal
import time

from django.core.management import call_command

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)


def run_worker_until(done, *, timeout: float) -> float:
    """Run scheduler passes and the batch worker until done() holds; return the seconds it took.

    timeout bounds a hang (AssertionError), it measures nothing. The worker installs SIGINT/SIGTERM
    handlers for its graceful shutdown: pytest gets its own back afterwards.
    """
    from tidings.jobs import scheduler

    saved = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < timeout:
            scheduler.tick()
            call_command("worker", "--batch", "--no-scheduler", verbosity=0)
            if done():
                return time.perf_counter() - started
            time.sleep(0.05)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    raise AssertionError(f"not done after {timeout}s")
