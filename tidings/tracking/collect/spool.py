"""The append-only spool: reduced hits on disk until the flusher has written them to the database.

One file per process (<var>/tracking-spool/<pid>-<start>-<n>.spool), held under an exclusive
flock while its process lives; one line of JSON per hit, appended with one write() (a batch of
hits is one write() too), so a process killed at any moment leaves whole lines plus at most one
partial last line, which the reader ignores. Beside each file, "<file>.offset" holds how far the
flusher has persisted (written after each committed batch): a file whose lock can be taken belongs
to a dead process and is replayed from that offset by recovery. Rows already persisted are skipped
by their client event id (HitReceipt), so a crash between the commit and the offset write
duplicates nothing.

Nothing personal in this file: records hold only reduced values (docs/decisions/0019).
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from tidings import fastjson

ROTATE_BYTES = 64 * 1024 * 1024
# A spool file drained by the flusher process while its writer lives (tidings.tracking.collect.flusher):
# only files so named are read without their lock; a thread-mode process's file is its own flusher's.
SHARED_SUFFIX = "-x.spool"
_sequence = itertools.count()


def spool_dir() -> Path:
    # settings.VAR_DIR (TIDINGS_VAR_DIR in the environment); tests override it as settings.TIDINGS_VAR_DIR.
    path = Path(getattr(settings, "TIDINGS_VAR_DIR", None) or settings.VAR_DIR) / "tracking-spool"
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_offset(path: Path) -> int:
    try:
        return int(Path(f"{path}.offset").read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def write_offset(path: Path, offset: int) -> None:
    """Record that path is persisted up to offset (write-then-rename: never a torn number)."""
    target = Path(f"{path}.offset")
    temporary = Path(f"{path}.offset.tmp")
    temporary.write_text(str(offset))
    os.replace(temporary, target)


def remove(path: Path) -> None:
    for leftover in (path, Path(f"{path}.offset"), Path(f"{path}.offset.tmp")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def read_records(path: Path, offset: int, *, limit: int) -> tuple[list[dict], int]:
    """Return up to limit whole records of path from offset, and the offset after the last one returned.

    A partial last line (a process killed mid-write, or a write still landing) is left for later.
    """
    lines: list[bytes] = []
    with open(path, "rb") as file:
        file.seek(offset)
        while len(lines) < limit:
            line = file.readline()
            if not line.endswith(b"\n"):
                break
            offset += len(line)
            lines.append(line)
    if not lines:
        return [], offset
    try:  # the batch as one JSON array: one decoder call, not one a line
        return fastjson.loads(b"[" + b",".join(lines) + b"]"), offset
    except ValueError:
        pass
    records: list[dict] = []
    for line in lines:
        try:  # the standard library's decoder, more lenient than orjson's (an unpaired surrogate)
            records.append(json.loads(line))
        except ValueError:
            continue  # cannot happen with whole lines we wrote; never let one stop the spool
    return records, offset


class Spool:
    """This process's spool file: append records; the flusher reads and rotates it.

    shared: the file is drained by the flusher process (named with SHARED_SUFFIX) and the writer
    rotates it itself: once large, append() starts a new file and closes the old one, whose released
    lock tells the flusher process it may drain it to the end and remove it.
    """

    def __init__(self, directory: Path | None = None, *, shared: bool = False):
        self.directory = directory or spool_dir()
        self.shared = shared
        self.lock = threading.Lock()
        self.fd = -1
        self.path = Path()
        self.size = 0
        self._open()

    def _open(self) -> None:
        suffix = SHARED_SUFFIX if self.shared else ".spool"
        name = f"{os.getpid()}-{int(time.time() * 1000)}-{next(_sequence)}{suffix}"
        self.path = self.directory / name
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # ours while we live: recovery leaves it alone
        self.size = 0

    def append(self, records: list[dict]) -> None:
        """Append records with one write(); once it returns, a crash of this process loses none of them."""
        data = b"".join([fastjson.dumps_bytes(record) + b"\n" for record in records])
        with self.lock:
            written = os.write(self.fd, data)
            while written < len(data):  # a short write (a signal): finish it, still before answering
                written += os.write(self.fd, data[written:])
            self.size += len(data)
            if self.shared and self.size >= ROTATE_BYTES:
                old = self.fd
                self._open()
                os.close(old)  # releases its lock: the flusher process drains it to the end, then removes it

    def rotate_if_large(self, limit: int | None = None) -> tuple[Path, int] | None:
        """Start a new file once this one is large; return the old path and its still-locked fd.

        The flusher drains the old file, removes it, then closes the fd (which releases the lock), so
        no recovery in another process replays it meanwhile.
        """
        with self.lock:
            if self.size < (ROTATE_BYTES if limit is None else limit):
                return None
            old = (self.path, self.fd)
            self._open()
        return old

    def close(self) -> None:
        with self.lock:
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1


def orphans(directory: Path | None = None, *, exclude: set[Path] | None = None) -> Iterator[tuple[Path, int]]:
    """Yield spool files no live process holds, each with an open locked fd (the caller closes it).

    Taking the lock makes the caller the file's only reader: two recoveries never replay one file.
    """
    directory = directory or spool_dir()
    for path in sorted(directory.glob("*.spool")):
        if exclude and path in exclude:
            continue
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        yield path, fd
