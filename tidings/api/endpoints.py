"""The API app's own endpoints: who am I, members, the audit log, and my API tokens."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from ninja import Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from tidings.accounts.decorators import authenticated, require_permission
from tidings.accounts.permissions import PERMISSIONS
from tidings.accounts.selectors import members_of
from tidings.api import actions
from tidings.api.errors import Forbidden, NotFound, Unprocessable
from tidings.api.pagination import CursorPagination
from tidings.api.selectors import own_tokens
from tidings.audit.selectors import audit_entries_for_workspace
from tidings.web.entry import may_mint_credentials

router = Router(tags=["core"])


class UserOut(Schema):
    id: int
    email: str
    first_name: str
    last_name: str


class WorkspaceOut(Schema):
    id: int
    slug: str
    name: str
    region: str


class MeOut(Schema):
    user: UserOut | None
    workspace: WorkspaceOut
    region: str
    role: str | None
    permissions: list[str]
    via: str


class MemberOut(Schema):
    """One membership; built from a Membership with its user selected alongside."""

    user_id: int
    email: str
    first_name: str
    last_name: str
    role: str
    joined_at: datetime

    @staticmethod
    def resolve_email(membership) -> str:
        return membership.user.email

    @staticmethod
    def resolve_first_name(membership) -> str:
        return membership.user.first_name

    @staticmethod
    def resolve_last_name(membership) -> str:
        return membership.user.last_name

    @staticmethod
    def resolve_joined_at(membership) -> datetime:
        return membership.created_at


class AuditEntryOut(Schema):
    seq: int
    at: datetime
    actor_type: str
    actor_id: int | None
    action: str
    target_type: str
    target_id: str
    ip_prefix: str
    data: dict


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    permissions: list[str]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenIn(Schema):
    name: str
    permissions: list[str] | None = None
    expires_at: datetime | None = None


class TokenCreatedOut(Schema):
    token: TokenOut
    secret: str


def _token_out(token) -> dict:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.display_prefix,
        "permissions": token.permissions,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
    }


@router.get("/me", response=MeOut, summary="Who the credentials act as")
@authenticated
def me(request):
    """Return the principal behind the credentials: user, workspace, region, permissions, and how it got in."""
    principal = request.principal
    workspace, user = principal.workspace, principal.user
    return {
        "user": None
        if user is None
        else {"id": user.pk, "email": user.email, "first_name": user.first_name, "last_name": user.last_name},
        "workspace": {"id": workspace.pk, "slug": workspace.slug, "name": workspace.name, "region": workspace.region},
        "region": workspace.region,
        "role": principal.role,
        "permissions": sorted(principal.permissions),
        "via": str(principal.via),
    }


@router.get("/members", response=list[MemberOut], summary="Members of the workspace")
@paginate(CursorPagination, ordering="id")
@require_permission("workspace:view")
def members(request):
    """List the workspace's members with their roles (needs workspace:view)."""
    principal = request.principal
    return members_of(principal.workspace)


@router.get("/audit", response=list[AuditEntryOut], summary="The workspace's audit log, newest first")
@paginate(CursorPagination, ordering="-seq")
@require_permission("audit:view")
def audit(request, action: str = ""):
    """List audit entries, newest first, optionally those whose action starts with `action` (needs audit:view)."""
    return audit_entries_for_workspace(action_prefix=action)


@router.get("/tokens", response=list[TokenOut], summary="My API tokens in this workspace")
@authenticated
def list_tokens(request):
    """List the calling user's API tokens in this workspace, revoked ones included."""
    principal = _user_principal(request)
    return [_token_out(token) for token in own_tokens(principal.workspace, principal.user)]


@router.post("/tokens", response={201: TokenCreatedOut}, summary="Create an API token for myself")
@authenticated
def create_token(request, payload: TokenIn):
    """Create a token for the calling user; its secret is in this response only.

    permissions default to everything the credentials in use may do, and may not exceed it
    (403). A blank name or an unknown permission answers 422. A password (Basic) never creates a
    token, nor does any API credential of a user with a second factor or in a workspace that
    requires one (403 second_factor_required): they create tokens in the web app, signed in with it.
    """
    principal = _user_principal(request)
    if not may_mint_credentials(request, principal):
        raise Forbidden(
            "A password or an API credential cannot create API tokens here: create one in the web app"
            " (Settings, API tokens), signed in with your second factor.",
            code="second_factor_required",
        )
    if payload.permissions is not None:
        beyond = set(payload.permissions) - set(principal.permissions)
        known_beyond = {name for name in beyond if _is_known(name)}
        if known_beyond:
            raise Forbidden(
                "A token cannot do more than the credentials that create it.",
                details={"permissions": sorted(known_beyond)},
            )
    try:
        token, secret = actions.api_token_create(
            workspace=principal.workspace,
            user=principal.user,
            name=payload.name,
            permissions=payload.permissions,
            expires_at=payload.expires_at,
            principal=principal,
            request=request,
        )
    except ValidationError as error:
        raise Unprocessable.of(error, "The token could not be created.") from error
    return Status(201, {"token": _token_out(token), "secret": secret})


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke one of my API tokens")
@authenticated
def revoke_token(request, token_id: int):
    """Revoke one of the calling user's tokens; another's token, or none, answers 404."""
    principal = _user_principal(request)
    token = own_tokens(principal.workspace, principal.user).filter(pk=token_id).first()
    if token is None:
        raise NotFound("No such token.")
    actions.api_token_revoke(token=token, principal=principal, request=request)
    return Status(204, None)


def _user_principal(request):
    principal = request.principal
    if principal.user is None:
        raise Forbidden("Only a user's credentials have API tokens; this is an application's.")
    return principal


def _is_known(name: str) -> bool:
    return name in PERMISSIONS
