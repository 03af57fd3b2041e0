"""The tenant schema stays distributable by workspace_id (PostgreSQL with Citus; decision 0006).

Citus shards a table by one column and can only enforce, join and index within a shard. So every
tenant table must keep: workspace_id in every unique constraint (the primary key aside, see the
decision), workspace_id leading every index (lookups stay on one shard), and no foreign key (joins
go through workspace_id and an id, never through a constraint that would cross shards). These
checks read the real database, so an index added by raw SQL in a migration is checked too.
"""

from __future__ import annotations

import pytest
from django.db import connections

from tidings.tenancy.context import region_aliases
from tidings.tenancy.rls import tenant_tables


def _constraints(alias: str):
    connection = connections[alias]
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table in tenant_tables():
            if table in existing:
                yield table, connection.introspection.get_constraints(cursor, table)


def _columns(info) -> list:
    return [column for column in info.get("columns") or [] if column]


@pytest.mark.parametrize("alias", region_aliases())
def test_every_unique_constraint_of_a_tenant_table_includes_workspace_id(alias):
    offenders = [
        f"{table}.{name} {info['columns']}"
        for table, constraints in _constraints(alias)
        for name, info in constraints.items()
        if info["unique"] and not info["primary_key"] and "workspace_id" not in _columns(info)
    ]

    assert not offenders, "unique constraints that Citus could not enforce per shard:\n" + "\n".join(offenders)


@pytest.mark.parametrize("alias", region_aliases())
def test_every_index_of_a_tenant_table_leads_with_workspace_id(alias):
    offenders = [
        f"{table}.{name} {info['columns']}"
        for table, constraints in _constraints(alias)
        for name, info in constraints.items()
        if (info["index"] or info["unique"]) and not info["primary_key"] and (_columns(info)[:1] != ["workspace_id"])
    ]

    assert not offenders, "indexes that do not start with workspace_id:\n" + "\n".join(offenders)


@pytest.mark.parametrize("alias", region_aliases())
def test_no_tenant_table_has_a_foreign_key(alias):
    offenders = [
        f"{table}.{name} -> {info['foreign_key']}"
        for table, constraints in _constraints(alias)
        for name, info in constraints.items()
        if info["foreign_key"]
    ]

    assert not offenders, "foreign keys between tenant tables would join across shards:\n" + "\n".join(offenders)


@pytest.mark.parametrize("alias", region_aliases())
def test_the_checks_read_every_tenant_table_and_its_indexes(alias):
    inspected = dict(_constraints(alias))
    indexes = sum(1 for constraints in inspected.values() for info in constraints.values() if info["index"])

    assert set(inspected) == set(tenant_tables())
    assert indexes >= len(inspected)  # every tenant table has at least its workspace index
