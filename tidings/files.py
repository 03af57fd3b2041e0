"""Files Tidings writes under its var folder that may hold personal data: owner-only modes.

Uploads, mail written to files (password-reset links) and anything else private is created
0600 inside 0700 folders, whatever the process umask, so another account on the host cannot
read it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def private_makedirs(path: str | Path) -> Path:
    """Create the folder at path and any missing parents with mode 0700; return it.

    Folders that already exist keep their mode, except path itself, which is set to 0700
    (os.makedirs applies its mode to the last folder only and through the umask).
    """
    path = Path(path)
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            folder.mkdir(mode=PRIVATE_DIR_MODE)
        os.chmod(folder, PRIVATE_DIR_MODE)
    if not path.is_dir():
        raise NotADirectoryError(f"{path} exists and is not a folder")
    os.chmod(path, PRIVATE_DIR_MODE)
    return path


def open_private(path: str | Path, mode: str = "ab", *, exclusive: bool = False):
    """Open path for writing (binary), creating it with mode 0600; exclusive refuses an existing file."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0)
    flags |= os.O_EXCL if exclusive else (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE_FILE_MODE)
    os.fchmod(fd, PRIVATE_FILE_MODE)  # an existing file created by an older version keeps nothing wider
    return os.fdopen(fd, mode)
