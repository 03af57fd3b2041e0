"""Sealed files: uploads encrypted at rest in chunks, read back as a stream, bound to their workspace and name."""

import os
import stat

import pytest

from tidings.privacy import sealed
from tidings.privacy.vault import DecryptionFailed, keyring
from tidings.tenancy.context import use_workspace

PEOPLE = b"email,firstname\nzoe@people.example,Zoe\n" * 5000  # about 200 KB: several chunks


def test_a_sealed_file_holds_no_clear_text_and_reads_back_whole(in_acme, tmp_path):
    path = tmp_path / "upload.sealed"

    sealed.write_sealed(path, [PEOPLE[:70_000], PEOPLE[70_000:]], keyring(), "upload")

    assert b"zoe@people.example" not in path.read_bytes()
    with sealed.open_sealed(path, keyring(), "upload") as handle:
        assert handle.read() == PEOPLE


def test_a_sealed_file_is_created_owner_only(in_acme, tmp_path):
    path = tmp_path / "upload.sealed"
    previous = os.umask(0o022)
    try:
        sealed.write_sealed(path, [b"email\n"], keyring(), "upload")
    finally:
        os.umask(previous)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_sealed_file_reads_as_text_line_by_line(in_acme, tmp_path):
    path = tmp_path / "upload.sealed"
    sealed.write_sealed(path, ["firstname\nZoë\n".encode("utf-16")], keyring(), "upload")

    with sealed.open_sealed(path, keyring(), "upload", encoding="utf-16", newline="") as handle:
        assert list(handle) == ["firstname\n", "Zoë\n"]


def test_an_empty_file_seals_and_reads_back_empty(in_acme, tmp_path):
    path = tmp_path / "empty.sealed"
    sealed.write_sealed(path, [], keyring(), "empty")

    with sealed.open_sealed(path, keyring(), "empty") as handle:
        assert handle.read() == b""


def test_a_sealed_file_cut_at_a_chunk_boundary_does_not_read(in_acme, tmp_path):
    path = tmp_path / "upload.sealed"
    sealed.write_sealed(path, [PEOPLE], keyring(), "upload")
    blob = path.read_bytes()
    header = len(sealed.MAGIC) + 6 + int.from_bytes(blob[len(sealed.MAGIC) + 4 : len(sealed.MAGIC) + 6], "big")
    first_chunk = 4 + int.from_bytes(blob[header : header + 4], "big")
    path.write_bytes(blob[: header + first_chunk])

    with pytest.raises(DecryptionFailed), sealed.open_sealed(path, keyring(), "upload") as handle:
        handle.read()


def test_a_sealed_file_opens_only_under_its_own_name(in_acme, tmp_path):
    path = tmp_path / "upload.sealed"
    sealed.write_sealed(path, [PEOPLE], keyring(), "upload")

    with pytest.raises(DecryptionFailed):
        sealed.open_sealed(path, keyring(), "another-upload")


def test_a_sealed_file_does_not_open_in_another_workspace(acme, globex, tmp_path):
    path = tmp_path / "upload.sealed"
    with use_workspace(acme):
        sealed.write_sealed(path, [PEOPLE], keyring(), "upload")

    with use_workspace(globex), pytest.raises(DecryptionFailed):
        sealed.open_sealed(path, keyring(), "upload")
