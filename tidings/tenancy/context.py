"""The current workspace, held in a context variable.

It is set by the UI middleware (from the URL), by API authentication, by the tracking
endpoints and by the task runner. Tenant querysets and the database router read it; with
no workspace set they raise NoWorkspaceSet instead of returning rows of every workspace.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from tidings.conf import region_alias


class NoWorkspaceSet(RuntimeError):
    """A tenant query ran with no workspace in context."""


@dataclass(frozen=True, slots=True)
class ActiveWorkspace:
    """The small, immutable view of a workspace that tenant queries need."""

    id: int
    slug: str
    region: str

    @property
    def db_alias(self) -> str:
        return region_db_alias(self.region)


def region_db_alias(region: str) -> str:
    """Return the database alias of a region (named in tidings.conf, which builds DATABASES)."""
    return region_alias(region)


def region_aliases() -> list[str]:
    """Return the database alias of every configured region, in a stable order."""
    from django.conf import settings

    return [region_db_alias(region) for region in sorted(settings.TIDINGS_REGIONS)]


_current: ContextVar[ActiveWorkspace | None] = ContextVar("tidings_workspace", default=None)


def current_workspace() -> ActiveWorkspace | None:
    return _current.get()


def require_workspace() -> ActiveWorkspace:
    """Return the workspace in context; raise NoWorkspaceSet when there is none."""
    workspace = _current.get()
    if workspace is None:
        raise NoWorkspaceSet("a tenant query ran with no workspace set")
    return workspace


@contextlib.contextmanager
def use_workspace(workspace) -> Iterator[ActiveWorkspace]:
    """Run the block with workspace (a Workspace or ActiveWorkspace) as the current one."""
    active = workspace if isinstance(workspace, ActiveWorkspace) else workspace.as_active()
    token = _current.set(active)
    try:
        yield active
    finally:
        _current.reset(token)


@contextlib.contextmanager
def no_workspace() -> Iterator[None]:
    """Run the block with no workspace set (for code that must not touch tenant data)."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)
