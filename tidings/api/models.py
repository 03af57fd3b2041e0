"""Personal API tokens and the binding of OAuth2 applications to a workspace (global database)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from oauth2_provider.settings import oauth2_settings

TOKEN_SCHEME = "tdg"


def hash_token_secret(secret: str) -> str:
    """Return the sha256 hex digest of a token secret.

    A fast hash is right here: secrets are 256-bit random values, so there is nothing
    for a slow password hash to protect against, and every API request checks one.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(models.Model):
    """A member's personal credential for one workspace: `tdg_<prefix>_<secret>`, shown once.

    The prefix finds the row; only the secret's hash is stored. What the token may do is
    its permissions intersected with its user's current role, so a demotion takes effect.
    """

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="api_tokens")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    permissions = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "user"])]

    def __str__(self) -> str:
        return f"{self.name} ({TOKEN_SCHEME}_{self.prefix}_…)"

    def is_usable(self, now=None) -> bool:
        """Return whether the token is neither revoked nor expired."""
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def display_prefix(self) -> str:
        return f"{TOKEN_SCHEME}_{self.prefix}_"


class OAuthAppBinding(models.Model):
    """Ties a django-oauth-toolkit application to the one workspace it may act in, and what it may do there."""

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="binding"
    )
    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="oauth_apps")
    permissions = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
