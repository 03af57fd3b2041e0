"""Who is calling the API: the one authentication module of the native and the Mautic-compatible API.

Accepted credentials, all in the Authorization header:

- ``Bearer tdg_<prefix>_<secret>``: a personal API token (bound to one workspace);
- ``Bearer <access token>``: an OAuth2 access token from django-oauth-toolkit (its application
  is bound to one workspace);
- ``Basic <email:password>``: a member's own password, through ``django.contrib.auth.authenticate``
  so that django-axes counts failures and locks the pair out; tidings.web.entry then refuses it unless
  the workspace allows password Basic auth (off by default) and no second factor applies;
- ``Basic <anything:tdg_...>``: any username with an API token as the password (Mautic clients
  that only know Basic auth).

Every credential yields a ``Principal`` (via TOKEN, OAUTH or MEMBER). Staff get nothing here:
support grants are for the UI only, so only memberships count. Revoked, expired and unknown
credentials raise ``AuthenticationFailed`` (the API answers 401).
"""

from __future__ import annotations

import base64
import binascii
import hmac

from tidings.accounts.lockout import describe_wait, wait_of
from tidings.accounts.permissions import PERMISSIONS, Principal, Via, role_permissions
from tidings.accounts.selectors import membership_for
from tidings.api.actions import api_token_touch
from tidings.api.models import TOKEN_SCHEME, ApiToken, hash_token_secret
from tidings.tenancy.network import client_ip
from tidings.tenancy.selectors import workspaces_for_user


class AuthenticationFailed(Exception):
    """The request carried credentials that do not let anyone in (answer 401)."""


class LockedOut(AuthenticationFailed):
    """Too many failed password attempts for this email and address (django-axes; answer 429).

    retry_after is the wait in seconds, for the Retry-After header.
    """

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class WorkspaceAmbiguous(Exception):
    """The credentials are valid but name no single workspace (a user with several memberships)."""

    def __init__(self, user):
        super().__init__("these credentials belong to several workspaces")
        self.user = user


class WrongWorkspace(Exception):
    """The credentials belong to another workspace than the one in the URL (answer 404, as for nothing)."""


def _membership_principal(user, workspace, *, via, permissions=None, credential_id=None, rate_key="") -> Principal:
    """Return user's principal in workspace, limited to permissions; raise AuthenticationFailed if not a member."""
    if not user.is_active:
        raise AuthenticationFailed("this account is disabled")
    membership = membership_for(user, workspace)
    if membership is None:
        raise AuthenticationFailed("these credentials give no access to this workspace")
    allowed = role_permissions(membership.role)
    effective = allowed if permissions is None else allowed & frozenset(permissions)
    return Principal(
        workspace=workspace,
        user=user,
        permissions=frozenset(effective),
        via=via,
        role=membership.role,
        credential_id=credential_id,
        extra={"rate_key": rate_key or f"user:{user.pk}"},
    )


def _parse_api_token(raw: str) -> tuple[str, str] | None:
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_SCHEME or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def is_api_token(raw: str) -> bool:
    return raw.startswith(f"{TOKEN_SCHEME}_")


def principal_from_api_token(raw: str) -> Principal:
    """Return the principal of a personal API token; raise AuthenticationFailed when unknown, revoked or expired."""
    parsed = _parse_api_token(raw)
    if parsed is None:
        raise AuthenticationFailed("malformed API token")
    prefix, secret = parsed
    token = ApiToken.objects.select_related("workspace", "user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.secret_hash, hash_token_secret(secret)):
        raise AuthenticationFailed("unknown API token")
    if not token.is_usable():
        raise AuthenticationFailed("this API token is revoked or expired")
    principal = _membership_principal(
        token.user,
        token.workspace,
        via=Via.TOKEN,
        permissions=token.permissions,
        credential_id=token.pk,
        rate_key=f"token:{token.pk}",
    )
    api_token_touch(token)
    return principal


def principal_from_oauth_token(raw: str) -> Principal:
    """Return the principal of an OAuth2 access token; raise AuthenticationFailed when invalid or expired.

    Client credentials act with the binding's permissions and no user; a user's token acts
    with the binding's permissions intersected with that user's current role.
    """
    from oauth2_provider.models import get_access_token_model

    access = (
        get_access_token_model()
        .objects.select_related("application__binding__workspace", "user")
        .filter(token_checksum=hash_token_secret(raw))  # DOT's own lookup key: sha256 hex
        .first()
    )
    if access is None or access.application is None or not access.is_valid(["api"]):
        raise AuthenticationFailed("invalid or expired access token")
    binding = getattr(access.application, "binding", None)
    if binding is None:
        raise AuthenticationFailed("this application is not bound to a workspace")
    workspace = binding.workspace
    if access.user is None:
        return Principal(
            workspace=workspace,
            user=None,
            permissions=frozenset(binding.permissions) & frozenset(PERMISSIONS),
            via=Via.OAUTH,
            credential_id=access.application_id,
            extra={"rate_key": f"oauth:{access.application_id}"},
        )
    return _membership_principal(
        access.user,
        workspace,
        via=Via.OAUTH,
        permissions=binding.permissions,
        credential_id=access.application_id,
        rate_key=f"oauth:{access.application_id}:{access.user_id}",
    )


def _principal_from_password(request, email: str, password: str, workspace) -> Principal:
    from django.contrib.auth import authenticate

    user = authenticate(request=request, username=email, password=password)
    if user is None:
        if getattr(request, "axes_locked_out", False):
            # Answered here in the API's own error format, so AxesMiddleware must not
            # replace the response with the sign-in page's lockout answer.
            request.axes_locked_out = False
            wait = max(1, wait_of(request))
            raise LockedOut(f"too many failed sign-ins; try again in {describe_wait(wait)}", retry_after=wait)
        raise AuthenticationFailed("wrong email or password")
    if workspace is not None:
        if user.is_active and membership_for(user, workspace) is None:
            raise WrongWorkspace()  # a valid password, but for someone who is not a member there
    else:
        workspaces = list(workspaces_for_user(user)[:2])
        if not workspaces:
            raise AuthenticationFailed("these credentials give no access to any workspace")
        if len(workspaces) > 1:
            raise WorkspaceAmbiguous(user)
        workspace = workspaces[0]
    return _membership_principal(user, workspace, via=Via.MEMBER)


def _basic_credentials(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise AuthenticationFailed("malformed Basic credentials") from error
    username, sep, password = decoded.partition(":")
    if not sep:
        raise AuthenticationFailed("malformed Basic credentials")
    return username, password


def _authorization(request) -> tuple[str, str] | None:
    """Return the (lower-case scheme, value) of the Authorization header, None without one.

    Raise AuthenticationFailed for a header with a scheme and no credentials.
    """
    header = request.headers.get("Authorization", "").strip()
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if not value:
        raise AuthenticationFailed("empty credentials")
    return scheme, value


# The resolvers: each returns the principal of the credential it recognises, None for a request that
# carries no credential of its kind, and raises (AuthenticationFailed...) for one that lets no one in.
# tidings.web.entry names them and decides what each kind may do (password Basic is a workspace setting).


def resolve_api_token(request, workspace=None) -> Principal | None:
    """Return the principal of ``Bearer tdg_...`` or of ``Basic <anything>:tdg_...``."""
    credentials = _authorization(request)
    if credentials is None:
        return None
    scheme, value = credentials
    if scheme == "bearer" and is_api_token(value):
        return principal_from_api_token(value)
    if scheme == "basic":
        _username, password = _basic_credentials(value)
        if is_api_token(password):
            return principal_from_api_token(password)
    return None


def resolve_oauth_token(request, workspace=None) -> Principal | None:
    """Return the principal of ``Bearer <OAuth2 access token>``."""
    credentials = _authorization(request)
    if credentials is None:
        return None
    scheme, value = credentials
    if scheme == "bearer" and not is_api_token(value):
        return principal_from_oauth_token(value)
    return None


def resolve_password(request, workspace=None) -> Principal | None:
    """Return the principal of ``Basic <email>:<password>`` (a member's own password)."""
    credentials = _authorization(request)
    if credentials is None:
        return None
    scheme, value = credentials
    if scheme != "basic":
        return None
    username, password = _basic_credentials(value)
    if is_api_token(password):
        return None
    return _principal_from_password(request, username, password, workspace)


def refuse_other_schemes(request, workspace=None) -> Principal | None:
    """Raise AuthenticationFailed for an Authorization header no resolver took (Digest, Token...)."""
    if _authorization(request) is not None:
        raise AuthenticationFailed("use Bearer or Basic authentication")
    return None


RESOLVERS = (resolve_api_token, resolve_oauth_token, resolve_password, refuse_other_schemes)


def authenticate_request(request, workspace=None) -> Principal | None:
    """Return the principal of request's Authorization header, or None when it carries none.

    workspace is the one named in the URL (Mautic's /m/<slug>/ base), if any.
    Raise AuthenticationFailed (LockedOut after too many password failures) for credentials
    that let no one in, WorkspaceAmbiguous when valid credentials name no single workspace,
    and WrongWorkspace when they belong to another workspace than the URL's.
    """
    for resolve in RESOLVERS:
        principal = resolve(request, workspace)
        if principal is not None:
            if workspace is not None and principal.workspace.pk != workspace.pk:
                raise WrongWorkspace()
            return principal
    return None


def principal_from_request(request, workspace=None) -> Principal | None:
    """Return the principal the request's credentials give, or None for none, bad or ambiguous ones."""
    try:
        return authenticate_request(request, workspace)
    except (AuthenticationFailed, WorkspaceAmbiguous, WrongWorkspace):
        return None


def rate_key(principal: Principal | None, request) -> str:
    """Return the rate-limit bucket of a request: its credential, else its client address."""
    if principal is not None:
        return principal.extra.get("rate_key") or f"user:{getattr(principal.user, 'pk', '')}"
    return f"ip:{client_ip(request)}"
