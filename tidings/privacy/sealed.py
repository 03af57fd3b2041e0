"""Files sealed at rest: uploads encrypted in chunks under a per-file key wrapped by the workspace key.

Layout of a sealed file:

    MAGIC (8 bytes) ‖ workspace key version (4, big-endian) ‖ wrapped-key length (2) ‖ wrapped file key
    then chunks: sealed length (4) ‖ vault.seal(file key, up to 64 KiB, aad)

Each chunk is one AES-256-GCM message of the vault (vault.seal / vault.unseal). Its associated
data names the workspace, the file, the chunk's position and whether it is the last one, so chunks
cannot be reordered, moved to another file, or cut off at a chunk boundary without the reader
noticing (DecryptionFailed). The file key is wrapped by the workspace key (Keyring.new_file_key);
deleting the file deletes the key with it. Reading decrypts one chunk at a time, so a large upload
never sits in memory or on disk in clear.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable
from pathlib import Path

from tidings.files import open_private
from tidings.privacy.vault import DecryptionFailed, Keyring, seal, unseal

MAGIC = b"TIDSEAL1"
CHUNK_BYTES = 64 * 1024
_HEADER = struct.Struct(">IH")
_LENGTH = struct.Struct(">I")


def _chunk_aad(workspace_id: int, name: str, index: int, last: bool) -> bytes:
    return f"{workspace_id}:file:{name}:{index}:{int(last)}".encode()


def _rechunk(pieces: Iterable[bytes], size: int):
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    yield bytes(buffer)


def write_sealed(path: str | Path, pieces: Iterable[bytes], ring: Keyring, name: str) -> int:
    """Write pieces (bytes) to a new file at path (mode 0600), sealed under a fresh key; return the clear size.

    name binds the ciphertext to its file (use a random, stable name such as the upload's id).
    Raise FileExistsError when path exists.
    """
    version, wrapped, aead = ring.new_file_key(name)
    size = 0
    with open_private(path, "wb", exclusive=True) as out:
        out.write(MAGIC + _HEADER.pack(version, len(wrapped)) + wrapped)
        pending: bytes | None = None
        index = 0
        for chunk in _rechunk(pieces, CHUNK_BYTES):
            if pending is not None:
                blob = seal(aead, pending, _chunk_aad(ring.workspace_id, name, index, False))
                out.write(_LENGTH.pack(len(blob)) + blob)
                index += 1
            pending = chunk
            size += len(chunk)
        blob = seal(aead, pending or b"", _chunk_aad(ring.workspace_id, name, index, True))
        out.write(_LENGTH.pack(len(blob)) + blob)
    return size


class SealedReader(io.RawIOBase):
    """A readable binary stream of a sealed file's clear content, decrypted chunk by chunk."""

    def __init__(self, path: str | Path, ring: Keyring, name: str):
        self._file = open(path, "rb")  # noqa: SIM115 (closed by close())
        try:
            head = self._file.read(len(MAGIC) + _HEADER.size)
            if len(head) < len(MAGIC) + _HEADER.size or head[: len(MAGIC)] != MAGIC:
                raise DecryptionFailed("not a sealed file")
            version, wrapped_length = _HEADER.unpack(head[len(MAGIC) :])
            self._aead = ring.open_file_key(version, self._file.read(wrapped_length), name)
        except BaseException:
            self._file.close()
            raise
        self._workspace_id, self._name = ring.workspace_id, name
        self._index = 0
        self._buffer = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> None:
        header = self._file.read(_LENGTH.size)
        if len(header) < _LENGTH.size:
            raise DecryptionFailed("sealed file is truncated")
        (length,) = _LENGTH.unpack(header)
        blob = self._file.read(length)
        if len(blob) < length:
            raise DecryptionFailed("sealed file is truncated")
        try:
            clear = unseal(self._aead, blob, _chunk_aad(self._workspace_id, self._name, self._index, False))
        except DecryptionFailed:
            clear = unseal(self._aead, blob, _chunk_aad(self._workspace_id, self._name, self._index, True))
            self._done = True
            if self._file.read(1):
                raise DecryptionFailed("data after the last chunk of a sealed file") from None
        self._index += 1
        self._buffer = clear

    def readinto(self, target) -> int:
        while not self._buffer and not self._done:
            self._next_chunk()
        count = min(len(target), len(self._buffer))
        target[:count] = self._buffer[:count]
        self._buffer = self._buffer[count:]
        return count

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()


def open_sealed(path: str | Path, ring: Keyring, name: str, *, encoding: str | None = None, newline: str | None = None):
    """Open a sealed file for reading: a buffered binary stream, or text when encoding is given.

    Raise FileNotFoundError, or DecryptionFailed when the file is not sealed for this workspace
    and name, was altered or truncated (possibly later, while reading).
    """
    binary = io.BufferedReader(SealedReader(path, ring, name), buffer_size=CHUNK_BYTES)
    if encoding is None:
        return binary
    return io.TextIOWrapper(binary, encoding=encoding, newline=newline)
