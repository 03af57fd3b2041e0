"""The flusher: drains this process's spool into the database every second (or every BATCH records).

A daemon thread in each server process (started by the front application) plus recovery, which
replays the spool files of dead processes: at the front's start and from the built-in worker
(tidings.tracking.collect.flusher.recover_orphans). A batch that fails (database away) is retried
from the same offset a second later: the spool keeps the hits meanwhile.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from django.db import close_old_connections

from tidings.tracking.collect import persist
from tidings.tracking.collect.spool import Spool, orphans, read_offset, read_records, remove, write_offset

log = logging.getLogger(__name__)

BATCH = 2000
INTERVAL_SECONDS = 1.0


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
    """Replay the spool files no live process holds, then remove them; return how many hits were new."""
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
