"""The one door for code that must read across workspaces: periodic sweeps and operator commands.

A sweep (stalled imports, abandoned uploads, retention) looks for rows of every workspace in
every region. The tenant managers refuse that (no workspace set) and PostgreSQL's row-level
security hides every row of a connection with no workspace, so a plain
``Model.unscoped_objects`` query finds nothing on PostgreSQL while finding everything on
SQLite: a sweep that works in tests and silently does nothing in production. Use this instead::

    from tidings.tenancy.sweeps import dangerously_sweep_workspaces

    with dangerously_sweep_workspaces() as across:
        found = [row for qs in across(ContactImport) for row in qs.filter(...).values_list("workspace_id", "id")]
    for workspace_id, import_id in found:
        with use_workspace(workspace_by_id(workspace_id)):
            ...  # act through the app's actions, inside the row's workspace

Read ids inside the block and act outside it, one workspace at a time: inside the block the
row-level policies are lifted, so nothing there should write.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from django.db.models import QuerySet

from tidings.tenancy.context import no_workspace, region_aliases
from tidings.tenancy.rls import dangerously_bypass_rls


def _across(model) -> Iterator[QuerySet]:
    for alias in region_aliases():
        yield model.unscoped_objects.using(alias).all()


@contextlib.contextmanager
def dangerously_sweep_workspaces() -> Iterator[Callable[..., Iterator[QuerySet]]]:
    """Lift the tenant guard and row-level security for the block; yield across(model).

    across(model) yields one queryset per region over every workspace's rows of model (a
    TenantModel). The block runs with no current workspace, so an action called inside it by
    mistake fails closed instead of writing with the policies lifted.
    """
    with no_workspace(), dangerously_bypass_rls():
        yield _across
