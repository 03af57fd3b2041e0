"""Workspaces (customer accounts) and the base every tenant model inherits."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from tidings.tenancy.context import ActiveWorkspace, current_workspace, require_workspace


class Region(models.TextChoices):
    US = "us", "United States"
    EU = "eu", "European Union"


slug_validator = RegexValidator(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$", "Use lowercase letters, digits and dashes.")


class Workspace(models.Model):
    """A customer account. Lives in the global database; its data lives in its region's database."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    region = models.CharField(max_length=2, choices=Region.choices)
    require_two_factor = models.BooleanField(
        default=False, help_text="Members must sign in with a second factor to open this workspace."
    )
    # Off by default, as in Mautic: a password alone opens no API door unless an admin allows it.
    allow_password_basic = models.BooleanField(
        default=False,
        help_text="Accept a member's email and password over HTTP Basic on the APIs (never for a member with "
        "a second factor, nor when two-factor sign-in is required).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def as_active(self) -> ActiveWorkspace:
        return ActiveWorkspace(id=self.pk, slug=self.slug, region=self.region)

    @property
    def db_alias(self) -> str:
        return self.as_active().db_alias


class TenantQuerySet(models.QuerySet):
    """A queryset already filtered to the current workspace and bound to its region's database."""

    def bulk_create(self, objs, *args, **kwargs):
        """Create objs in the current workspace; raise PermissionError for a row of another workspace."""
        workspace_id = require_workspace().id
        objs = list(objs)
        for obj in objs:
            if obj.workspace_id is None:
                obj.workspace_id = workspace_id
            elif obj.workspace_id != workspace_id:
                raise PermissionError("refusing to create a row of another workspace")
        return super().bulk_create(objs, *args, **kwargs)

    def update(self, **kwargs):
        """Update the rows; raise PermissionError on an attempt to move them to another workspace."""
        if "workspace_id" in kwargs:
            raise PermissionError("a row never moves to another workspace")
        return super().update(**kwargs)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """The default manager of tenant models: scoped to the workspace in context, fails closed.

    Use Model.unscoped_objects only in code that must cross workspaces (migrations of data,
    the audit verifier, the erasure registry); the name makes each such use visible in review.
    """

    def get_queryset(self) -> TenantQuerySet:
        workspace = require_workspace()
        return super().get_queryset().using(workspace.db_alias).filter(workspace_id=workspace.id)


class TenantModel(models.Model):
    """Base of every table holding a workspace's data.

    workspace_id is a plain column, not a foreign key: the workspace lives in the global
    database and this row in the region's. It leads every tenant index (Citus-ready).
    """

    tenant_scoped = True

    workspace_id = models.BigIntegerField(editable=False)

    objects = TenantManager()
    unscoped_objects = models.Manager()  # noqa: DJ012 (ruff takes a plain Manager for a field)

    class Meta:
        abstract = True
        base_manager_name = "unscoped_objects"

    def save(self, *args, **kwargs):
        """Save in the current workspace; refuse to write a row into another workspace."""
        active = current_workspace()
        if self.workspace_id is None:
            self.workspace_id = require_workspace().id
        elif active is not None and active.id != self.workspace_id:
            raise PermissionError("refusing to save a row of another workspace")
        super().save(*args, **kwargs)


def is_tenant_model(model) -> bool:
    return getattr(model, "tenant_scoped", False)


def workspace_region(workspace_id: int) -> str:
    """Return the region of a workspace; cached because a workspace never changes region."""
    cached = _REGION_CACHE.get(workspace_id)
    if cached is None:
        cached = Workspace.objects.using("default").values_list("region", flat=True).get(pk=workspace_id)
        _REGION_CACHE[workspace_id] = cached
    return cached


_REGION_CACHE: dict[int, str] = {}


def remember_region(workspace: Workspace) -> None:
    """Record a new workspace's region (ids can be reused after a rolled-back transaction)."""
    _REGION_CACHE[workspace.pk] = workspace.region
