"""The flusher: drains the spools into the database, batch by batch.

Two modes (docs/decisions/0019):

- process (TIDINGS_TRACKING_FLUSHER=process, set by `tidings serve`): the server processes only
  append to their spools (files named with SHARED_SUFFIX); one flusher process of its own
  (`tidings flusher`, a child of serve) drains every spool file of the folder, live or orphaned,
  twice a second, all the files' records together in each transaction, so a request worker never
  holds the GIL for a batch. It holds FLUSHER_LOCK while it runs: a second one waits, and
  recovery elsewhere stands aside.
- thread (the default: runserver, tests, a bare Granian): a daemon thread in each server process
  drains that process's own spool every second (or every BATCH records).

Recovery replays the spool files of dead processes (their lock can be taken): the flusher process
on each pass; in thread mode, the front at its start and the built-in worker every minute
(recover_orphans). A batch that fails (database away) is retried from the same offset a moment
later: the spool keeps the hits meanwhile.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from pathlib import Path

from django.db import close_old_connections

from tidings.tracking.collect import persist
from tidings.tracking.collect.spool import (
    SHARED_SUFFIX,
    Spool,
    orphans,
    read_offset,
    read_records,
    remove,
    spool_dir,
    write_offset,
)

log = logging.getLogger(__name__)

BATCH = 2000
INTERVAL_SECONDS = 1.0
PROCESS_BATCH = 5000  # the flusher process: larger batches, its own core's worth of time
PROCESS_INTERVAL_SECONDS = 0.5  # batches of ~2,500 hits at 5,000/s: a batch's fixed costs shared widely
FLUSHER_LOCK = "flusher.lock"


def process_mode() -> bool:
    """Return True when a flusher process drains the spools (the server processes only append)."""
    return os.environ.get("TIDINGS_TRACKING_FLUSHER", "thread") == "process"


def flusher_process_alive(directory: Path | None = None) -> bool:
    """Return True when a flusher process holds the folder's FLUSHER_LOCK (it then does the recovery too)."""
    path = (directory or spool_dir()) / FLUSHER_LOCK
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # releases the probe's shared lock, if taken
    return False


def drain(path: Path, *, limit: int = BATCH, until: int | None = None) -> int:
    """Persist path's whole records from its committed offset, batch by batch; return how many were new."""
    offset = read_offset(path)
    written = 0
    while True:
        records, end = read_records(path, offset, limit=limit)
        if not records:
            return written
        written += persist.hits_record(records)
        write_offset(path, end)
        offset = end
        if len(records) < limit:
            return written


def recover_orphans(directory: Path | None = None) -> int:
    """Replay the spool files no live process holds, then remove them; return how many hits were new.

    Nothing when a flusher process runs: it replays them itself, and one reader per file is simpler
    (the receipts would skip a hit read twice, but the second batch would fail on their constraint).
    """
    if flusher_process_alive(directory):
        return 0
    written = 0
    for path, fd in orphans(directory):
        try:
            written += drain(path)
            remove(path)
        except Exception:
            log.exception("tracking: could not replay an orphaned spool file; kept for the next recovery")
        finally:
            os.close(fd)
    return written


class Flusher:
    """Drain a Spool in a daemon thread; stop() drains what is left."""

    def __init__(self, spool: Spool, *, interval: float = INTERVAL_SECONDS, batch: int = BATCH):
        self.spool = spool
        self.interval = interval
        self.batch = batch
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name="tracking-flusher", daemon=True)
        self.pending = 0  # records appended since the last drain (a hint to drain early)

    def start(self) -> Flusher:
        self.thread.start()
        return self

    def nudge(self, count: int) -> None:
        self.pending += count
        if self.pending >= self.batch:
            self._wake.set()

    def flush_once(self) -> int:
        self.pending = 0
        written = drain(self.spool.path, limit=self.batch)
        rotated = self.spool.rotate_if_large()
        if rotated is not None:
            path, fd = rotated
            written += drain(path, limit=self.batch)
            remove(path)
            os.close(fd)
        return written

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush_once()
            except Exception:
                log.exception("tracking: flushing the spool failed; retrying from the same offset")
                time.sleep(self.interval)
            finally:
                close_old_connections()
        try:
            self.flush_once()
        finally:
            close_old_connections()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self.thread.is_alive():
            self.thread.join(timeout)


class FlusherProcess:
    """The flusher process's loop: drain every spool file of the folder, live or orphaned.

    A live file (its writer holds its lock) is drained only when shared (SHARED_SUFFIX), from its
    committed offset to its last whole line; an orphaned one (the lock could be taken: its writer
    rotated it, exited or died) is drained to the end under its lock, then removed.
    """

    def __init__(self, directory: Path | None = None, *, interval: float = PROCESS_INTERVAL_SECONDS,
                 batch: int = PROCESS_BATCH):  # fmt: skip
        self.directory = directory or spool_dir()
        self.interval = interval
        self.batch = batch
        self.lock_fd = -1

    def acquire(self, *, blocking: bool = True) -> bool:
        """Take FLUSHER_LOCK (one flusher process per folder); return False when not blocking and taken."""
        fd = os.open(self.directory / FLUSHER_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        self.lock_fd = fd
        return True

    def release(self) -> None:
        if self.lock_fd >= 0:
            os.close(self.lock_fd)
            self.lock_fd = -1

    def flush_once(self) -> int:
        """Drain every spool file once, the files together; return how many hits were new.

        The records of all the files go into one transaction of up to `batch` hits (rather than one a file:
        a transaction and a batch have fixed costs), then each file's offset is written. If that batch
        fails, the pass falls back to one file at a time, so a file that keeps failing holds back only
        itself; it is left at its offset for the next pass.
        """
        files = self._open_files()
        try:
            return self._drain_together(files)
        finally:
            for _path, fd, _orphan in files:
                os.close(fd)

    def _open_files(self) -> list[tuple[Path, int, bool]]:
        """Return (path, fd, orphaned) of each file this process may drain: shared live files and orphans."""
        files = []
        for path in sorted(self.directory.glob("*.spool")):
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # removed meanwhile (a thread-mode process's rotation)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if path.name.endswith(SHARED_SUFFIX):  # its writer lives: read up to its last whole line
                    files.append((path, fd, False))
                else:
                    os.close(fd)  # a live thread-mode file is its own process's
                continue
            files.append((path, fd, True))  # orphaned: drained to the end under its lock, then removed
        return files

    def _drain_together(self, files: list[tuple[Path, int, bool]]) -> int:
        written = 0
        offsets = {path: read_offset(path) for path, _fd, _orphan in files}
        unfinished = set(offsets)
        while unfinished:
            records: list[dict] = []
            ends: dict[Path, int] = {}
            for path in sorted(unfinished):
                room = self.batch - len(records)
                if room <= 0:
                    break
                taken, end = read_records(path, offsets[path], limit=room)
                records += taken
                if end != offsets[path]:
                    ends[path] = end
                if len(taken) < room:
                    unfinished.discard(path)  # read to its last whole line
            try:
                if records:
                    written += persist.hits_record(records)
                for path, end in ends.items():
                    write_offset(path, end)
                    offsets[path] = end
            except Exception:
                log.exception("tracking: a batch of several spool files failed; draining them one at a time")
                return written + self._drain_each(files)
        for path, _fd, orphaned in files:
            if orphaned:
                remove(path)
        return written

    def _drain_each(self, files: list[tuple[Path, int, bool]]) -> int:
        written = 0
        for path, _fd, orphaned in files:
            try:
                written += drain(path, limit=self.batch)
                if orphaned:
                    remove(path)
            except Exception:
                log.exception("tracking: flushing a spool file failed; retrying from the same offset")
        return written

    def run(self, stop: threading.Event) -> None:
        """Flush every interval until stop is set, then once more; the caller holds FLUSHER_LOCK."""
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.flush_once()
            finally:
                close_old_connections()
            # A pass slower than the interval (a backlog) is followed at once by the next.
            stop.wait(max(0.0, self.interval - (time.monotonic() - started)))
        try:
            self.flush_once()
        finally:
            close_old_connections()
