"""The one base of Mautic-compatible endpoints: ``@mautic_api`` on a view does the common work.

A view under ``api/...`` is mounted twice by ``tidings.mautic_compat.urls.mautic_api_path``:
at the bare ``/api/...`` and under the workspace base ``/m/<mautic_workspace>/api/...``.
The decorator then

- resolves the workspace of the URL (the kwarg is ``mautic_workspace``, never
  ``workspace_slug``, so the UI middleware stays out), authenticates with
  ``tidings.api.auth`` (Bearer token, OAuth2, Basic), and answers 404 when the credentials
  belong to another workspace, exactly as for a workspace that does not exist;
- on the bare ``/api/...`` uses the credentials' own workspace, or tells a user with
  several workspaces to use ``/m/<slug>/``;
- counts the request against the credential's rate limit (shared with the native API);
- runs the view inside ``use_workspace(...)`` with ``request.principal`` set;
- answers every error in Mautic's shape (``MauticError``, ``Http404``, ``PermissionDenied``,
  ``tidings.api.errors.ApiError`` from ``tidings.api.permissions.require_permission``);
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

from tidings.api import ratelimit
from tidings.api.auth import (
    AuthenticationFailed,
    LockedOut,
    WorkspaceAmbiguous,
    WrongWorkspace,
    authenticate_request,
    rate_key,
)
from tidings.api.errors import ApiError
from tidings.inputs import InvalidInput, beyond_64_bits, has_nul
from tidings.mautic_compat.responses import (
    MAUTIC_VERSION,
    MauticError,
    mautic_error,
    mautic_json,
    rate_limit_message,
)
from tidings.tenancy.context import use_workspace

logger = logging.getLogger(__name__)


def _authenticate(request, slug):
    """Return the principal for this request and URL; raise MauticError for every refusal."""
    from tidings.tenancy.selectors import workspace_by_slug

    workspace = workspace_by_slug(slug) if slug is not None else None
    try:
        if slug is not None and workspace is None:
            # Valid credentials still get 404 for a workspace that does not exist;
            # without valid credentials, 401 as anywhere else (no probing of slugs).
            try:
                known = authenticate_request(request, None)
            except WorkspaceAmbiguous:
                known = True
            raise MauticError(404 if known else 401)
        principal = authenticate_request(request, workspace)
    except LockedOut as error:
        raise MauticError(429, f"{error}.", headers={"Retry-After": str(error.retry_after)}) from error
    except AuthenticationFailed as error:
        raise MauticError(401) from error
    except WrongWorkspace as error:
        raise MauticError(404) from error
    except WorkspaceAmbiguous as error:
        base = settings.TIDINGS_BASE_URL
        raise MauticError(
            400,
            "This user belongs to several workspaces: use the base URL of one of them, "
            f"{base}/m/<workspace>/, instead of {base}/.",
        ) from error
    if principal is None:
        raise MauticError(401)
    return principal


def _response_for(result) -> HttpResponse:
    if isinstance(result, HttpResponse):
        result.setdefault("Mautic-Version", MAUTIC_VERSION)
        return result
    if isinstance(result, tuple):
        status, data = result
        return mautic_json(data, status)
    return mautic_json(result)


def _validation_details(error: DjangoValidationError) -> dict:
    return error.message_dict if hasattr(error, "error_dict") else {"": error.messages}


def mautic_api(view):
    """Make view a Mautic-compatible API endpoint (see the module docstring)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        slug = kwargs.pop("mautic_workspace", None)
        principal = None
        try:
            principal = _authenticate(request, slug)
        except MauticError as error:
            failure = error
        else:
            failure = None
        state = ratelimit.hit(rate_key(principal, request))
        if state.exceeded:
            response = mautic_error(429, rate_limit_message(state.limit, state.window))
        elif failure is not None:
            response = mautic_error(failure.status, failure.message, failure.details)
            for header, value in failure.headers.items():
                response[header] = value
        elif (refusal := _unreadable(request, kwargs)) is not None:
            response = refusal
        else:
            request.principal = principal
            with use_workspace(principal.workspace):
                response = _run(view, request, args, kwargs)
        state.apply(response)
        return response

    wrapped.csrf_exempt = True  # credentials are headers, never cookies
    return wrapped


def _body_too_big() -> HttpResponse:
    return mautic_error(413, f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")


def _unreadable(request, kwargs) -> HttpResponse | None:
    """Return Mautic's error for a request no view can read: an oversized body (413), NUL characters
    in the path or query (400), too many parameters (400), or a path id beyond 64 bits (404: no such row).
    """
    try:
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
        details = _validation_details(error)
        message = "; ".join(
            f"{field}: {' '.join(msgs)}" if field else " ".join(msgs) for field, msgs in details.items()
        )
        return mautic_error(422, message, details)
    except Exception:
        logger.exception("Mautic-compatible API request failed")
        return mautic_error(500)
