"""Users, workspace memberships, invitations and staff support grants (global database)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone

from tidings.accounts.permissions import Role


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("a user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in. is_staff marks operators of the Tidings service, who see no
    workspace without an approved support grant."""

    username = None  # type: ignore[assignment]  # sign-in is by email; the column is dropped
    email = models.EmailField(unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    locale = models.CharField(max_length=16, default="en")
    last_active = models.DateTimeField(null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []  # email is the username, so nothing else is required

    objects = UserManager()  # type: ignore[misc,assignment]  # ours creates users by email, not username

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "workspace"], name="membership_unique")]
        ordering = ["workspace__name"]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"


class Invitation(models.Model):
    """An emailed invitation; the token is stored hashed and can be used once."""

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


def invitation_token_hash(token: str) -> str:
    """Return the sha256 under which an invitation token is stored; the token itself never is."""
    return hashlib.sha256(token.encode()).hexdigest()


class SupportGrantStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"
    REVOKED = "revoked", "Revoked"


class SupportGrant(models.Model):
    """A staff member's time-limited access to one workspace, approved by its admin."""

    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="support_grants")
    staff_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()
    hours = models.PositiveSmallIntegerField(default=24)
    allow_write = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=SupportGrantStatus.choices, default="requested")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["staff_user", "workspace", "status"])]

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == SupportGrantStatus.APPROVED and self.expires_at is not None and self.expires_at > now
