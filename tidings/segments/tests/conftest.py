"""The generated workspace of the oracle tests, built once per module in transactions rolled back at its end."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from django.db import connections, transaction


@contextlib.contextmanager
def _rolled_back(alias: str):
    with transaction.atomic(using=alias):
        yield
        transaction.set_rollback(True, using=alias)


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker) -> Iterator:
    """Acme with a few hundred generated contacts (tidings.segments.tests.data), as the current workspace."""
    from tidings.accounts.actions import user_create, workspace_create
    from tidings.segments.selectors import lookups
    from tidings.segments.tests import data, oracle
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system
    from tidings.tests.world import reset_ids

    with contextlib.ExitStack() as stack:
        stack.enter_context(django_db_blocker.unblock())
        stack.callback(reset_ids)  # runs after the rollbacks below
        for alias in connections:
            stack.enter_context(_rolled_back(alias))
        owner = user_create(email="olive@oracle.example", password="correct horse battery staple")
        workspace = workspace_create(name="Oracle", slug="oracle", region="eu", owner=owner)
        stack.enter_context(use_workspace(workspace))
        world = data.build(workspace, system())
        known = lookups()
        world.snapshot = oracle.snapshot(known)
        world.lookups = known
        yield world
