"""The links a subject gets: confirming a request, and reading an access package (signed, expiring)."""

from __future__ import annotations

from django.conf import settings
from django.core import signing

PACKAGE_DAYS = 14
_PACKAGE_SALT = "tidings.subject_requests.package"


def _base(workspace_slug: str) -> str:
    return f"{str(settings.TIDINGS_BASE_URL).rstrip('/')}/m/{workspace_slug}/privacy"


def request_form_url(workspace_slug: str) -> str:
    return f"{_base(workspace_slug)}/request"


def verify_url(workspace_slug: str, request_id: int, code: str) -> str:
    return f"{_base(workspace_slug)}/verify/{request_id}/{code}"


def package_token(workspace_id: int, request_id: int) -> str:
    return signing.dumps([workspace_id, request_id], salt=_PACKAGE_SALT, compress=False)


def package_url(workspace_slug: str, request_id: int, *, workspace_id: int | None = None) -> str:
    from tidings.tenancy.context import require_workspace

    token = package_token(workspace_id if workspace_id is not None else require_workspace().id, request_id)
    return f"{_base(workspace_slug)}/package/{token}"


def package_request_id(token: object, workspace_id: int) -> int | None:
    """Return the request id an access package link names if it is this workspace's and not expired."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    try:
        value = signing.loads(token, salt=_PACKAGE_SALT, max_age=PACKAGE_DAYS * 86400)
    except signing.BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and value[0] == workspace_id and isinstance(value[1], int)):
        return None
    return value[1]
