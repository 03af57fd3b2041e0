"""The scale-out path for real: a redis-server on loopback, RQ workers as separate processes.

Settings choose RQ and the Redis cache at start-up from TIDINGS_REDIS_URL, so every step runs in
a process of its own (tidings/jobs/tests/redis_scenario.py) against SQLite files in a scratch
folder; the test process only starts, watches and kills them. bin/test installs redis-server and
sets TIDINGS_TEST_REQUIRE_REDIS, so CI fails rather than skips when it is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tidings.jobs.tests.redis_scenario import descendants

SCENARIO = [sys.executable, "-m", "tidings.jobs.tests.redis_scenario"]
# Waits bound a hang, they do not measure speed: under the full suite on 2 cores, the 20 scheduled
# jobs once did not finish within 120 s of the import. A timeout shows the workers' logs.
HANG = 300


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")


@pytest.fixture(scope="module")
def redis_server():
    from django.db import connections

    if connections["default"].vendor != "sqlite":
        pytest.skip("engine-independent (its processes use SQLite files of their own): runs in the SQLite pass")
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("TIDINGS_TEST_REQUIRE_REDIS"):
            pytest.fail("redis-server is not installed (bin/test installs the Debian package)")
        pytest.skip("redis-server is not installed")
    import redis

    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)

    def answers():
        with contextlib.suppress(redis.ConnectionError):
            return client.ping()

    try:
        _wait_for(answers, 20, "redis-server")
        yield port, client
    finally:
        server.terminate()
        server.wait(timeout=10)


class Deployment:
    """Tidings with Redis in a scratch folder: run scenario steps, start and kill workers."""

    def __init__(self, tmp_path, port: int, database: int):
        self.url = f"redis://127.0.0.1:{port}/{database}"
        self.env = {**os.environ, "TIDINGS_VAR_DIR": str(tmp_path / "var"), "TIDINGS_REDIS_URL": self.url}
        for name in ("DJANGO_SETTINGS_MODULE", "TIDINGS_DATABASE_URL", "TIDINGS_DATABASE_URL_US",
                     "TIDINGS_DATABASE_URL_EU"):  # fmt: skip
            self.env.pop(name, None)
        self.workers: list[subprocess.Popen] = []
        self.logs = tmp_path / "worker-logs"
        self.logs.mkdir()

    def run(self, *args: str, **extra_env: str) -> dict:
        done = subprocess.run(  # noqa: S603
            [*SCENARIO, *args], env={**self.env, **extra_env}, capture_output=True, text=True, timeout=HANG
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def watch(self, import_id: str, until: str, seconds: float, kill: subprocess.Popen | None = None) -> dict:
        """Wait (in one scenario process polling every 50 ms) until the import is part-way or completed."""
        extra = ["--kill", str(kill.pid)] if kill else []
        status = self.run("watch", "--import-id", import_id, "--until", until, "--timeout", str(seconds), *extra)
        if status.get("timed_out"):
            raise AssertionError(f"timed out after {seconds:g} s waiting for the import to be {until}: {status}\n"
                                 f"{self.log_tails()}")  # fmt: skip
        return status

    def migrate(self) -> None:
        """Create the keys and the migrated databases: copies of the suite's templates when it has them."""
        var = Path(self.env["TIDINGS_VAR_DIR"])
        templates = Path(os.environ.get("TIDINGS_TEST_TEMPLATE_DIR") or "/nonexistent")
        if (templates / "ready").exists():
            done = subprocess.run(  # noqa: S603
                [sys.executable, "-c", "from tidings.conf import init_var_dir; init_var_dir()"],
                env=self.env, capture_output=True, text=True,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr[-3000:]
            for alias, name in (("default", "global"), ("region_us", "region-us"), ("region_eu", "region-eu")):
                shutil.copy(templates / f"{alias}.sqlite3", var / f"{name}.sqlite3")
            return
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "tidings.cli", "migrate", "-v", "0"], env=self.env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-3000:]

    def start_worker(self) -> subprocess.Popen:
        worker = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "tidings.cli", "worker", "--interval", "0.2", "--scheduler-interval", "0.5"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=(self.logs / f"worker-{len(self.workers) + 1}.log").open("w"),  # shown when a wait times out
            start_new_session=True,  # its own process group: the worker and its forked work horses
        )
        self.workers.append(worker)
        return worker

    @staticmethod
    def kill(worker: subprocess.Popen, signum=signal.SIGKILL) -> None:
        """Send signum to the worker and every process under it (RQ runs each job in a forked work
        horse in a session of its own, which a signal to the worker's group would miss)."""
        for pid in [*descendants(worker.pid), worker.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
        worker.wait(timeout=120)

    def log_tails(self) -> str:
        """Return the end of each worker's log, for a failure message."""
        return "\n".join(f"--- {log.name}\n{log.read_text()[-2000:]}" for log in sorted(self.logs.iterdir()))

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                self.kill(worker, signal.SIGTERM)


@pytest.fixture(scope="module")
def migrated_var(tmp_path_factory, redis_server):
    """A var folder migrated once; each test works on a copy of it."""
    port, _client = redis_server
    template = Deployment(tmp_path_factory.mktemp("redis-template"), port, 0)
    template.migrate()
    return template.env["TIDINGS_VAR_DIR"]


@pytest.fixture
def deployment(tmp_path, redis_server, migrated_var, request):
    port, client = redis_server
    database = 1 + len(request.node.name) % 14  # a Redis database per test, emptied first
    deployment = Deployment(tmp_path, port, database)
    shutil.copytree(migrated_var, deployment.env["TIDINGS_VAR_DIR"])
    deployment.redis = type(client)(host="127.0.0.1", port=port, db=database)
    deployment.redis.flushdb()
    yield deployment
    deployment.stop()


def _registered_workers(deployment) -> int:
    return deployment.redis.scard("rq:workers")


def test_an_import_and_scheduled_tasks_run_end_to_end_through_two_rq_workers(deployment, tmp_path):
    marks = tmp_path / "marks"
    deployment.start_worker()
    deployment.start_worker()
    _wait_for(lambda: _registered_workers(deployment) == 2, 120, "two RQ workers to register")

    meet = tmp_path / "meet"
    meet.mkdir()
    ids = deployment.run("setup", "--rows", "3000", "--tasks", "20", "--marks", str(marks), "--meet", str(meet))
    status = deployment.watch(str(ids["import_id"]), "completed", 240)
    try:
        lines = _wait_for(lambda: marks.exists() and len(marks.read_text().split("\n")) > 20 and marks.read_text(),
                          HANG, "the scheduled tasks to run")  # fmt: skip
    except AssertionError as error:
        ran = marks.read_text() if marks.exists() else "(none)"
        raise AssertionError(f"{error}\nmarks:\n{ran}\n{deployment.log_tails()}") from None

    labels = [line.split()[0] for line in lines.splitlines()]
    pids = {line.split()[1] for line in lines.splitlines()}
    assert (status["contacts"], status["created"], status["rows_done"]) == (3000, 3000, 3000)
    assert sorted(labels) == sorted(f"task{n}" for n in range(20))  # each scheduled task ran exactly once
    assert len(pids) == 2  # the tasks met a task of the other worker: both ran at once


def test_a_worker_killed_mid_import_loses_nothing_and_does_nothing_twice(deployment):
    first = deployment.start_worker()
    _wait_for(lambda: _registered_workers(deployment) == 1, 120, "the RQ worker to register")
    ids = deployment.run("setup", "--rows", "40000")
    import_id = str(ids["import_id"])

    running = deployment.watch(import_id, "part-way", 240, kill=first)  # SIGKILLed as the OOM killer would
    first.wait(timeout=120)
    killed_at = deployment.run("status", "--import-id", import_id)
    recovered = deployment.run("recover")
    deployment.start_worker()
    done = deployment.watch(import_id, "completed", 240)

    assert running["status"] == killed_at["status"] == "running"
    assert 0 < killed_at["rows_done"] < 40000
    assert recovered == {"handled": 1}
    assert (done["contacts"], done["created"], done["rows_done"], done["recoveries"]) == (40000, 40000, 40000, 1)


def test_the_rate_limit_and_the_cache_are_shared_through_redis(deployment):
    limited = {"TIDINGS_API_RATE_LIMIT": "3", "TIDINGS_API_RATE_WINDOW": "3600"}

    first = deployment.run("ratelimit", "--key", "token:7", "--times", "2", **limited)
    second = deployment.run("ratelimit", "--key", "token:7", "--times", "2", **limited)
    written = deployment.run("cache-set", "greeting", "hello")
    read = deployment.run("cache-get", "greeting")

    assert first["remaining"] == [2, 1]
    assert second["remaining"] == [0, -1]  # the other process's two requests counted: the limit is shared
    assert written["backend"] == read["backend"] == "RedisCache"
    assert read["value"] == "hello"
    assert deployment.redis.keys("*greeting*")  # the value lives in Redis, not in either process


def test_campaigns_of_two_workspaces_run_through_two_rq_workers_each_step_once(deployment):
    """Issue 14: the engine on RQ with several workers. Each workspace's turns are coalesced (one queued, one
    running at most), the workers take the turns of both workspaces, and every (contact, step) runs once."""
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    deployment.start_worker()
    deployment.start_worker()
    _wait_for(lambda: _registered_workers(deployment) == 2, 120, "two RQ workers to register")
    contacts = 300
    deployment.run("campaigns-setup", "--workspaces", "2", "--contacts", str(contacts))

    def finished():
        status = deployment.run("campaigns-status", "--workspaces", "2")
        return status if all(w["finished"] == contacts for w in status.values()) else None

    try:
        status = _wait_for(finished, HANG, "both campaigns to finish")
    except AssertionError as error:
        raise AssertionError(f"{error}\n{deployment.log_tails()}") from None
    for workspace in status.values():
        assert workspace["contacts"] == contacts
        assert workspace["done"] == 3 * contacts  # three steps each
        assert workspace["most_runs_of_a_step"] == 1  # none twice
        assert workspace["points"] == [5]  # the points step ran once for everyone
    registry = FinishedJobRegistry("default", connection=deployment.redis)
    jobs = [Job.fetch(job_id, connection=deployment.redis) for job_id in registry.get_job_ids()]
    turns = [job for job in jobs if "run_campaigns" in repr(job.args) + repr(job.kwargs) + job.func_name]
    assert turns  # the turns went through RQ, not the database queue
    assert all(worker.poll() is None for worker in deployment.workers)  # both workers still up
