"""The native REST API at /api/v1/ (django-ninja): authentication, errors, rate limits, routers.

Adding endpoints from another app: create ``tidings/<app>/api.py`` holding a ninja ``Router``
named ``router``; it is discovered and mounted at /api/v1/ (write full paths, e.g.
``@router.get("/segments")``). Each endpoint::

    from ninja import Router
    from tidings.api.pagination import CursorPagination
    from tidings.accounts.decorators import require_permission

    router = Router(tags=["segments"])

    @router.get("/segments", response=list[SegmentOut])
    @paginate(CursorPagination, ordering="-created_at")
    @require_permission("segments:view")          # or @authenticated, or @public: every operation declares one
    def list_segments(request):
        return segment_selectors.segments_for_workspace()   # runs inside the caller's workspace

What every endpoint gets without asking, from the entry pipeline (``tidings.web.entry.NATIVE_API``):

- ``request.principal`` (a ``tidings.accounts.permissions.Principal``) from ``tidings.api.auth``'s
  resolvers, the workspace's policies (two-factor, password Basic only where the workspace allows it),
  the declared permission checked before the operation runs (403 otherwise), and the whole request
  inside ``use_workspace(principal.workspace)``;
- 401 for a missing or bad credential, one error format for
  every error (``tidings.api.errors``; raise ``NotFound``, ``Conflict``... or Django's
  ``Http404`` / ``ValidationError``), rate limits with ``X-RateLimit-*`` headers
  (``tidings.api.ratelimit``); no CSRF, because no cookie authenticates an API call;
- input read strictly (``tidings.inputs``): a body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413,
  NaN, 1e400, nesting deeper than 32 and NUL characters a 400, a path id beyond 64 bits a 404.
  Annotate ids and numbers with ``tidings.api.types`` (``Id``, ``Int64``, ``Int32``), not ``int``.

Add the route names of a new endpoint to your app's ``tests/cross_workspace.py`` (they are
``api:v1:<function name>``) and pin query counts of list endpoints.
"""

from __future__ import annotations

import importlib
import logging
from functools import wraps

from django.apps import apps
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import HttpBasicAuth, HttpBearer

from tidings.accounts.permissions import Access, declared_access
from tidings.api.endpoints import router as own_router
from tidings.api.errors import ApiError, Unprocessable, error_response
from tidings.inputs import InvalidInput, beyond_64_bits, check_text, loads_json
from tidings.web import entry

logger = logging.getLogger(__name__)


class BearerAuth(HttpBearer):
    """Bearer credentials: a personal API token (tdg_...) or an OAuth2 access token.

    The credential is checked once per request by the view wrapper (see api_view); ninja's
    auth only reads the outcome, so the OpenAPI document still names the schemes.
    """

    def __call__(self, request):
        return getattr(request, "principal", None)

    def authenticate(self, request, token):  # pragma: no cover - __call__ decides
        return None


class BasicAuth(HttpBasicAuth):
    """HTTP Basic: a member's email and password, or any username with an API token as password."""

    def __call__(self, request):
        return getattr(request, "principal", None)

    def authenticate(self, request, username, password):  # pragma: no cover - __call__ decides
        return None


class StrictParser(Parser):
    """Read bodies and query strings with tidings.inputs: no NaN, 1e400, stack-deep nesting or NUL characters."""

    def parse_body(self, request):
        return loads_json(request.body)

    def parse_querydict(self, data, list_fields, request):
        result = super().parse_querydict(data, list_fields, request)
        check_text(result)
        return result


api = NinjaAPI(
    title="Tidings API",
    version="1",
    description="The native REST API of Tidings. Authenticate with `Authorization: Bearer <token>`.",
    urls_namespace="api:v1",  # nested in the api app's URLconf
    auth=[BearerAuth(), BasicAuth()],
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=StrictParser(),
)


def _field_errors(errors: list[dict]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in errors:
        location = ".".join(str(part) for part in error.get("loc", ()) if part != "ninja_pagination")
        fields.setdefault(location or "request", []).append(error.get("msg", "invalid"))
    return fields


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return error_response(exc.status, exc.message, code=exc.code, details=exc.details)


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    return error_response(422, "The request is not valid.", details={"fields": _field_errors(exc.errors)})


@api.exception_handler(DjangoValidationError)
def _django_validation_error(request, exc: DjangoValidationError):
    return _api_error(request, Unprocessable.of(exc))


@api.exception_handler(AuthenticationError)
def _not_authenticated(request, exc):
    return error_response(401, "Authentication credentials were not provided.")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, InvalidInput):  # ninja wraps every body parser error as "Cannot parse request body"
        return error_response(400, f"The request body cannot be read: {exc.__cause__}.")
    return error_response(exc.status_code, str(exc))


@api.exception_handler(InvalidInput)
def _invalid_input(request, exc: InvalidInput):
    return error_response(400, f"The request cannot be read: {exc}.")


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return _body_too_big()


@api.exception_handler(TooManyFieldsSent)
def _too_many_fields(request, exc):
    return error_response(400, "The request has too many parameters.")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response(404, "Not found.")


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return error_response(403, str(exc) or "You do not have permission to do this.")


@api.exception_handler(Exception)
def _server_error(request, exc):
    logger.exception("API request failed", exc_info=exc)
    return error_response(500, "Something went wrong on our side.")


def _body_too_big():
    from django.conf import settings

    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_response(413, f"The request body is larger than {limit} bytes.", code="payload_too_large")


def _is_multipart(request) -> bool:
    return (request.content_type or "").lower() == "multipart/form-data"


def _unreadable(request, kwargs):
    """Return an error response for a request no endpoint can read (too big, NUL in the path, id beyond 64 bits)."""
    if "\x00" in request.path:
        return error_response(400, "The path may not contain NUL characters.")
    try:
        if not _is_multipart(request):  # uploads stream to files; their fields are limited by Django's parser
            request.body  # noqa: B018 - read now, so an oversized body is a 413 before any endpoint runs
    except RequestDataTooBig:
        return _body_too_big()
    if any(beyond_64_bits(value) for value in kwargs.values()):
        return error_response(404, "Not found.")  # no row can have an id beyond 64 bits
    return None


def _answer(request, refusal) -> HttpResponse:
    """Render a refusal of the entry pipeline in the native error format."""
    if refusal.reason == "locked_out":
        retry_after = refusal.details["retry_after"]
        response = error_response(429, refusal.message, code="locked_out", details={"retry_after": retry_after})
        response["Retry-After"] = str(retry_after)
        return response
    if refusal.reason == "bad_credentials":
        return error_response(401, f"Invalid credentials: {refusal.message}.")
    if refusal.reason == "no_credentials":
        return error_response(401, "Authentication credentials were not provided.")
    if refusal.reason == "workspace_ambiguous":
        return error_response(
            400,
            "This account belongs to several workspaces; use an API token or OAuth2 application, which belong to one.",
            code="workspace_required",
        )
    if refusal.reason == "rate_limited":
        limit, window = refusal.details["limit"], refusal.details["window"]
        return error_response(429, f"Rate limit of {limit} requests per {window} seconds exceeded.")
    if refusal.reason == "not_found":
        return error_response(404, "Not found.")
    if refusal.reason == "forbidden":
        return error_response(403, refusal.message, details=refusal.details)
    return error_response(refusal.status, refusal.message, code=refusal.reason)


def _operations_access(callback) -> dict[str, Access | None]:
    """Return {HTTP method: declared Access} of the ninja operations behind a URL pattern's callback.

    ninja's PathView dispatches one path to an operation per method; its view keeps the PathView as
    the closure variable ``self``. A callback that is no PathView (the OpenAPI document, the docs
    page, ninja's root) holds no workspace data and is public ("*").
    """
    import inspect

    from ninja.operation import PathView

    path_view = inspect.getclosurevars(callback).nonlocals.get("self") if inspect.isfunction(callback) else None
    if not isinstance(path_view, PathView):
        return {"*": Access(public=True)}
    return {method: declared_access(op.view_func) for op in path_view.operations for method in op.methods}


def api_view(view, access_by_method: dict[str, Access | None] | None = None):
    """Wrap a Django view of the API in the entry pipeline (tidings.web.entry.NATIVE_API).

    access_by_method is each method's declared Access (read from the ninja operations when not
    given); a method no operation answers passes as public, so that the view answers 405.
    Used on every route under /api/v1/ (see urlpatterns()). A body over DATA_UPLOAD_MAX_MEMORY_SIZE
    is a 413, a path id beyond 64 bits a 404.
    """
    declared = access_by_method if access_by_method is not None else _operations_access(view)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        access = declared.get(request.method or "", declared.get("*", Access(public=True)))

        def run_view(request):
            unreadable = _unreadable(request, kwargs)
            if unreadable is not None:
                return unreadable
            response = view(request, *args, **kwargs)
            if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/json"):
                allowed = response.get("Allow", "")
                response = error_response(405, f"Use {allowed}." if allowed else "Method not allowed.")
                response["Allow"] = allowed
            return response

        return entry.run(request, entry.NATIVE_API, access=access, answer=_answer, view=run_view)

    wrapped.csrf_exempt = True  # type: ignore[attr-defined]  # credentials are headers, never cookies
    wrapped.tidings_access_by_method = declared  # type: ignore[attr-defined]  # read by tests/test_route_access.py
    return wrapped


def not_found(request, rest=""):
    """Answer an unknown path under /api/v1/ in the API's error format."""
    return error_response(404, "No such endpoint.")


_MOUNTED = False


def _mount_routers() -> None:
    """Mount this app's router and every tidings app's ``api.router``, once."""
    global _MOUNTED
    if _MOUNTED:
        return
    api.add_router("", own_router)
    for config in apps.get_app_configs():
        if not config.name.startswith("tidings.") or config.name == "tidings.api":
            continue
        module_name = f"{config.name}.api"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:
                continue
            raise
        router = getattr(module, "router", None)
        if router is not None:
            api.add_router("", router)
    # An app whose routes live in more than one module lists the others (emails: authoring, sending, stats).
    for config in apps.get_app_configs():
        for extra in getattr(config, "api_modules", ()):
            api.add_router("", importlib.import_module(extra).router)
    _MOUNTED = True


def urlpatterns():
    """Return the URL patterns of /api/v1/, each wrapped by api_view, plus a JSON 404 for unknown paths."""
    from django.urls import URLPattern, re_path

    _mount_routers()
    patterns, _app, _namespace = api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = api_view(pattern.callback)
    patterns.append(re_path(r"^(?P<rest>.*)$", api_view(not_found, {"*": Access(public=True)}), name="not_found"))
    return patterns, "ninja", "v1"
