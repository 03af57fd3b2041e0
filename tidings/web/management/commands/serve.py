"""`tidings serve`: migrate, then run the web server (Granian, WSGI), the tracking flusher and the worker as
child processes."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

# How long children get to finish their requests and tasks after SIGTERM before SIGKILL.
STOP_GRACE_SECONDS = 15
# A child that dies is started again after a pause that doubles with each quick death (capped);
# one that dies this many times in a row, each time within QUICK_DEATH_SECONDS of its start, is
# misconfigured rather than unlucky, and serve stops with its exit code.
RESPAWN_FIRST_PAUSE = 0.5
RESPAWN_MAX_PAUSE = 30.0
QUICK_DEATH_SECONDS = 10.0
QUICK_DEATHS_BEFORE_GIVING_UP = 5
# Python threads per web worker. Granian's default for WSGI is half its backpressure (256 a worker
# here), all taking the GIL from each other: on 2 cores, 2-4 threads a worker took the web CPU of a
# tracking hit from 0.20-0.32 to 0.18-0.22 ms and its p99 from ~260-290 to ~90-100 ms (bench_tracking.py,
# alternated runs at load 11-17; docs/decisions/0038).
BLOCKING_THREADS = 4
# How children are started: each in a process group of its own, so a terminal's Ctrl+C (sent to the foreground
# group) reaches them once, through us; but in our session, not a session each. Linux schedules each session as
# one group (autogroup) and shares the CPU between groups equally: a flusher in a session of its own took a
# whole core from the two web workers at each pass, and they queued (p99 at 5,300 hits/s 15.3-19.3 ms apart,
# 10.3-13.7 ms together: docs/decisions/0045).
CHILD_PROCESS_GROUP = 0  # Popen(process_group=0): a group of its own, numbered by its pid


def ensure_port_free(host: str, port: int) -> None:
    """Raise CommandError when something already listens on host:port.

    Granian binds with SO_REUSEPORT, so a second server on a busy port would start silently
    and the two would split the traffic; a plain bind (without that option) fails instead.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Sockets in TIME_WAIT from a previous run are not a server: let those be reused.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise CommandError(
                    f"{host}:{port} is already in use (another Tidings or another server?). "
                    "Stop it, or set TIDINGS_BIND to a free address."
                ) from error
            raise CommandError(f"cannot listen on {host}:{port}: {error.strerror}") from error


def parse_bind(bind: str) -> tuple[str, int]:
    """Split 'host:port' (or '[v6]:port') into host and port; raise CommandError when malformed."""
    host, separator, port = bind.rpartition(":")
    if not separator or not port.isdigit():
        raise CommandError(f"TIDINGS_BIND must look like 127.0.0.1:8000, not {bind!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


class Command(BaseCommand):
    help = (
        "Serve Tidings: run migrations, then Granian (WSGI) on TIDINGS_BIND, the tracking flusher and the task "
        "worker with its scheduler. Restarts a child that dies; stops everything on Ctrl+C or SIGTERM, or when a "
        "child keeps dying right after its start."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-migrate", action="store_true", help="Skip `tidings migrate`.")
        parser.add_argument("--no-worker", action="store_true", help="Serve the web only (run workers apart).")
        parser.add_argument("--workers", type=int, default=2, help="Web worker processes (default 2).")
        parser.add_argument(
            "--threads", type=int, default=BLOCKING_THREADS,
            help=f"Python threads a web worker (default {BLOCKING_THREADS}): requests a worker runs at once.",
        )  # fmt: skip

    def child_commands(
        self, *, host: str, port: int, workers: int, with_worker: bool, threads: int = BLOCKING_THREADS
    ) -> list[tuple[str, list[str]]]:
        """Return (name, argv) of each child process to run."""
        python = sys.executable
        children = [
            (
                "web",
                [
                    python,
                    "-m",
                    "granian",
                    "--interface",
                    "wsgi",
                    "--host",
                    host,
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                    "--blocking-threads",
                    str(threads),
                    "--no-ws",
                    # A web worker killed (say, by the out-of-memory killer) is replaced, not fatal.
                    "--respawn-failed-workers",
                    "--respawn-interval",
                    "1",
                    "tidings.wsgi:application",
                ],
            )
        ]
        # Tracking hits are persisted by a process of their own (the web processes only spool them:
        # TIDINGS_TRACKING_FLUSHER=process below); it reads this machine's spool folder, so it runs with the web.
        children.append(("flusher", [python, "-m", "tidings.cli", "flusher"]))
        if with_worker:
            children.append(("worker", [python, "-m", "tidings.cli", "worker"]))
            # More task workers (TIDINGS_TASK_WORKERS, default the send lanes: decision 0036) take a send's
            # lanes at once; the scheduler runs in the first only.
            extra = int(getattr(settings, "TIDINGS_TASK_WORKERS", 1)) - 1
            children += [(f"worker-{i + 2}", [python, "-m", "tidings.cli", "worker", "--no-scheduler"])
                         for i in range(max(0, extra))]  # fmt: skip
        return children

    def handle(self, *args, no_migrate, no_worker, workers, threads, verbosity, **options):
        host, port = parse_bind(settings.TIDINGS_BIND)
        ensure_port_free(host, port)
        if not no_migrate:
            call_command("migrate", verbosity=0)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "tidings.settings"),
            "TIDINGS_TRACKING_FLUSHER": "process",
        }
        commands = self.child_commands(
            host=host, port=port, workers=workers, with_worker=not no_worker, threads=threads
        )
        stop_signal: list[int] = []

        def forward(signum, _frame):
            stop_signal.append(signum)

        previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
        argv_of = dict(commands)
        children: list[tuple[str, subprocess.Popen]] = []
        started_at: dict[str, float] = {}
        quick_deaths: dict[str, int] = dict.fromkeys(argv_of, 0)
        restart_at: dict[str, float] = {}

        def start(name: str) -> None:
            process = subprocess.Popen(argv_of[name], env=env, process_group=CHILD_PROCESS_GROUP)  # noqa: S603
            children[:] = [c for c in children if c[0] != name] + [(name, process)]
            started_at[name] = time.monotonic()

        try:
            for name in argv_of:
                start(name)
            shown_host = f"[{host}]" if ":" in host else host
            self.stdout.write(f"Tidings is serving at http://{shown_host}:{port}/  (Ctrl+C to stop)")
            self.stdout.flush()
            while True:
                if stop_signal:
                    self._stop(children, stop_signal[0])
                    return
                now = time.monotonic()
                for name, process in list(children):
                    code = process.poll()
                    if code is None or name in restart_at:
                        continue
                    quick = now - started_at[name] < QUICK_DEATH_SECONDS
                    quick_deaths[name] = quick_deaths[name] + 1 if quick else 1
                    if quick_deaths[name] >= QUICK_DEATHS_BEFORE_GIVING_UP:
                        self._stop([c for c in children if c[1] is not process], signal.SIGTERM)
                        raise CommandError(
                            f"the {name} process keeps exiting right after its start (code {code}); stopped",
                            returncode=code or 1,
                        )
                    pause = min(RESPAWN_MAX_PAUSE, RESPAWN_FIRST_PAUSE * 2 ** (quick_deaths[name] - 1))
                    self.stderr.write(f"the {name} process exited with code {code}; restarting in {pause:g} s")
                    restart_at[name] = now + pause
                for name, when in list(restart_at.items()):
                    if now >= when:
                        del restart_at[name]
                        start(name)
                time.sleep(0.2)
        finally:
            self._stop(children, signal.SIGTERM)
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @classmethod
    def _stop(cls, children, signum: int) -> None:
        """Stop the web first, then the others: hits the web answers while it drains reach the spools, and
        the flusher, stopped after it, persists them in its last drain instead of leaving them to the next start.
        """
        cls._signal_and_wait([c for c in children if c[0] == "web"], signum)
        cls._signal_and_wait([c for c in children if c[0] != "web"], signum)

    @staticmethod
    def _signal_and_wait(children, signum: int) -> None:
        """Send signum to every running child, wait for them, kill those that outlive the grace period."""
        running = [process for _name, process in children if process.poll() is None]
        for process in running:
            process.send_signal(signum)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
