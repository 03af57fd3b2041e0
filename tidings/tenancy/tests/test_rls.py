"""PostgreSQL row-level security on every tenant table (skipped on SQLite, which has none)."""

import pytest
from django.db import connections

from tidings.tenancy.context import use_workspace
from tidings.tenancy.rls import POLICY, dangerously_bypass_rls, tenant_tables

pytestmark = pytest.mark.skipif(
    connections["region_eu"].vendor != "postgresql", reason="row-level security exists only on PostgreSQL"
)


@pytest.mark.parametrize("alias", ["region_us", "region_eu"])
def test_every_tenant_table_forces_the_isolation_policy(alias):
    tables = tenant_tables()
    assert tables, "expected tenant tables"
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
            " EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = %s)"
            " FROM pg_class c WHERE c.relname = ANY(%s)",
            [POLICY, tables],
        )
        rows = {name: (enabled, forced, has_policy) for name, enabled, forced, has_policy in cursor.fetchall()}
    assert set(rows) == set(tables)
    unprotected = sorted(name for name, flags in rows.items() if flags != (True, True, True))
    assert not unprotected, f"tenant tables without forced row-level security: {unprotected}"


def test_the_application_role_is_bound_by_policies():
    with connections["region_eu"].cursor() as cursor:
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone()[0] is False, "a superuser or BYPASSRLS role silently skips every policy"


def _raw_count(alias, table):
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), COUNT(DISTINCT workspace_id) FROM {connection.ops.quote_name(table)}")
        return cursor.fetchone()


def test_unfiltered_sql_sees_only_the_current_workspace(acme, make_user):
    from tidings.accounts.actions import workspace_create
    from tidings.tenancy.tests.test_regions import seed_every_store

    initech = workspace_create(name="Initech", slug="initech", region="eu", owner=make_user("dana@initech.example"))
    seed_every_store(acme)
    seed_every_store(initech)
    table = next(t for t in tenant_tables() if "contact" in t)
    with dangerously_bypass_rls():
        total, workspaces = _raw_count("region_eu", table)
    assert workspaces == 2
    with use_workspace(acme):
        seen, seen_workspaces = _raw_count("region_eu", table)
    assert seen_workspaces == 1 and 0 < seen < total
    assert _raw_count("region_eu", table) == (0, 0), "with no workspace set the policy must match nothing"


def test_a_caught_integrity_error_leaves_the_transaction_usable(acme):
    """Django recovers from an error inside atomic() with ROLLBACK TO SAVEPOINT; the wrapper must let it through."""
    from django.db import IntegrityError, transaction

    from tidings.contacts.models import Tag

    with use_workspace(acme), transaction.atomic(using="region_eu"):
        Tag.objects.create(name="vip")
        with pytest.raises(IntegrityError), transaction.atomic(using="region_eu"):
            Tag.objects.create(name="vip")
        assert Tag.objects.filter(name="vip").count() == 1
