"""The one base of Mautic-compatible endpoints: ``@mautic_api`` on a view does the common work.

A view under ``api/...`` is mounted twice by ``tidings.mautic_compat.urls.mautic_api_path``:
at the bare ``/api/...`` and under the workspace base ``/m/<mautic_workspace>/api/...``.
The decorator takes the request through the entry pipeline's Mautic door
(``tidings.web.entry.MAUTIC_API``), which

- resolves the workspace of the URL (the kwarg is ``mautic_workspace``, never
  ``workspace_slug``, so the UI middleware stays out), authenticates with
  ``tidings.api.auth``'s resolvers (Bearer token, OAuth2, Basic; a password only where the
  workspace allows it), and answers 404 when the credentials belong to another workspace,
  exactly as for a workspace that does not exist;
- on the bare ``/api/...`` uses the credentials' own workspace, or tells a user with
  several workspaces to use ``/m/<slug>/``;
- checks the permission the view declares (``@require_permission(...)`` from
  ``tidings.accounts.decorators``, or ``@authenticated``, below ``@mautic_api``);
- counts the request against the credential's rate limit (shared with the native API);
- runs the view inside ``use_workspace(...)`` with ``request.principal`` set;
- answers every error in Mautic's shape (``MauticError``, ``Http404``, ``PermissionDenied``,
  ``tidings.api.errors.ApiError``);
- refuses what no view can read, in Mautic's shape: a body over DATA_UPLOAD_MAX_MEMORY_SIZE
  (413), NUL characters in the path or query (400), a path id beyond 64 bits (404), and
  ``tidings.inputs.InvalidInput`` raised by a view (400);
- adds ``Mautic-Version`` and the ``X-RateLimit-*`` headers to every response.

A view receives ``(request, **route kwargs)`` and returns a dict (sent as JSON, 200), a
``(status, dict)`` pair, or an HttpResponse.
"""

from __future__ import annotations

import logging
from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse

from tidings.accounts.permissions import declared_access
from tidings.api.errors import ApiError
from tidings.inputs import InvalidInput, beyond_64_bits, has_nul
from tidings.mautic_compat.responses import (
    MAUTIC_VERSION,
    MauticError,
    mautic_error,
    mautic_json,
    rate_limit_message,
    validation_error,
)
from tidings.web import entry

logger = logging.getLogger(__name__)


def _answer(request, refusal) -> HttpResponse:
    """Render a refusal of the entry pipeline in Mautic's error shape."""
    if refusal.reason == "rate_limited":
        return mautic_error(429, rate_limit_message(refusal.details["limit"], refusal.details["window"]))
    if refusal.reason == "locked_out":
        response = mautic_error(429, f"{refusal.message}.")
        response["Retry-After"] = str(refusal.details["retry_after"])
        return response
    if refusal.reason == "workspace_ambiguous":
        base = settings.TIDINGS_BASE_URL
        return mautic_error(
            400,
            "This user belongs to several workspaces: use the base URL of one of them, "
            f"{base}/m/<workspace>/, instead of {base}/.",
        )
    if refusal.reason in {"password_refused", "two_factor_required"}:
        return mautic_error(refusal.status, refusal.message)
    return mautic_error(refusal.status)  # Mautic's own wording for 401, 403 and 404


def _response_for(result) -> HttpResponse:
    if isinstance(result, HttpResponse):
        result.setdefault("Mautic-Version", MAUTIC_VERSION)
        return result
    if isinstance(result, tuple):
        status, data = result
        return mautic_json(data, status)
    return mautic_json(result)


def mautic_api(view):
    """Make view a Mautic-compatible API endpoint (see the module docstring).

    view declares what it needs with tidings.accounts.decorators (require_permission, authenticated)
    below this decorator; the entry pipeline checks it before the view runs.
    """
    access = declared_access(view)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        slug = kwargs.pop("mautic_workspace", None)
        return entry.run(
            request,
            entry.MAUTIC_API,
            access=access,
            answer=_answer,
            view=lambda request: _unreadable(request, kwargs) or _run(view, request, args, kwargs),
            workspace_slug=slug,
        )

    wrapped.csrf_exempt = True  # type: ignore[attr-defined]  # credentials are headers, never cookies
    return wrapped


def _body_too_big() -> HttpResponse:
    return mautic_error(413, f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")


def _unreadable(request, kwargs) -> HttpResponse | None:
    """Return Mautic's error for a request no view can read: an oversized body (413), NUL characters
    in the path or query (400), too many parameters (400), or a path id beyond 64 bits (404: no such row).
    """
    try:
        if (request.content_type or "").lower() != "multipart/form-data":  # uploads stream to files
            request.body  # noqa: B018 - read now, so an oversized body is a 413 before any view runs
        if has_nul(request.path) or has_nul(list(request.GET.lists())):
            return mautic_error(400, "text may not contain NUL characters.")
    except RequestDataTooBig:
        return _body_too_big()
    except TooManyFieldsSent:
        return mautic_error(400, "The request has too many parameters.")
    if any(beyond_64_bits(value) for value in kwargs.values()):
        return mautic_error(404)
    return None


def _run(view, request, args, kwargs) -> HttpResponse:
    try:
        return _response_for(view(request, *args, **kwargs))
    except InvalidInput as error:
        return mautic_error(400, f"{error}.")
    except RequestDataTooBig:
        return _body_too_big()
    except TooManyFieldsSent:
        return mautic_error(400, "The request has too many parameters.")
    except MauticError as error:
        return mautic_error(error.status, error.message, error.details)
    except ApiError as error:
        return mautic_error(error.status, None if error.status in (403, 404) else error.message, error.details or [])
    except Http404:
        return mautic_error(404)
    except PermissionDenied:
        return mautic_error(403)
    except DjangoValidationError as error:
        refusal = validation_error(error, status=422)
        return mautic_error(refusal.status, refusal.message, refusal.details)
    except Exception:
        logger.exception("Mautic-compatible API request failed")
        return mautic_error(500)
