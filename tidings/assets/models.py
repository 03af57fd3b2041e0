"""Assets: files a workspace publishes for download (or links to files elsewhere), and their counts.

An asset's file lives in the workspace's storage (tidings.assets.storage), never in the database;
the row keeps where it is, what it is (type and size, read from the content at upload) and how
often it was downloaded. Downloads of identified or profiled visitors are asset.download events
(tidings.tracking's type, code 21); every download, whoever made it, adds one to the counter here.
"""

from __future__ import annotations

from django.db import models
from django.utils.timezone import now

from tidings.privacy.registry import NotPersonal
from tidings.tenancy.models import TenantModel

DEFAULT_MAX_BYTES = 25 * 1024 * 1024


class StorageLocation(models.TextChoices):
    LOCAL = "local", "A file uploaded to the workspace's storage"
    REMOTE = "remote", "A link to a file elsewhere (the download redirects there)"


class Asset(TenantModel):
    """A downloadable file or remote link, public at /m/<slug>/asset/<id>:<alias> once published."""

    personal_data = NotPersonal("workspace content (files and links a marketer publishes) and an anonymous counter")

    title = models.CharField(max_length=191)
    alias = models.SlugField(max_length=191, db_index=False)  # the unique constraint leads with workspace_id
    description = models.TextField(blank=True, default="")
    storage_location = models.CharField(max_length=8, choices=StorageLocation.choices, default=StorageLocation.LOCAL)
    stored_path = models.CharField(max_length=255, blank=True, default="")  # the storage's name of the file
    remote_url = models.URLField(max_length=2000, blank=True, default="")
    original_filename = models.CharField(max_length=255, blank=True, default="")
    mime = models.CharField(max_length=127, blank=True, default="")
    extension = models.CharField(max_length=16, blank=True, default="")
    size = models.BigIntegerField(default=0)
    is_published = models.BooleanField(default=True)
    form_id = models.BigIntegerField(null=True, blank=True)  # a form to fill in before the download (the gate)
    download_count = models.BigIntegerField(default=0)
    created_by = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace_id", "alias"], name="assets_alias_uniq")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_remote(self) -> bool:
        return self.storage_location == StorageLocation.REMOTE


class AssetSettings(TenantModel):
    """A workspace's asset settings (one row, or none for the defaults)."""

    personal_data = NotPersonal("a size limit")

    max_bytes = models.BigIntegerField(default=DEFAULT_MAX_BYTES)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace_id"], name="assets_settings_uniq")]
