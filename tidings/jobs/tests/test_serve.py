"""`tidings serve` supervises its children: forwards signals, stops when one dies, serves the login page."""

import os
import shutil
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

# Runs on SQLite only (bin/test): nothing here reaches the suite's database (the real `tidings serve` below
# gets SQLite databases of its own whatever the suite runs on); conftest.py checks the in-process part.
pytestmark = pytest.mark.engine_independent

SLEEPER = (
    "import pathlib, signal, sys, time\n"
    "mark = pathlib.Path(sys.argv[1])\n"
    "signal.signal(signal.SIGTERM, lambda *_: (mark.write_text('stopped by SIGTERM'), sys.exit(0)))\n"
    "mark.write_text('ready')\n"
    "time.sleep(600)\n"
)


# Waits bound a hang, they do not measure speed: on a loaded 2-core machine a fresh `tidings
# serve` (migrations included) has taken over a minute, so the bounds are generous and the
# waits end early when the awaited process has died.
HANG = 300.0


def wait_for(predicate, seconds=HANG / 5, *, unless_dead=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        if unless_dead is not None and unless_dead.poll() is not None:
            return False
        time.sleep(0.05)
    return False


@pytest.fixture
def children(monkeypatch, tmp_path):
    """Replace the web server and worker by small Python processes that report how they ended."""
    marks = {"web": tmp_path / "web", "worker": tmp_path / "worker"}
    plan = {name: [sys.executable, "-c", SLEEPER, str(mark)] for name, mark in marks.items()}
    monkeypatch.setattr(Serve, "child_commands", lambda self, **_: list(plan.items()))
    return plan, marks


@pytest.fixture
def quick_respawn(monkeypatch):
    from tidings.web.management.commands import serve

    monkeypatch.setattr(serve, "RESPAWN_FIRST_PAUSE", 0.05)


def test_serve_restarts_a_child_that_dies_and_keeps_the_others(children, quick_respawn, tmp_path):
    plan, marks = children
    starts = tmp_path / "worker-starts"
    # The worker dies on its first start (as if killed) and runs normally from the second on.
    plan["worker"] = [
        sys.executable,
        "-c",
        "import pathlib, sys\n"
        f"starts = pathlib.Path({str(starts)!r})\n"
        "count = int(starts.read_text()) + 1 if starts.exists() else 1\n"
        "starts.write_text(str(count))\n"
        "sys.exit(3) if count == 1 else None\n" + SLEEPER,
        str(marks["worker"]),
    ]

    def terminate_when_restarted():
        if wait_for(lambda: starts.exists() and starts.read_text() == "2" and marks["worker"].exists()):
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_when_restarted, daemon=True).start()

    call_command("serve", "--no-migrate")

    assert starts.read_text() == "2"
    assert marks["web"].read_text() == "stopped by SIGTERM"
    assert marks["worker"].read_text() == "stopped by SIGTERM"


def test_serve_stops_every_child_when_one_keeps_dying_at_start(children, quick_respawn):
    plan, marks = children
    plan["worker"] = [sys.executable, "-c", "import sys; sys.exit(3)"]

    with pytest.raises(CommandError, match="worker process keeps exiting right after its start") as raised:
        call_command("serve", "--no-migrate")

    assert raised.value.returncode == 3
    assert marks["web"].read_text() == "stopped by SIGTERM"


def test_serve_refuses_a_port_that_another_server_holds(children, settings):
    # Granian listens with SO_REUSEPORT; a second one on the same port would start and share the traffic.
    with socket.socket() as other_server:
        other_server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other_server.bind(("127.0.0.1", 0))
        other_server.listen()
        settings.TIDINGS_BIND = f"127.0.0.1:{other_server.getsockname()[1]}"

        with pytest.raises(CommandError, match="already in use"):
            call_command("serve", "--no-migrate")

    _plan, marks = children
    assert not any(mark.exists() for mark in marks.values())


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


def test_children_share_serves_session_but_not_its_process_group(children, tmp_path):
    # Not the terminal's group: Ctrl+C reaches them once, through serve. Serve's session: Linux shares the CPU
    # between sessions (autogroups), and a flusher in a session of its own took a core from the web (decision 0045).
    plan, marks = children
    where = tmp_path / "where"
    plan["worker"] = [
        sys.executable,
        "-c",
        "import os, pathlib, sys\n"
        f"pathlib.Path({str(where)!r}).write_text(f'{{os.getsid(0)}} {{os.getpgid(0)}} {{os.getpid()}}')\n" + SLEEPER,
        str(marks["worker"]),
    ]

    def terminate_when_ready():
        if wait_for(lambda: marks["worker"].exists() and marks["web"].exists()):
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_when_ready, daemon=True).start()
    call_command("serve", "--no-migrate")

    session, group, pid = (int(part) for part in where.read_text().split())
    assert session == os.getsid(0)
    assert group == pid != os.getpgid(0)


def test_serve_stops_the_web_before_the_flusher_so_its_last_drain_sees_every_spooled_hit(children, tmp_path):
    plan, marks = children
    marks["flusher"] = tmp_path / "flusher"
    plan["flusher"] = [
        sys.executable,
        "-c",
        "import pathlib, signal, sys, time\n"
        f"web = pathlib.Path({str(marks['web'])!r})\n"
        "mark = pathlib.Path(sys.argv[1])\n"
        "def stop(*_):\n"
        "    mark.write_text('after the web' if web.read_text() == 'stopped by SIGTERM' else 'with the web running')\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "mark.write_text('ready')\n"
        "time.sleep(600)\n",
        str(marks["flusher"]),
    ]

    def terminate_when_ready():
        if wait_for(lambda: all(m.exists() for m in marks.values())):
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_when_ready, daemon=True).start()

    call_command("serve", "--no-migrate")

    assert marks["flusher"].read_text() == "after the web"
    assert marks["worker"].read_text() == "stopped by SIGTERM"


def test_parse_bind_reads_host_and_port():
    assert parse_bind("127.0.0.1:8000") == ("127.0.0.1", 8000)
    assert parse_bind("[::1]:9000") == ("::1", 9000)
    with pytest.raises(CommandError):
        parse_bind("localhost")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _children_of(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def web_worker_pids(serve_pid: int) -> list[int]:
    """Return the pids of Granian's worker processes under `tidings serve` (serve > granian > workers)."""
    workers: list[int] = []
    for child in _children_of(serve_pid):
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        if b"granian" in cmdline:
            workers += _children_of(child)
    return workers


def test_serve_migrates_before_it_starts_its_children(children, monkeypatch):
    from tidings.web.management.commands import serve

    _plan, marks = children
    commands_run = []  # (command, whether any child had started by then)
    monkeypatch.setattr(
        serve, "call_command", lambda name, **_: commands_run.append((name, any(m.exists() for m in marks.values())))
    )

    def terminate_when_ready():
        if wait_for(lambda: all(m.exists() for m in marks.values())):
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_when_ready, daemon=True).start()

    call_command("serve")

    assert commands_run == [("migrate", False)]
    assert all(mark.read_text() == "stopped by SIGTERM" for mark in marks.values())


def _migrated_var_dir(var: Path) -> None:
    """Fill var with copies of the suite's migrated SQLite templates and keys, when the suite made them.

    `tidings migrate` on fresh databases is what creates the suite's own databases (the migrate command
    runs for each of them) and test_serve_migrates_before_it_starts_its_children shows that serve runs it;
    migrating three databases again in the child would cost a minute of a loaded machine for nothing new.
    """
    from tidings import conf

    templates = Path(os.environ.get("TIDINGS_TEST_TEMPLATE_DIR") or "/nonexistent")
    copies = {"default": "global", "region_us": "region-us", "region_eu": "region-eu"}
    if not all((templates / f"{alias}.sqlite3").exists() for alias in copies):
        return  # not under xdist, or the suite runs on PostgreSQL: the child migrates fresh databases
    var.mkdir(mode=0o700)
    for key in conf.var_dir().glob("*.key"):
        shutil.copy(key, var / key.name)
    for alias, name in copies.items():
        shutil.copy(templates / f"{alias}.sqlite3", var / f"{name}.sqlite3")


def test_the_tidings_command_serves_the_login_page(tmp_path):
    """The real thing: `tidings serve` (its migrate included) starts, Granian answers, SIGINT stops it."""
    port = free_port()
    _migrated_var_dir(tmp_path / "var")
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

        assert wait_for(login_page, seconds=HANG, unless_dead=server), "the login page never answered"
        # Kill the web worker as the out-of-memory killer would: Granian starts another, serve stays up.
        killed = web_worker_pids(server.pid)
        assert killed, "no Granian worker found under tidings serve"
        for worker_pid in killed:
            os.kill(worker_pid, signal.SIGKILL)
        assert wait_for(
            lambda: web_worker_pids(server.pid) and not set(web_worker_pids(server.pid)) & set(killed),
            seconds=HANG,
            unless_dead=server,
        )
        assert wait_for(login_page, seconds=HANG, unless_dead=server), "the page did not come back after a kill"
        assert server.poll() is None
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=HANG)
    assert server.returncode == 0
    assert f"http://127.0.0.1:{port}/" in output
    assert Path(tmp_path / "var" / "global.sqlite3").exists()


def test_serve_starts_one_task_worker_per_lane_with_the_scheduler_in_the_first(settings):
    settings.TIDINGS_TASK_WORKERS = 3
    children = dict(Serve().child_commands(host="127.0.0.1", port=8000, workers=2, with_worker=True))
    workers = {name: argv for name, argv in children.items() if name.startswith("worker")}
    assert sorted(workers) == ["worker", "worker-2", "worker-3"]
    assert "--no-scheduler" not in workers["worker"]
    assert all(argv[-1] == "--no-scheduler" for name, argv in workers.items() if name != "worker")
    settings.TIDINGS_TASK_WORKERS = 1
    assert [n for n, _ in Serve().child_commands(host="127.0.0.1", port=8000, workers=2, with_worker=True)
            if n.startswith("worker")] == ["worker"]  # fmt: skip
