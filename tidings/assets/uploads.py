"""Reading an upload without storing more than the workspace accepts.

Django stores an upload before any view sees it (in memory, then a 0600 temporary file). The
handler here sits first in the request's upload handlers and stops the upload as soon as a file
passes the workspace's limit: the rest of the body is read and discarded, nothing larger than the
limit reaches the disk, and the view says which limit was passed. Views that use it are
csrf_exempt outside and csrf_protect inside (Django's documented way to change upload handlers).
"""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, StopUpload

SLACK = 64 * 1024  # bytes of multipart framing and form fields beside the file


class SizeLimitHandler(FileUploadHandler):
    """Stop reading uploaded files once their bytes pass limit; exceeded then says so."""

    def __init__(self, request=None, *, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


def limit_uploads(request, limit: int) -> SizeLimitHandler:
    """Put a SizeLimitHandler first among request's upload handlers (before request.POST is read); return it."""
    handler = SizeLimitHandler(request, limit=limit)
    request.upload_handlers.insert(0, handler)
    return handler


def declared_too_big(request, limit: int) -> bool:
    """Return whether the request's Content-Length alone shows the body exceeds limit (plus framing)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > limit + SLACK
