"""`tidings serve` supervises its children: forwards signals, stops when one dies, serves the login page."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tidings.web.management.commands.serve import Command as Serve
from tidings.web.management.commands.serve import parse_bind

SLEEPER = (
    "import pathlib, signal, sys, time\n"
    "mark = pathlib.Path(sys.argv[1])\n"
    "signal.signal(signal.SIGTERM, lambda *_: (mark.write_text('stopped by SIGTERM'), sys.exit(0)))\n"
    "mark.write_text('ready')\n"
    "time.sleep(60)\n"
)


def wait_for(predicate, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def children(monkeypatch, tmp_path):
    """Replace the web server and worker by small Python processes that report how they ended."""
    marks = {"web": tmp_path / "web", "worker": tmp_path / "worker"}
    plan = {name: [sys.executable, "-c", SLEEPER, str(mark)] for name, mark in marks.items()}
    monkeypatch.setattr(Serve, "child_commands", lambda self, **_: list(plan.items()))
    return plan, marks


def test_serve_stops_every_child_when_one_dies(children):
    plan, marks = children
    plan["worker"] = [sys.executable, "-c", "import sys; sys.exit(3)"]

    with pytest.raises(CommandError, match="worker process exited with code 3") as raised:
        call_command("serve", "--no-migrate")

    assert raised.value.returncode == 3
    assert marks["web"].read_text() == "stopped by SIGTERM"


def test_serve_forwards_sigterm_to_its_children_and_exits(children):
    _plan, marks = children

    def terminate_when_ready():
        if wait_for(lambda: all(m.exists() for m in marks.values())):
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_when_ready, daemon=True).start()
    before = signal.getsignal(signal.SIGTERM)

    call_command("serve", "--no-migrate")

    assert {name: mark.read_text() for name, mark in marks.items()} == {
        "web": "stopped by SIGTERM",
        "worker": "stopped by SIGTERM",
    }
    assert signal.getsignal(signal.SIGTERM) is before


def test_parse_bind_reads_host_and_port():
    assert parse_bind("127.0.0.1:8000") == ("127.0.0.1", 8000)
    assert parse_bind("[::1]:9000") == ("::1", 9000)
    with pytest.raises(CommandError):
        parse_bind("localhost")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_tidings_command_serves_the_login_page(tmp_path):
    """The real thing: a fresh var dir, `tidings serve` migrates, Granian answers, SIGINT stops it."""
    port = free_port()
    env = {**os.environ, "TIDINGS_VAR_DIR": str(tmp_path / "var"), "TIDINGS_BIND": f"127.0.0.1:{port}"}
    # The child gets databases of its own in tmp_path, never the suite's (SQLite or PostgreSQL).
    for name in (
        "DJANGO_SETTINGS_MODULE",
        "TIDINGS_DATABASE_URL",
        "TIDINGS_DATABASE_URL_US",
        "TIDINGS_DATABASE_URL_EU",
    ):
        env.pop(name, None)
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "tidings.cli", "serve", "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def login_page():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2) as response:  # noqa: S310
                    return response.status == 200 and b"password" in response.read().lower()
            except OSError:
                return False

        assert wait_for(login_page, seconds=60), "the login page never answered"
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0
    assert f"http://127.0.0.1:{port}/" in output
    assert Path(tmp_path / "var" / "global.sqlite3").exists()
