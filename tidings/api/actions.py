"""Every write about API tokens and OAuth2 applications: atomic, audited, and checked.

Each action takes the principal that acts as a required keyword and checks first that it acts
in the token's or application's workspace and may do this (PermissionDenied otherwise).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import get_application_model

from tidings.accounts.permissions import PERMISSIONS, require, role_permissions
from tidings.accounts.selectors import membership_for
from tidings.api.models import TOKEN_SCHEME, ApiToken, OAuthAppBinding, hash_token_secret
from tidings.audit.actions import audit_record

# last_used_at is written at most this often per token, so a busy token costs no write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _creator_permissions(workspace, user) -> frozenset[str]:
    """Return what user may do in workspace as a member (staff support access never counts here)."""
    if not user.is_active:
        return frozenset()
    membership = membership_for(user, workspace)
    return role_permissions(membership.role) if membership is not None else frozenset()


def _checked_subset(requested, allowed: frozenset[str], field: str) -> list[str]:
    """Return requested as a sorted list; raise ValidationError when it names unknown or unheld permissions."""
    requested = set(requested)
    unknown = requested - set(PERMISSIONS)
    if unknown:
        raise ValidationError({field: f"unknown permissions: {', '.join(sorted(unknown))}"})
    beyond = requested - allowed
    if beyond:
        raise ValidationError({field: f"you do not hold: {', '.join(sorted(beyond))}"})
    return sorted(requested)


def api_token_create(
    *,
    workspace,
    user,
    name: str,
    permissions=None,
    expires_at: datetime | None = None,
    principal,
    request=None,
) -> tuple[ApiToken, str]:
    """Create a personal API token of user for workspace; return (token, full secret to show once).

    principal is the one who acts (user themselves, or the system principal of a command) and
    is recorded as the actor; it bounds permissions (a narrow token cannot mint a wider one),
    which default to all the user's current role permissions that principal holds. Raise
    PermissionDenied when principal acts in another workspace; ValidationError when user is
    not a member of workspace, when principal is someone else, when the name is blank, when
    expires_at is in the past, or when permissions name something unknown or something the
    user does not hold.
    """
    require(principal, "workspace:view", workspace_id=workspace.pk)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "give the token a name"})
    if not principal.is_system and getattr(principal.user, "pk", None) != user.pk:
        raise ValidationError({"user": "members create tokens only for themselves"})
    held = _creator_permissions(workspace, user)
    if not held:
        raise ValidationError({"user": "only members of the workspace can have tokens for it"})
    held = held & frozenset(principal.permissions)
    chosen = _checked_subset(held if permissions is None else permissions, held, "permissions")
    if not chosen:
        raise ValidationError({"permissions": "choose at least one permission"})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "the expiry must be in the future"})
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)  # 256 bits
    with transaction.atomic(using="default"):
        token = ApiToken.objects.create(
            workspace=workspace,
            user=user,
            name=name[:100],
            prefix=prefix,
            secret_hash=hash_token_secret(secret),
            permissions=chosen,
            expires_at=expires_at,
        )
        audit_record(
            "api_token.created",
            workspace=workspace,
            principal=principal,
            target_type="api_token",
            target_id=token.pk,
            data={"permissions": chosen, "expires": expires_at is not None},
            request=request,
            via_outbox=True,  # a global-database change: its entry commits with it
        )
    return token, f"{TOKEN_SCHEME}_{prefix}_{secret}"


def api_token_revoke(*, token: ApiToken, principal, request=None) -> ApiToken:
    """Revoke token now; revoking a revoked token changes nothing and writes no audit entry.

    Its owner may revoke it, and so may a holder of settings:manage in its workspace. Raise
    PermissionDenied for anyone else, or for a principal acting in another workspace.
    """
    require(principal, "workspace:view", workspace_id=token.workspace_id)
    if principal.is_system or getattr(principal.user, "pk", None) != token.user_id:
        require(principal, "settings:manage", workspace_id=token.workspace_id)
    if token.revoked_at is not None:
        return token
    with transaction.atomic(using="default"):
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        token.refresh_from_db(fields=["revoked_at"])
        if updated:
            audit_record(
                "api_token.revoked",
                workspace=token.workspace_id,
                principal=principal,
                target_type="api_token",
                target_id=token.pk,
                data={"owner": token.user_id},
                request=request,
                via_outbox=True,  # a global-database change: its entry commits with it
            )
    return token


def api_token_touch(token: ApiToken, now=None) -> None:
    """Record that token was used, at most once per LAST_USED_RESOLUTION (not audited: it is not a change of state)."""
    now = now or timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


class OAuthGrant:
    """The grant types a workspace may give its OAuth2 applications."""

    CLIENT_CREDENTIALS = "client-credentials"
    AUTHORIZATION_CODE = "authorization-code"
    CHOICES = [
        (CLIENT_CREDENTIALS, "Client credentials (a server acting for the workspace)"),
        (AUTHORIZATION_CODE, "Authorization code (members sign in and approve)"),
    ]


def oauth_app_create(
    *, workspace, name: str, grant_type: str, permissions, redirect_uris: str = "", principal, request=None
) -> tuple[OAuthAppBinding, str]:
    """Create a confidential OAuth2 client bound to workspace; return (binding, client secret to show once).

    Raise PermissionDenied without settings:manage in workspace; ValidationError on a blank name,
    an unknown grant type, an authorization-code app without redirect URIs (or with malformed
    ones), or permissions the creator does not hold.
    """
    require(principal, "settings:manage", workspace_id=workspace.pk)
    Application = get_application_model()
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "give the application a name"})
    if grant_type not in dict(OAuthGrant.CHOICES):
        raise ValidationError({"grant_type": "choose client credentials or authorization code"})
    uris = " ".join((redirect_uris or "").split())
    if grant_type == OAuthGrant.AUTHORIZATION_CODE and not uris:
        raise ValidationError({"redirect_uris": "an authorization-code application needs at least one redirect URI"})
    if grant_type == OAuthGrant.CLIENT_CREDENTIALS:
        uris = ""
    chosen = _checked_subset(permissions, frozenset(principal.permissions), "permissions")
    if not chosen:
        raise ValidationError({"permissions": "choose at least one permission"})
    secret = secrets.token_urlsafe(32)
    application = Application(
        name=name[:255],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=grant_type,
        redirect_uris=uris,
        client_secret=secret,  # hashed by DOT on save; this is the only time it is readable
        hash_client_secret=True,
        skip_authorization=False,
        user=None,
    )
    try:
        application.full_clean(exclude=["client_secret", "user"])
    except ValidationError as error:
        raise ValidationError({"redirect_uris": error.messages}) from error
    with transaction.atomic(using="default"):
        application.save()
        binding = OAuthAppBinding.objects.create(
            application=application, workspace=workspace, permissions=chosen, created_by=principal.user
        )
        audit_record(
            "oauth_app.created",
            workspace=workspace,
            principal=principal,
            target_type="oauth_app",
            target_id=binding.pk,
            data={"grant_type": grant_type, "permissions": chosen, "client": application.pk},
            request=request,
            via_outbox=True,  # a global-database change: its entry commits with it
        )
    return binding, secret


def oauth_app_delete(*, binding: OAuthAppBinding, principal, request=None) -> None:
    """Delete binding's application; its access tokens, refresh tokens and grants go with it (cascade).

    Raise PermissionDenied without settings:manage in the binding's workspace.
    """
    require(principal, "settings:manage", workspace_id=binding.workspace_id)
    with transaction.atomic(using="default"):
        binding_id, application_id = binding.pk, binding.application_id
        binding.application.delete()
        audit_record(
            "oauth_app.deleted",
            workspace=binding.workspace_id,
            principal=principal,
            target_type="oauth_app",
            target_id=binding_id,
            data={"client": application_id},
            request=request,
            via_outbox=True,  # a global-database change: its entry commits with it
        )
