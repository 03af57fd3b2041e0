"""A send's journal: the local append-only file of its in-flight messages (see tidings.emails.sender).

Around each SMTP transaction a worker appends "a <contact>" before, "c <contact>" just before the message's
data leaves (it ends with the line "." that asks the server to take it), "s <contact> <time> <hash> <message-id>"
once the server accepted it, "f <contact> <reason>" when it refused it and "d <contact> <reason>" when it
deferred it. A write() to a file outlives the process that made it, so SIGKILL loses nothing the journal
was told; the header line names the boot, the host and the journal's version, so that a journal from
another boot or machine is not trusted to be complete.

Only a message with a "c" line can have been taken: a server takes nothing of a transaction that ended
before the data's final "." (RFC 5321, 4.1.1.4), so "a" alone means not sent. Journals of version 1 (no
version in the header) had no "c" lines: their "a" alone stays in doubt.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from django.conf import settings as django_settings


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


VERSION = "2"  # 2: "c" lines mark the end of a message's data (see the module docstring)


def journal_dir() -> Path:
    return Path(django_settings.VAR_DIR) / "emails" / "journal"


class Journal:
    """The append-only file of one send's in-flight messages (see the module docstring)."""

    def __init__(self, workspace_id: int, send_id: int, lane: int | None = None):
        # A send in lanes (decision 0036) has one journal per lane: a lane's recovery reads its own only.
        suffix = "" if lane is None else f"-lane{lane}"
        self.path = journal_dir() / f"{workspace_id}-{send_id}{suffix}.log"
        self._fd: int | None = None

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if fresh:
            self.write(self._header())

    @staticmethod
    def _header() -> str:
        return f"h {_boot_id()} {socket.gethostname()} {VERSION}"

    def write(self, line: str) -> None:
        # One write() per line: appends of a few bytes land whole, and the kernel keeps them when we die.
        assert self._fd is not None
        os.write(self._fd, (line + "\n").encode("ascii"))

    def reset(self) -> None:
        """Empty the journal once a batch's outcome is committed (the header is written again)."""
        assert self._fd is not None
        os.ftruncate(self._fd, 0)
        self.write(self._header())

    def close(self, *, remove: bool = False) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if remove:
            self.path.unlink(missing_ok=True)

    def read(self) -> tuple[bool, dict[int, tuple]]:
        """Return (whether the journal is complete and trusted, {contact id: its last line's fields}).

        A version 1 journal's "a" lines are read as "c": without the mark, a message begun may have been taken.
        """
        try:
            lines = self.path.read_text(encoding="ascii", errors="replace").splitlines()
        except FileNotFoundError:
            return False, {}
        header = lines[0].split()[1:] if lines else []
        trusted = header[:2] == [_boot_id(), socket.gethostname()]
        marked = header[2:3] == [VERSION]
        found: dict[int, tuple] = {}
        for line in lines:
            parts = line.split()
            if len(parts) >= 2 and parts[0] in ("a", "c", "s", "f", "d") and parts[1].isdigit():
                if parts[0] == "a" and not marked:
                    parts[0] = "c"
                kind, contact_id = parts[0], int(parts[1])
                if found.get(contact_id, ("",))[0] not in ("s", "f", "d"):  # an outcome is final
                    found[contact_id] = (kind, *parts[2:])
        return trusted, found
