"""Reads of workspaces (global database)."""

from __future__ import annotations

from tidings.tenancy.models import Workspace


def workspace_by_slug(slug: str) -> Workspace | None:
    return Workspace.objects.filter(slug=slug).first()


def workspace_by_id(workspace_id: int) -> Workspace | None:
    return Workspace.objects.filter(pk=workspace_id).first()


def workspaces_for_user(user):
    """Return the workspaces user is a member of, by name."""
    return Workspace.objects.filter(memberships__user=user).order_by("name")


def all_workspace_ids() -> list[int]:
    """Return every workspace's id, in order (for jobs that visit each workspace in turn)."""
    return list(Workspace.objects.order_by("pk").values_list("pk", flat=True))


def workspace_count() -> int:
    return Workspace.objects.count()
