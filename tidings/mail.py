"""Mail backends: Django's file backend with owner-only files (password-reset links live there)."""

from __future__ import annotations

from django.core.mail.backends.filebased import EmailBackend as DjangoFileBackend

from tidings.files import open_private, private_makedirs


class PrivateFileEmailBackend(DjangoFileBackend):
    """Write each message to a file in EMAIL_FILE_PATH, the file 0600 and the folder 0700."""

    def __init__(self, *args, file_path=None, **kwargs) -> None:
        super().__init__(*args, file_path=file_path, **kwargs)
        private_makedirs(self.file_path)  # type: ignore[attr-defined]  # set by Django's __init__, not in the stubs

    def open(self):
        if self.stream is None:
            self.stream = open_private(self._get_filename(), "ab")
            return True
        return False
