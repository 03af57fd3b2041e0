"""Files that may hold personal data or secrets are owner-only: mail written to files, private folders."""

import os
import stat

import pytest
from django.core.mail import EmailMessage

from tidings import conf
from tidings.files import private_makedirs
from tidings.mail import PrivateFileEmailBackend

# Runs on SQLite only (bin/test): nothing here reaches the database engine; conftest.py checks that.
pytestmark = pytest.mark.engine_independent


@pytest.fixture
def loose_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_without_smtp_mail_goes_to_the_private_file_backend(monkeypatch):
    monkeypatch.delenv("TIDINGS_SMTP_URL", raising=False)

    assert conf.email_settings()["EMAIL_BACKEND"] == "tidings.mail.PrivateFileEmailBackend"


def test_a_mail_file_is_0600_in_a_0700_folder(tmp_path, loose_umask):
    folder = tmp_path / "var" / "mail"
    backend = PrivateFileEmailBackend(file_path=str(folder))

    backend.send_messages(
        [EmailMessage("Reset your password", "a link", "no-reply@tidings.example", ["ada@example.example"])]
    )

    (written,) = list(folder.iterdir())
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_an_existing_mail_folder_is_narrowed_to_0700(tmp_path, loose_umask):
    folder = tmp_path / "mail"
    folder.mkdir(mode=0o755)

    PrivateFileEmailBackend(file_path=str(folder))

    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_private_folders_are_0700_at_every_level_created(tmp_path, loose_umask):
    private_makedirs(tmp_path / "uploads" / "eu" / "imports")

    modes = {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "uploads").rglob("*")} | {
        stat.S_IMODE((tmp_path / "uploads").stat().st_mode)
    }
    assert modes == {0o700}
