"""`tidings serve`: migrate, then run the web server (Granian, WSGI) and the worker as child processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

# How long children get to finish their requests and tasks after SIGTERM before SIGKILL.
STOP_GRACE_SECONDS = 15


def parse_bind(bind: str) -> tuple[str, int]:
    """Split 'host:port' (or '[v6]:port') into host and port; raise CommandError when malformed."""
    host, separator, port = bind.rpartition(":")
    if not separator or not port.isdigit():
        raise CommandError(f"TIDINGS_BIND must look like 127.0.0.1:8000, not {bind!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


class Command(BaseCommand):
    help = (
        "Serve Tidings: run migrations, then Granian (WSGI) on TIDINGS_BIND and the task worker with its "
        "scheduler. Stops everything on Ctrl+C or SIGTERM, and when either child exits."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-migrate", action="store_true", help="Skip `tidings migrate`.")
        parser.add_argument("--no-worker", action="store_true", help="Serve the web only (run workers apart).")
        parser.add_argument("--workers", type=int, default=2, help="Web worker processes (default 2).")

    def child_commands(self, *, host: str, port: int, workers: int, with_worker: bool) -> list[tuple[str, list[str]]]:
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
                    "--no-ws",
                    "tidings.wsgi:application",
                ],
            )
        ]
        if with_worker:
            children.append(("worker", [python, "-m", "tidings.cli", "worker"]))
        return children

    def handle(self, *args, no_migrate, no_worker, workers, verbosity, **options):
        host, port = parse_bind(settings.TIDINGS_BIND)
        if not no_migrate:
            call_command("migrate", verbosity=0)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "tidings.settings")}
        commands = self.child_commands(host=host, port=port, workers=workers, with_worker=not no_worker)
        stop_signal: list[int] = []

        def forward(signum, _frame):
            stop_signal.append(signum)

        previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
        children: list[tuple[str, subprocess.Popen]] = []
        try:
            for name, argv in commands:
                # A session of their own, so a terminal's Ctrl+C reaches them once, through us.
                children.append((name, subprocess.Popen(argv, env=env, start_new_session=True)))  # noqa: S603
            shown_host = f"[{host}]" if ":" in host else host
            self.stdout.write(f"Tidings is serving at http://{shown_host}:{port}/  (Ctrl+C to stop)")
            self.stdout.flush()
            while True:
                if stop_signal:
                    self._stop(children, stop_signal[0])
                    return
                for name, process in children:
                    code = process.poll()
                    if code is not None:
                        self._stop([c for c in children if c[1] is not process], signal.SIGTERM)
                        raise CommandError(f"the {name} process exited with code {code}; stopped", returncode=code or 1)
                time.sleep(0.2)
        finally:
            self._stop(children, signal.SIGTERM)
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @staticmethod
    def _stop(children, signum: int) -> None:
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
