"""Durable, idempotent persistence of spooled hits: a crash at any point loses nothing and duplicates nothing."""

import datetime
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tidings.events.models import Event, Visitor
from tidings.privacy import registry
from tidings.tenancy.context import use_workspace
from tidings.tracking.collect import flusher, persist, seams
from tidings.tracking.collect.models import HitReceipt, TrackingSession
from tidings.tracking.collect.spool import Spool, read_offset
from tidings.tracking.tests.collect_helpers import client_id, make_site

ROOT = Path(__file__).resolve().parents[3]


def record(site, *, visitor=424242, at=None, url="https://shop.example/a", cid=None):
    return {
        "w": site.workspace_id, "s": site.pk, "r": "eu", "id": cid or client_id(), "at": at or time.time(),
        "t": "pageview", "n": "", "u": url, "rh": "", "utm": ["", "", ""], "d": "desktop", "o": "Linux",
        "b": "Firefox", "cc": "", "ip": "198.51.100.0/24", "v": visitor, "g": "00" * 16, "l": "", "tz": "", "sc": "",
    }  # fmt: skip


@pytest.fixture
def site(acme):
    return make_site(acme)


@pytest.fixture
def counted(monkeypatch):
    rows = []
    monkeypatch.setattr(seams, "traffic_count", rows.extend)
    return rows


def counts(workspace):
    with use_workspace(workspace):
        return Event.objects.count(), HitReceipt.objects.count(), Visitor.objects.count()


def test_a_hit_sent_twice_is_written_once_and_counted_once(tmp_path, site, acme, counted):
    spool = Spool(tmp_path)
    twice = record(site)
    spool.append([twice, record(site, visitor=None), twice])

    assert flusher.drain(spool.path) == 2
    assert counts(acme) == (1, 2, 1) and len(counted) == 2


def test_a_replayed_spool_duplicates_nothing(tmp_path, site, acme, counted):
    spool = Spool(tmp_path)
    spool.append([record(site) for _ in range(5)])
    flusher.drain(spool.path)
    Path(f"{spool.path}.offset").unlink()  # as if the offset had never been written

    assert flusher.drain(spool.path) == 0
    assert counts(acme) == (5, 5, 1) and len(counted) == 5


def test_a_crash_inside_the_batch_writes_nothing_and_the_retry_writes_everything(
    tmp_path, site, acme, counted, monkeypatch
):
    spool = Spool(tmp_path)
    spool.append([record(site, visitor=v) for v in (1001, 1002, 1003)])
    real_write = persist.store.write

    def crash(rows, **_options):
        list(rows)
        raise OSError("killed mid-batch")

    monkeypatch.setattr(persist.store, "write", crash)
    with pytest.raises(OSError):
        flusher.drain(spool.path)
    assert counts(acme) == (0, 0, 0) and read_offset(spool.path) == 0

    monkeypatch.setattr(persist.store, "write", real_write)
    assert flusher.drain(spool.path) == 3
    assert counts(acme) == (3, 3, 3)


def test_a_crash_between_the_commit_and_the_offset_duplicates_nothing(tmp_path, site, acme, counted, monkeypatch):
    spool = Spool(tmp_path)
    spool.append([record(site) for _ in range(4)])
    monkeypatch.setattr(flusher, "write_offset", lambda path, offset: (_ for _ in ()).throw(OSError("killed")))
    with pytest.raises(OSError):
        flusher.drain(spool.path)
    monkeypatch.undo()
    monkeypatch.setattr(seams, "traffic_count", counted.extend)

    assert flusher.drain(spool.path) == 0
    assert counts(acme) == (4, 4, 1) and len(counted) == 4


WRITER = """
import json, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from tidings.tracking.collect.spool import Spool
records = json.loads(sys.argv[2])
spool = Spool(Path(sys.argv[1]))
print(spool.path, flush=True)
n = 0
while True:
    batch = []
    for r in records:
        r = dict(r, id=f"{{r['id'][:20]}}{{n:012d}}")
        batch.append(r)
        n += 1
    spool.append(batch)
"""


def test_a_line_that_is_not_json_is_skipped_and_the_rest_of_its_batch_persisted(tmp_path, site, acme, counted):
    """A batch is decoded as one JSON array; a bad line (never written by us) falls back to line by line."""
    spool = Spool(tmp_path)
    spool.append([record(site, visitor=None)])
    with open(spool.path, "ab") as file:
        file.write(b'{"w": 1, "cut short\n')
    spool.append([record(site, visitor=None), record(site, visitor=None)])

    assert flusher.drain(spool.path) == 3
    assert counts(acme) == (0, 3, 0) and len(counted) == 3
    assert read_offset(spool.path) == spool.path.stat().st_size


def test_a_server_killed_while_spooling_leaves_whole_lines_that_recovery_persists_once(tmp_path, site, acme, counted):
    template = [record(site, visitor=None, cid="k" * 20), record(site, visitor=99, cid="j" * 20)]
    writer = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", WRITER.format(root=str(ROOT)), str(tmp_path), json.dumps(template)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    path = Path(writer.stdout.readline().strip())
    deadline = time.monotonic() + 30
    while path.stat().st_size < 200_000 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not list(flusher.orphans(tmp_path)), "a live process's spool is not an orphan"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    whole_lines = path.read_bytes().count(b"\n")

    written = flusher.recover_orphans(tmp_path)

    assert written == whole_lines > 100
    assert counts(acme)[1] == whole_lines
    assert not path.exists() and flusher.recover_orphans(tmp_path) == 0


def test_the_flusher_thread_drains_within_a_second_and_on_stop(tmp_path, site, acme, counted):
    spool = Spool(tmp_path)
    worker = flusher.Flusher(spool, interval=0.05)
    calls = []
    worker.flush_once = lambda: calls.append(1) or 0  # the thread's own DB connection would not see the test's data
    worker.start()
    time.sleep(0.3)
    worker.stop()
    assert len(calls) >= 3


def test_a_large_spool_is_rotated_and_drained(tmp_path, site, acme, counted, monkeypatch):
    monkeypatch.setattr("tidings.tracking.collect.spool.ROTATE_BYTES", 100)
    spool = Spool(tmp_path)
    spool.append([record(site) for _ in range(3)])
    first = spool.path
    worker = flusher.Flusher(spool)
    assert worker.flush_once() == 3
    assert spool.path != first and not first.exists()
    spool.append([record(site)])
    assert worker.flush_once() == 1


def test_sessions_split_after_30_minutes_and_per_site(tmp_path, site, acme, counted):
    other = make_site(acme, domains=["other.example"])
    start = time.time() - 7200
    spool = Spool(tmp_path)
    spool.append([
        record(site, visitor=5, at=start, url="https://shop.example/1"),
        record(site, visitor=5, at=start + 600, url="https://shop.example/2"),
        record(site, visitor=5, at=start + 600 + 1801, url="https://shop.example/3"),
        record(other, visitor=5, at=start + 600 + 1802, url="https://other.example/"),
    ])  # fmt: skip
    flusher.drain(spool.path)
    with use_workspace(acme):
        sessions = list(
            TrackingSession.objects.order_by("started_at", "site_id").values_list("hits", "entry_url", "exit_url")
        )
    assert sessions == [
        (2, "https://shop.example/1", "https://shop.example/2"),
        (1, "https://shop.example/3", "https://shop.example/3"),
        (1, "https://other.example/", "https://other.example/"),
    ]


def test_receipts_older_than_48_hours_are_pruned(tmp_path, site, acme, counted):
    spool = Spool(tmp_path)
    spool.append([record(site, at=time.time() - 49 * 3600), record(site)])
    persist._last_pruned.clear()
    flusher.drain(spool.path)  # the flusher prunes each workspace's receipts every 10 minutes
    with use_workspace(acme):
        assert HitReceipt.objects.count() == 1
        HitReceipt.objects.create(client_id=client_id(), at=persist.timezone.now() - datetime.timedelta(hours=49))
        assert persist.receipts_prune() == 1


def test_sessions_are_erased_with_their_contacts_visitors(tmp_path, site, acme, counted):
    from tidings.events.actions import visitor_identify
    from tidings.tests.principals import system

    spool = Spool(tmp_path)
    spool.append([record(site, visitor=61), record(site, visitor=62)])
    flusher.drain(spool.path)
    with use_workspace(acme):
        visitor_identify(61, 5001, principal=system())
        registry.erase_subject_rows([5001])
        assert list(TrackingSession.objects.values_list("visitor_id", flat=True)) == [62]


def test_the_principal_must_be_able_to_record_hits(site, acme):
    from tidings.accounts.permissions import Principal

    nobody = Principal(workspace=acme.as_active(), user=None, permissions=frozenset())
    with use_workspace(acme), pytest.raises(PermissionError):
        persist.hits_record_workspace([record(site)], principal=nobody)


def test_the_hit_time_is_kept(tmp_path, site, acme, counted):
    at = time.time() - 3600
    spool = Spool(tmp_path)
    spool.append([record(site, at=at)])
    flusher.drain(spool.path)
    with use_workspace(acme):
        event = Event.objects.get()
    assert abs(event.at - datetime.datetime.fromtimestamp(at, tz=datetime.UTC)) < datetime.timedelta(seconds=1)


def test_the_built_in_worker_replays_a_dead_servers_spool_every_minute(tmp_path, site, acme, counted, settings):
    from tidings.jobs.periodic import PERIODIC_JOBS
    from tidings.tracking import tasks

    job = PERIODIC_JOBS["tidings.tracking.tasks.replay_orphaned_spools"]
    assert job.every == datetime.timedelta(minutes=1)
    settings.TIDINGS_VAR_DIR = str(tmp_path)
    spool = Spool()  # a server's spool, its process gone: the lock is released when the file is closed
    spool.append([record(site, cid="w" * 20), record(site, visitor=None, cid="x" * 20)])
    spool.close()

    assert tasks.replay_orphaned_spools.call() == 2

    assert counts(acme)[1] == 2
    assert tasks.replay_orphaned_spools.call() == 0
