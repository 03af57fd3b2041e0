"""One way in: every request to the UI and both APIs goes through the same steps before its view runs.

    1. resolve the principal   the door's resolvers, in order; the first that recognises a credential decides
    2. enter the workspace     the URL's (/w/<slug>/, /m/<slug>/) must be the principal's, else 404
    3. apply workspace policy  two-factor, password Basic auth (IP allow-lists will go here)
    4. check the permission    the route's declaration (tidings.accounts.decorators), else 403
    5. rate-limit              per credential, or per client address without one
    then run the view inside use_workspace(principal.workspace).

A ``Door`` is one kind of entry: its resolvers, its policies and whether it is rate-limited. The
surfaces only say how to answer a ``Refusal`` in their own shape:

- the UI, ``UI`` (tidings.web.middleware.WorkspaceMiddleware): the session, for /w/<slug>/ pages;
- the native API, ``NATIVE_API`` (tidings.api.api.api_view): API tokens, OAuth2 tokens, password Basic;
- the Mautic-compatible API, ``MAUTIC_API`` (tidings.mautic_compat.decorators.mautic_api): the same.

A fifth door: a workspace's public path
--------------------------------------
``PUBLIC_PAGE`` serves what a workspace shows to anyone on its public path /m/<slug>/... (landing
pages, the preference centre, asset downloads): its one resolver names the workspace of the URL and
gives the visitor a narrow principal (``Via.VISITOR``, PUBLIC_PAGE_PERMISSIONS), rate-limited per
workspace and client address. A workspace that does not exist answers exactly like a page that does
not exist (the surface's 404). ``public_page_entry`` is its decorator for web-layer views; a domain
app's route names its slug kwarg ``public_workspace`` and the workspace middleware takes it through.
``PUBLIC_FORM`` is the same for forms posted from customers' pages (/m/<slug>/form/...), with
forms:submit and consent:record and its own limits per network and per form.

A fourth door: public keys (tracker, form submits, unsubscribe links)
---------------------------------------------------------------------
A public site key names a workspace and acts with a narrow principal: ``PUBLIC_KEY`` is one resolver
(``resolve_site_key``: the key -> tidings.tracking.selectors.site_by_public_key -> the site's workspace,
``Via.PUBLIC_KEY``, permissions {"tracking:record", "consent:record"}, rate-limited per site), one policy
(``origin_allowed``: the page's Origin, else Referer, host must be one of the site's domains; a domain
starting with "." allows its subdomains) and one decorator for Django views::

    @public_key_entry                                   # or @public_key_entry(answer=pixel_answer)
    @require_permission("tracking:record")
    def hit(request): ...                                # request.principal.extra["site"] is the Site

Unknown keys and refused origins answer 403 (``public_refusal_answer``: {"ok": 0, "error": ...}, never a value).

The functions of this door also take a small request-like object instead of Django's HttpRequest
(the ingest's lean front parses the payload itself): anything with ``method``, ``headers`` (a mapping;
names in any case), ``GET`` (a mapping), ``client_ip`` and optionally ``site_key`` (the key the payload
named). ``LeanRequest`` is such an object; ``public_key_principal(request)`` runs steps 1 to 4 on it and
``cors_origin(request, site)`` says which Origin to echo in Access-Control-Allow-Origin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, JsonResponse

from tidings.accounts.actions import support_grant_log_request
from tidings.accounts.permissions import (
    PUBLIC_FORM_PERMISSIONS,
    PUBLIC_KEY_PERMISSIONS,
    PUBLIC_PAGE_PERMISSIONS,
    Access,
    Principal,
    Via,
    declared_access,
)
from tidings.accounts.selectors import has_two_factor, principal_for_user
from tidings.api import auth, ratelimit
from tidings.tenancy.context import use_workspace
from tidings.tenancy.network import client_ip
from tidings.tenancy.selectors import workspace_by_id, workspace_by_slug
from tidings.tracking import selectors as tracking_selectors


class Refusal(Exception):
    """The pipeline turns the request away; each surface renders it in its own shape.

    reason is a stable name surfaces switch on: no_credentials, bad_credentials, locked_out,
    workspace_ambiguous, not_found, password_refused, two_factor_required, forbidden, rate_limited.
    """

    def __init__(self, status: int, reason: str, message: str = "", *, details: dict | None = None):
        super().__init__(message or reason)
        self.status = status
        self.reason = reason
        self.message = message
        self.details = details or {}
        self.principal: Principal | None = None  # who was refused, once known (support access is logged)


@dataclass(frozen=True)
class Resolver:
    """One way of naming the principal: kind ("session", "api_token", "oauth", "password") and the function.

    resolve(request, workspace) returns a Principal, None when the request carries no credential of this
    kind, or raises auth.AuthenticationFailed / LockedOut / WorkspaceAmbiguous / WrongWorkspace.
    workspace is the one named in the URL, or None.
    """

    kind: str
    resolve: Callable[[HttpRequest, Any], Principal | None]


Policy = Callable[[HttpRequest, Principal, str, Access], None]


@dataclass(frozen=True)
class Door:
    """One kind of entry: the resolvers tried in order, the policies applied, and whether it is rate-limited."""

    name: str
    resolvers: tuple[Resolver, ...]
    policies: tuple[Policy, ...] = field(default=())
    rate_limited: bool = False


# ----------------------------------------------------------------------------------------------
# Step 1: resolvers


def resolve_session(request, workspace) -> Principal | None:
    """Return the signed-in user's principal in workspace (member or staff under a support grant).

    None for an anonymous request; WrongWorkspace (404) for a user who cannot enter workspace.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    principal = principal_for_user(user, workspace) if workspace is not None else None
    if principal is None:
        raise auth.WrongWorkspace()
    return principal


API_RESOLVERS = (
    Resolver("api_token", auth.resolve_api_token),
    Resolver("oauth", auth.resolve_oauth_token),
    Resolver("password", auth.resolve_password),
    Resolver("other", auth.refuse_other_schemes),
)


def _identify(request, door: Door, workspace) -> tuple[Principal | None, str]:
    """Run door's resolvers in order; return (principal, kind), or (None, "") when no credential was given."""
    try:
        for resolver in door.resolvers:
            principal = resolver.resolve(request, workspace)
            if principal is not None:
                return principal, resolver.kind
    except auth.LockedOut as error:
        raise Refusal(429, "locked_out", str(error), details={"retry_after": error.retry_after}) from error
    except auth.AuthenticationFailed as error:
        raise Refusal(401, "bad_credentials", str(error)) from error
    except auth.WrongWorkspace as error:
        raise Refusal(404, "not_found") from error
    except auth.WorkspaceAmbiguous as error:
        raise Refusal(400, "workspace_ambiguous") from error
    return None, ""


# ----------------------------------------------------------------------------------------------
# Step 3: workspace policies


def has_second_factor(user) -> bool:
    return has_two_factor(user)


def two_factor_for_sessions(request, principal: Principal, kind: str, access: Access) -> None:
    """Send a session that has not passed the second factor away from a workspace that requires it."""
    if kind != "session" or access.verifies_two_factor:
        return
    if principal.workspace.require_two_factor and not request.user.is_verified():
        raise Refusal(403, "two_factor_required", "This workspace requires two-factor sign-in.")


def password_basic_where_allowed(request, principal: Principal, kind: str, access: Access) -> None:
    """Refuse a password over HTTP Basic unless the workspace allows it and no second factor should guard it.

    A password alone must not do through the API what it cannot do in the UI: a member with a second
    factor, or any member of a workspace that requires one, uses an API token or OAuth2 instead.
    """
    if kind != "password":
        return
    advice = "use an API token or OAuth2"
    if has_second_factor(principal.user):
        message = f"This account signs in with a second factor, so its password does not open the API: {advice}."
    elif principal.workspace.require_two_factor:
        message = f"This workspace requires two-factor sign-in, so a password does not open the API: {advice}."
    elif not principal.workspace.allow_password_basic:
        message = f"This workspace does not accept passwords on the API: {advice}."
    else:
        return
    raise Refusal(401, "password_refused", message)


def two_factor_for_api_users(request, principal: Principal, kind: str, access: Access) -> None:
    """Refuse a user's token or OAuth2 grant in a workspace that requires two-factor while they have none.

    The same rule as the UI's: a member who has not set up a second factor cannot open the workspace.
    """
    if kind not in {"api_token", "oauth"} or principal.user is None or not principal.workspace.require_two_factor:
        return
    if not has_second_factor(principal.user):
        raise Refusal(
            403,
            "two_factor_required",
            "This workspace requires two-factor sign-in: set it up for your account to use the API.",
        )


# ----------------------------------------------------------------------------------------------
# The doors

UI = Door("ui", resolvers=(Resolver("session", resolve_session),), policies=(two_factor_for_sessions,))
NATIVE_API = Door(
    "api",
    resolvers=API_RESOLVERS,
    policies=(password_basic_where_allowed, two_factor_for_api_users),
    rate_limited=True,
)
MAUTIC_API = Door("mautic", resolvers=API_RESOLVERS, policies=NATIVE_API.policies, rate_limited=True)


# ----------------------------------------------------------------------------------------------
# The pipeline


def _enter(request, door: Door, access: Access | None, workspace_slug: str | None) -> tuple[Principal | None, str]:
    """Run steps 1 to 4; return (principal, credential kind) or raise Refusal."""
    workspace = None
    if workspace_slug is not None:
        workspace = workspace_by_slug(workspace_slug)
        if workspace is None:
            # A workspace that does not exist answers as one the caller may not enter (404), but only
            # to a caller who proved who they are; anyone else gets 401 as anywhere, so slugs cannot be probed.
            try:
                known = _identify(request, door, None)[0] is not None
            except Refusal as refusal:
                if refusal.reason not in {"workspace_ambiguous", "not_found"}:
                    raise
                known = True
            raise Refusal(404, "not_found") if known else Refusal(401, "no_credentials")
    principal, kind = _identify(request, door, workspace)
    if principal is None:
        if access is not None and access.public:
            return None, ""
        raise Refusal(401, "no_credentials")
    if workspace is not None and principal.workspace.pk != workspace.pk:
        raise Refusal(404, "not_found")
    try:
        if access is None:  # fail closed: tidings/tests/test_route_access.py keeps this from happening
            raise Refusal(403, "forbidden", "This route declares no permission.")
        for policy in door.policies:
            policy(request, principal, kind, access)
        if access.permission is not None and not principal.can(access.permission):
            needed = access.permission
            raise Refusal(403, "forbidden", f"You need the {needed} permission.", details={"permission": needed})
    except Refusal as refusal:
        refusal.principal = principal
        raise
    return principal, kind


def _log_support_access(principal: Principal | None, request, status: int) -> None:
    """Record a request made under a staff support grant in the workspace's audit log, refused ones too."""
    if principal is None or principal.via != Via.SUPPORT:
        return
    with use_workspace(principal.workspace):
        support_grant_log_request(principal, request, status)


def run(
    request,
    door: Door,
    *,
    access: Access | None,
    answer: Callable[[HttpRequest, Refusal], HttpResponse],
    view: Callable[[HttpRequest], HttpResponse],
    workspace_slug: str | None = None,
) -> HttpResponse:
    """Take request through door's steps and run view in the principal's workspace.

    access is the route's declaration (None: it declares none, and only a refusal comes out);
    workspace_slug the workspace the URL names, if any. A refusal is rendered by answer; with a
    rate-limited door every response carries the X-RateLimit-* headers and an exceeded limit wins
    over every other refusal (429).
    """
    principal, kind, refusal = None, "", None
    try:
        principal, kind = _enter(request, door, access, workspace_slug)
    except Refusal as caught:
        refusal = caught
    state = None
    if door.rate_limited:
        state = ratelimit.hit(auth.rate_key(principal, request))
        if state.exceeded:
            refusal = Refusal(429, "rate_limited", details={"limit": state.limit, "window": state.window})
    if refusal is not None:
        _log_support_access(refusal.principal, request, refusal.status)
        response = answer(request, refusal)
    else:
        request.principal = principal
        request.credential = kind
        if principal is None:
            response = view(request)
        else:
            request.workspace = principal.workspace
            with use_workspace(principal.workspace):
                response = view(request)
            _log_support_access(principal, request, response.status_code)
    if state is not None:
        state.apply(response)
    return response


# ----------------------------------------------------------------------------------------------
# The public-key door (the tracker; forms and unsubscribe links will join it)

SITE_KEY_HEADER = "X-Tidings-Key"


class PublicRequest(Protocol):
    """What the public-key door reads of a request: Django's HttpRequest is one, LeanRequest another.

    headers: a mapping of header names (any case) to values; GET: the query parameters; client_ip:
    the client's address as tidings.tenancy.network.client_ip would give it (a Django request has
    none: the door asks client_ip(request)); site_key: the key the body named, when the caller parsed it.
    """

    method: str
    headers: Mapping[str, str]
    GET: Mapping[str, str]


@dataclass
class LeanRequest:
    """A request-like object for callers that are not Django views (the ingest's lean ASGI front).

    The door sets principal, credential and workspace on it as it does on an HttpRequest.
    """

    method: str
    headers: Mapping[str, str]
    GET: Mapping[str, str] = field(default_factory=dict)
    client_ip: str = ""
    site_key: str = ""

    def __post_init__(self) -> None:
        self.headers = {str(name).lower(): value for name, value in self.headers.items()}

    @property
    def META(self) -> dict[str, str]:  # noqa: N802 - the name Django's client_ip() reads
        return {"REMOTE_ADDR": self.client_ip}


def _header(request, name: str) -> str:
    headers = getattr(request, "headers", None) or {}
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value if isinstance(value, str) else ""


def site_key_of(request) -> str:
    """Return the site key a request names: the parsed body's (site_key), ?k=, or the X-Tidings-Key header."""
    key = getattr(request, "site_key", "") or ""
    if not key:
        query = getattr(request, "GET", None) or {}
        key = query.get("k", "") or ""
    if not key:
        key = _header(request, SITE_KEY_HEADER)
    return key if isinstance(key, str) else ""


def resolve_site_key(request, workspace) -> Principal | None:
    """Return the principal of the site the request's key names; None without a key.

    Raise AuthenticationFailed for a key that names no active site (the door answers 403). The
    principal records the site in extra["site"] and is rate-limited per site.
    """
    key = site_key_of(request)
    if not key:
        return None
    site = tracking_selectors.site_by_public_key(key)
    site_workspace = workspace_by_id(site.workspace_id) if site is not None else None
    if site is None or site_workspace is None:
        raise auth.AuthenticationFailed("Unknown site key.")
    return Principal(
        workspace=site_workspace,
        user=None,
        permissions=PUBLIC_KEY_PERMISSIONS,
        via=Via.PUBLIC_KEY,
        credential_id=site.pk,
        extra={"rate_key": f"site:{site.pk}", "site": site},
    )


def origin_host(request) -> str:
    """Return the host of the page that sent the request: its Origin header's, else its Referer's; "" if none."""
    for name in ("Origin", "Referer"):
        value = _header(request, name).strip()
        if not value or value == "null":
            continue
        try:
            host = urlsplit(value).hostname or ""
        except ValueError:
            host = ""
        if host:
            return host.rstrip(".").lower()
    return ""


def host_allowed(host: str, domains) -> bool:
    """Return whether host is one of domains; ".shop.example" allows shop.example and its subdomains."""
    return tracking_selectors.host_covered(host, domains)


def origin_allowed(request, principal: Principal, kind: str, access: Access) -> None:
    """Refuse (403) a public-key request whose page is not on one of the site's domains.

    A browser sends Origin on cross-site fetches and Referer on images and beacons; a request with
    neither is refused too, since nothing then says it came from the customer's pages.
    """
    site = principal.extra.get("site")
    if kind != "site_key" or site is None:
        return
    if not host_allowed(origin_host(request), site.domains):
        raise Refusal(403, "origin_refused", "This page is not on one of the site's domains.")


def cors_origin(request, site) -> str | None:
    """Return the Origin to echo in Access-Control-Allow-Origin: the request's, when its host is one of site's."""
    origin = _header(request, "Origin").strip()
    if not origin or origin == "null":
        return None
    try:
        host = urlsplit(origin).hostname or ""
    except ValueError:
        return None
    return origin if host_allowed(host, site.domains) else None


PUBLIC_KEY = Door(
    "public_key",
    resolvers=(Resolver("site_key", resolve_site_key),),
    policies=(origin_allowed,),
    rate_limited=True,
)


def public_key_principal(request, *, permission: str = "tracking:record") -> Principal:
    """Run the public-key door's steps 1 to 4 on request (an HttpRequest or a LeanRequest); return the principal.

    Raise Refusal: 401 no_credentials (no key), 401 bad_credentials (unknown key: answer 403),
    403 origin_refused, 403 forbidden. Not rate-limited: the caller limits (run() does).
    """
    principal, _kind = _enter(request, PUBLIC_KEY, Access(permission=permission), None)
    assert principal is not None  # a route with a permission never lets an anonymous request through
    return principal


def public_refusal_answer(request, refusal: Refusal) -> HttpResponse:
    """Answer a refused public-key request: 403 for a missing or unknown key, else the refusal's status; no value."""
    status = 403 if refusal.status == 401 else refusal.status
    messages = {
        "no_credentials": "No site key.",
        "bad_credentials": "Unknown site key.",
        "origin_refused": "This page is not on one of the site's domains.",
        "rate_limited": "Too many requests.",
    }
    response = JsonResponse({"ok": 0, "error": messages.get(refusal.reason, refusal.message or refusal.reason)},
                            status=status)  # fmt: skip
    response["Vary"] = "Origin"
    return response


def public_key_entry(view=None, *, answer: Callable[[HttpRequest, Refusal], HttpResponse] = public_refusal_answer):
    """Take a Django view through the public-key door: ``@public_key_entry`` or ``@public_key_entry(answer=...)``.

    The view declares its permission below (``@require_permission("tracking:record")``) and runs in
    the site's workspace with request.principal (extra["site"]: the Site).
    """

    def decorator(view):
        access = declared_access(view)

        @wraps(view)
        def wrapped(request, *args, **kwargs):
            return run(request, PUBLIC_KEY, access=access, answer=answer,
                       view=lambda request: view(request, *args, **kwargs))  # fmt: skip

        wrapped.tidings_door = PUBLIC_KEY.name  # type: ignore[attr-defined]
        return wrapped

    return decorator(view) if view is not None else decorator


# ----------------------------------------------------------------------------------------------
# The public form door: forms posted from customers' pages to /m/<slug>/form/...
#
# The workspace is the one the URL names (Mautic's base); the principal holds forms:submit and
# consent:record only. Submissions are rate-limited per client network and per form (a policy, so
# the limit is checked before the view reads anything). An unknown slug answers 404 like a form of
# another workspace. No CSRF (the posts are cross-site by design); the views decide on CORS.


def resolve_form_workspace(request, workspace) -> Principal | None:
    """Return the public form principal of the workspace named in the URL; None when it names none."""
    if workspace is None:
        return None
    return Principal(
        workspace=workspace,
        user=None,
        permissions=PUBLIC_FORM_PERMISSIONS,
        via=Via.PUBLIC_KEY,
        extra={"rate_key": f"forms:{workspace.pk}"},
    )


def form_rate_limited(request, principal: Principal, kind: str, access: Access) -> None:
    """Refuse (429) a submission beyond the limits per client network and per form (POST only)."""
    from django.conf import settings

    from tidings.audit.actions import truncate_ip
    from tidings.tenancy.network import client_ip

    if kind != "form" or getattr(request, "method", "") != "POST":
        return
    window = int(settings.TIDINGS_FORMS_RATE_WINDOW)
    network = truncate_ip(client_ip(request)) or "unknown"
    form_id = str(getattr(request, "GET", {}).get("formId", ""))[:20]
    workspace = principal.workspace.pk
    for key, limit in ((f"forms:net:{workspace}:{network}", settings.TIDINGS_FORMS_RATE_PER_NETWORK),
                       (f"forms:form:{workspace}:{form_id}", settings.TIDINGS_FORMS_RATE_PER_FORM)):  # fmt: skip
        state = ratelimit.hit(key, limit=int(limit), window=window)
        if state.exceeded:
            raise Refusal(429, "rate_limited", "Too many submissions; try again in a minute.",
                          details={"retry_after": state.reset})  # fmt: skip


PUBLIC_FORM = Door("public_form", resolvers=(Resolver("form", resolve_form_workspace),), policies=(form_rate_limited,))


def public_form_entry(answer: Callable[[HttpRequest, Refusal], HttpResponse]):
    """Take a Django view of /m/<mautic_workspace>/form/... through the public form door.

    The view declares its permission below (``@require_permission("forms:submit")``) and runs in
    the URL's workspace with request.principal; refusals (404 unknown workspace, 429) go to answer.
    """

    def decorator(view):
        access = declared_access(view)

        @wraps(view)
        def wrapped(request, mautic_workspace, *args, **kwargs):
            return run(request, PUBLIC_FORM, access=access, answer=answer, workspace_slug=mautic_workspace,
                       view=lambda request: view(request, mautic_workspace, *args, **kwargs))  # fmt: skip

        wrapped.tidings_door = PUBLIC_FORM.name  # type: ignore[attr-defined]
        wrapped.csrf_exempt = True  # type: ignore[attr-defined]  # cross-site posts from customers' pages
        return wrapped

    return decorator


# ----------------------------------------------------------------------------------------------
# The public-page door: a workspace's public pages under /m/<slug>/ (landing pages, the preference
# centre, asset downloads).
#
# No credential: the URL's slug names the workspace, and the visitor acts with a narrow principal
# (PUBLIC_PAGE_PERMISSIONS, Via.VISITOR), rate-limited per workspace and client address. A slug that
# names no workspace is refused like any unknown page (the surface answers 404). Two ways in, one door:
# a view of the web layer takes ``public_page_entry`` (landing pages, the preference centre); a domain
# app's route, which may not import this module, names its slug kwarg ``public_workspace`` and
# tidings.web.middleware.WorkspaceMiddleware takes it through (asset downloads). Either way the view
# declares its access (``@public`` or ``@require_permission("assets:download")``).

PUBLIC_WORKSPACE_KWARG = "public_workspace"


def resolve_public_page(request, workspace) -> Principal | None:
    """Return the anonymous visitor's principal in the workspace the URL names; None without one."""
    if workspace is None:
        return None
    return Principal(workspace=workspace, user=None, permissions=PUBLIC_PAGE_PERMISSIONS, via=Via.VISITOR,
                     extra={"rate_key": f"public:{workspace.pk}:{client_ip(request)}"})  # fmt: skip


PUBLIC_PAGE = Door("public_page", resolvers=(Resolver("visitor", resolve_public_page),), rate_limited=True)


def public_page_entry(*, answer: Callable[[HttpRequest, Refusal], HttpResponse]):
    """Take a Django view of /m/<mautic_workspace>/... through the public-page door; answer renders refusals.

    The view declares its access below and receives the route's other kwargs; request.workspace is set.
    """

    def decorator(view):
        access = declared_access(view)

        @wraps(view)
        def wrapped(request, *args, **kwargs):
            slug = kwargs.pop("mautic_workspace", None)
            return run(request, PUBLIC_PAGE, access=access, answer=answer, workspace_slug=slug,
                       view=lambda request: view(request, *args, **kwargs))  # fmt: skip

        wrapped.tidings_door = PUBLIC_PAGE.name  # type: ignore[attr-defined]
        return wrapped

    return decorator


# ----------------------------------------------------------------------------------------------
# Minting credentials: API tokens and OAuth2 consent need the second factor where one applies


def second_factor_passed(request, workspace) -> bool:
    """Return whether the signed-in session passed the second factor, where one applies.

    It applies when the user has a confirmed second factor or workspace requires one; a session signed
    in with the password only (or elsewhere, before the factor was set up) has not passed it.
    """
    user = request.user
    if user.is_verified():
        return True
    return not (workspace.require_two_factor or has_second_factor(user))


def may_mint_credentials(request, principal: Principal) -> bool:
    """Return whether this request may create a lasting credential (an API token) for principal's user.

    A session must have passed the second factor where one applies (second_factor_passed). A password
    over Basic never may; an API token or OAuth2 grant only for a user with no second factor in a
    workspace that requires none, since no session of theirs could have passed one.
    """
    kind = getattr(request, "credential", "")
    if principal.user is None or kind == "password":
        return False
    if kind == "session":
        return second_factor_passed(request, principal.workspace)
    return not (principal.workspace.require_two_factor or has_second_factor(principal.user))
