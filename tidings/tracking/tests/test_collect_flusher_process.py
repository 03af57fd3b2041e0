"""The flusher process (`tidings flusher`): drains every spool of the folder, so server processes only append."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tidings.tracking.collect import flusher, front, persist
from tidings.tracking.collect.flusher import FlusherProcess
from tidings.tracking.collect.spool import SHARED_SUFFIX, Spool, read_offset
from tidings.tracking.tests.collect_helpers import make_site
from tidings.tracking.tests.test_collect_persist import counts, record

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def site(acme):
    return make_site(acme)


@pytest.fixture
def counted(monkeypatch):
    rows = []
    monkeypatch.setattr(flusher.persist.seams, "traffic_count", rows.extend)
    return rows


def test_a_live_shared_spool_is_drained_and_left_to_its_writer(tmp_path, site, acme, counted):
    spool = Spool(tmp_path, shared=True)  # its writer lives: it holds the file's lock
    spool.append([record(site) for _ in range(3)])
    process = FlusherProcess(tmp_path)

    assert process.flush_once() == 3
    assert spool.path.name.endswith(SHARED_SUFFIX) and spool.path.exists()
    spool.append([record(site)])
    assert process.flush_once() == 1 and process.flush_once() == 0
    assert counts(acme)[1] == 4 and len(counted) == 4


def test_a_live_thread_mode_spool_is_left_to_its_own_flusher(tmp_path, site, acme, counted):
    spool = Spool(tmp_path)
    spool.append([record(site) for _ in range(2)])

    assert FlusherProcess(tmp_path).flush_once() == 0
    assert read_offset(spool.path) == 0 and counts(acme)[1] == 0


def test_an_orphaned_spool_is_drained_to_the_end_and_removed(tmp_path, site, acme, counted):
    for shared in (True, False):  # a server killed in either mode
        spool = Spool(tmp_path, shared=shared)
        spool.append([record(site) for _ in range(2)])
        spool.close()

    assert FlusherProcess(tmp_path).flush_once() == 4
    assert not list(tmp_path.glob("*.spool")) and not list(tmp_path.glob("*.offset"))


def test_a_shared_spool_rotates_on_append_and_the_old_file_is_drained_and_removed(
    tmp_path, site, acme, counted, monkeypatch
):
    monkeypatch.setattr("tidings.tracking.collect.spool.ROTATE_BYTES", 100)
    spool = Spool(tmp_path, shared=True)
    first = spool.path
    spool.append([record(site) for _ in range(3)])  # over 100 bytes: the writer moves on to a new file
    spool.append([record(site)])
    assert spool.path != first

    assert FlusherProcess(tmp_path).flush_once() == 4
    assert not first.exists() and spool.path.exists()


def test_a_crash_mid_flush_writes_nothing_and_the_next_pass_writes_everything_once(
    tmp_path, site, acme, counted, monkeypatch
):
    spool = Spool(tmp_path, shared=True)
    spool.append([record(site, visitor=v) for v in (2001, 2002, 2003)])
    process = FlusherProcess(tmp_path)
    real_write = persist.store.write

    def crash(rows, **_options):
        list(rows)
        raise OSError("killed mid-batch")

    monkeypatch.setattr(persist.store, "write", crash)
    assert process.flush_once() == 0  # logged; the file is kept at its offset
    assert counts(acme) == (0, 0, 0) and read_offset(spool.path) == 0 and not counted

    monkeypatch.setattr(persist.store, "write", real_write)
    assert process.flush_once() == 3
    assert counts(acme) == (3, 3, 3) and len(counted) == 3


def test_a_crash_between_the_commit_and_the_offset_counts_nothing_twice(tmp_path, site, acme, counted, monkeypatch):
    spool = Spool(tmp_path, shared=True)
    spool.append([record(site) for _ in range(4)])
    process = FlusherProcess(tmp_path)
    real_offset = flusher.write_offset
    monkeypatch.setattr(flusher, "write_offset", lambda path, offset: (_ for _ in ()).throw(OSError("killed")))
    assert process.flush_once() == 4  # the batch committed (4 new hits), its offset was not written
    assert counts(acme)[1] == 4 and read_offset(spool.path) == 0

    monkeypatch.setattr(flusher, "write_offset", real_offset)
    assert process.flush_once() == 0  # replayed: every hit has its receipt
    assert counts(acme) == (4, 4, 1) and len(counted) == 4
    assert read_offset(spool.path) == spool.size


def test_one_flusher_process_per_folder_and_recovery_stands_aside_while_it_runs(tmp_path, site, acme, counted):
    orphan = Spool(tmp_path)
    orphan.append([record(site)])
    orphan.close()
    first, second = FlusherProcess(tmp_path), FlusherProcess(tmp_path)
    assert not flusher.flusher_process_alive(tmp_path)
    assert first.acquire(blocking=False)
    try:
        assert flusher.flusher_process_alive(tmp_path)
        assert not second.acquire(blocking=False)
        assert flusher.recover_orphans(tmp_path) == 0 and orphan.path.exists()
    finally:
        first.release()
    assert flusher.recover_orphans(tmp_path) == 1


def test_a_server_process_in_process_mode_only_spools(tmp_path, monkeypatch, settings):
    settings.TIDINGS_VAR_DIR = str(tmp_path)
    monkeypatch.setenv("TIDINGS_TRACKING_FLUSHER", "process")
    spool, thread = front._Process().ready()
    try:
        assert thread is None and spool.shared and spool.path.name.endswith(SHARED_SUFFIX)
    finally:
        spool.close()
    monkeypatch.setenv("TIDINGS_TRACKING_FLUSHER", "thread")
    process = front._Process()
    spool, thread = process.ready()
    try:
        assert thread is not None and not spool.shared
    finally:
        thread.stop()
        spool.close()


def test_serve_runs_the_flusher_beside_the_web_processes():
    from tidings.web.management.commands.serve import Command

    for with_worker in (True, False):
        children = dict(Command().child_commands(host="127.0.0.1", port=8000, workers=2, with_worker=with_worker))
        assert children["flusher"][-1] == "flusher"


def test_the_flusher_command_holds_the_folder_and_stops_on_sigterm(tmp_path):
    env = {**os.environ, "TIDINGS_VAR_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    command = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "tidings.cli", "flusher", "--interval", "0.05"], env=env, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while not flusher.flusher_process_alive(tmp_path / "tracking-spool") and time.monotonic() < deadline:
            assert command.poll() is None, "the flusher exited at its start"
            time.sleep(0.1)
        assert flusher.flusher_process_alive(tmp_path / "tracking-spool")
        command.send_signal(signal.SIGTERM)
        assert command.wait(timeout=30) == 0
        assert not flusher.flusher_process_alive(tmp_path / "tracking-spool")
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()


def test_serve_bounds_the_python_threads_of_a_web_worker():
    from tidings.web.management.commands.serve import BLOCKING_THREADS, Command

    web = dict(Command().child_commands(host="127.0.0.1", port=8000, workers=2, with_worker=False))["web"]
    assert web[web.index("--blocking-threads") + 1] == str(BLOCKING_THREADS)
    web = dict(Command().child_commands(host="127.0.0.1", port=8000, workers=2, with_worker=False, threads=8))["web"]
    assert web[web.index("--blocking-threads") + 1] == "8"


def test_a_pass_writes_the_files_together_in_one_transaction_per_batch(tmp_path, site, acme, counted, monkeypatch):
    spools = [Spool(tmp_path, shared=True) for _ in range(3)]
    for spool in spools:
        spool.append([record(site) for _ in range(4)])
    orphan = Spool(tmp_path)
    orphan.append([record(site) for _ in range(2)])
    orphan.close()
    batches = []
    real_record = persist.hits_record
    monkeypatch.setattr(persist, "hits_record", lambda records: batches.append(len(records)) or real_record(records))

    assert FlusherProcess(tmp_path, batch=10).flush_once() == 14
    assert batches == [10, 4]  # 14 hits of four files: two transactions, not four
    assert all(read_offset(spool.path) == spool.size for spool in spools) and not orphan.path.exists()
    assert counts(acme)[1] == 14 and len(counted) == 14


def test_a_file_that_fails_holds_back_only_itself(tmp_path, site, acme, counted, monkeypatch):
    good, bad = Spool(tmp_path, shared=True), Spool(tmp_path, shared=True)
    good.append([record(site) for _ in range(3)])
    refused = [record(site) for _ in range(2)]
    bad.append(refused)
    real_record = persist.hits_record
    bad_ids = {r["id"] for r in refused}

    def refuse_the_bad_file(records):
        if any(r["id"] in bad_ids for r in records):
            raise OSError("a record this database refuses")
        return real_record(records)

    monkeypatch.setattr(persist, "hits_record", refuse_the_bad_file)
    assert FlusherProcess(tmp_path).flush_once() == 3
    assert read_offset(good.path) == good.size and read_offset(bad.path) == 0
    assert counts(acme)[1] == 3
