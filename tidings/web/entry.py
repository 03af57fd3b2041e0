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

A fourth door: public keys (tracker, form submits, unsubscribe links)
---------------------------------------------------------------------
A public site or form key names a workspace and acts with a narrow principal. It is one resolver, one
door and one decorator for the views; the steps stay the same::

    def resolve_site_key(request, workspace):
        key = request.GET.get("k") or request.headers.get("X-Tidings-Key", "")
        if not key:
            return None
        site = tracking_selectors.site_by_public_key(key)       # global lookup: key -> site -> workspace
        if site is None:
            raise AuthenticationFailed("unknown site key")       # answered 401 by the door's surface
        return Principal(workspace=site.workspace, user=None, permissions=frozenset({"tracking:record"}),
                         via=Via.PUBLIC_KEY, credential_id=site.pk, extra={"rate_key": f"site:{site.pk}"})

    PUBLIC_KEY = Door("public_key", resolvers=(Resolver("site_key", resolve_site_key),),
                      policies=(), rate_limited=True)

    def public_key_entry(view):                                  # in tidings/tracking/entry.py
        def wrapped(request, **kwargs):
            return run(request, PUBLIC_KEY, access=declared_access(view), answer=_pixel_answer,
                       view=lambda request: view(request, **kwargs))
        return wrapped

    @public_key_entry
    @require_permission("tracking:record")
    def hit(request): ...

plus "tracking:record" in the permission catalogue (in no role) and ``Via.PUBLIC_KEY``. The
tracker's own policies (consent, Sec-GPC) and an origin check would be further ``policies``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse

from tidings.accounts.actions import support_grant_log_request
from tidings.accounts.permissions import Access, Principal, Via
from tidings.accounts.selectors import has_two_factor, principal_for_user
from tidings.api import auth, ratelimit
from tidings.tenancy.context import use_workspace
from tidings.tenancy.selectors import workspace_by_slug


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
