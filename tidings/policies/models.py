"""Tidings' own privacy policy and terms, versioned, and each workspace admin's acknowledgement of a version.

Global (the global database): the documents are Tidings', the same for every workspace. Versions
are never changed once published; a new text is a new version.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.timezone import now


class PolicyKind(models.TextChoices):
    PRIVACY = "privacy", "Privacy policy"
    TERMS = "terms", "Terms of service"


class PolicyVersion(models.Model):
    """One published version of a Tidings policy; the current one is the highest version of its kind."""

    kind = models.CharField(max_length=16, choices=PolicyKind.choices)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, default="")  # what changed, in a few lines
    text = models.TextField()
    published_at = models.DateTimeField(default=now)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "version"], name="policies_kind_version_uniq")]
        ordering = ["kind", "-version"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} version {self.version}"


class PolicyAcknowledgement(models.Model):
    """An admin of a workspace saw a version (and the banner about it went away for them)."""

    policy = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="acknowledgements")
    workspace = models.ForeignKey("tenancy.Workspace", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["policy", "workspace", "user"], name="policies_acknowledgement_uniq")
        ]
