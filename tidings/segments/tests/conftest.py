"""The generated workspace of the oracle tests, built once per module in transactions rolled back at its end."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from django.db import connections, router, transaction


@contextlib.contextmanager
def _rolled_back(alias: str):
    with transaction.atomic(using=alias):
        yield
        transaction.set_rollback(True, using=alias)


def _analyze() -> None:
    """Give PostgreSQL statistics of the data just built, as autovacuum would have by now.

    Without them it takes every table for one row and plans nested loops that rescan the events once
    per contact: the oracle's definitions took seconds each instead of milliseconds.
    """
    from tidings.contacts.models import Contact

    connection = connections[router.db_for_read(Contact)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE tablename ~ '^(contacts|events|segments|campaigns)_'")
            for (table,) in cursor.fetchall():
                cursor.execute(f'ANALYZE "{table}"')


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
        _analyze()
        known = lookups()
        world.snapshot = oracle.snapshot(known)
        world.lookups = known
        yield world
