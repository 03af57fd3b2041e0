"""Reads of API tokens and OAuth2 applications, always starting from a workspace."""

from __future__ import annotations

from tidings.api.models import ApiToken, OAuthAppBinding


def tokens_visible_to(principal):
    """Return the tokens of principal's workspace that principal may see, newest first.

    Holders of settings:manage see every token of the workspace; everyone else their own.
    """
    tokens = ApiToken.objects.filter(workspace=principal.workspace).select_related("user")
    if not principal.can("settings:manage"):
        tokens = tokens.filter(user=principal.user)
    return tokens.order_by("-created_at", "-id")


def token_for_revocation(principal, token_id) -> ApiToken | None:
    """Return the token of principal's workspace that principal may revoke, or None (not found or not theirs)."""
    return tokens_visible_to(principal).filter(pk=token_id).first()


def own_tokens(workspace, user):
    """Return user's tokens in workspace, newest first."""
    return ApiToken.objects.filter(workspace=workspace, user=user).order_by("-created_at", "-id")


def oauth_apps_of(workspace):
    """Return the OAuth2 applications bound to workspace, newest first."""
    return (
        OAuthAppBinding.objects.filter(workspace=workspace).select_related("application").order_by("-created_at", "-id")
    )


def oauth_app_of(workspace, binding_id) -> OAuthAppBinding | None:
    return oauth_apps_of(workspace).filter(pk=binding_id).first()


def binding_for_client_id(client_id: str) -> OAuthAppBinding | None:
    """Return the binding of the application with client_id, or None."""
    if not client_id:
        return None
    return (
        OAuthAppBinding.objects.select_related("application", "workspace")
        .filter(application__client_id=client_id)
        .first()
    )
