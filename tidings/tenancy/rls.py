"""PostgreSQL row-level security: the second wall behind the scoped querysets.

Every tenant table in a region database gets a forced policy that shows and accepts only
rows of the workspace named by the session setting `tidings.workspace_id`. A wrapper on
every region connection keeps that setting equal to the workspace in context, so a query
that forgot its filter still cannot read another workspace's rows. With no workspace set
the setting is empty and the policy matches nothing: it fails closed.

The policies only bind a role that is neither superuser nor BYPASSRLS; run Tidings as such
a role (docs/configuration.md). SQLite has no row-level security; there the scoped
querysets are the only wall.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from django.apps import apps
from django.db import connections

from tidings.tenancy.context import current_workspace, region_aliases
from tidings.tenancy.models import is_tenant_model

POLICY = "tidings_tenant_isolation"
_bypass: ContextVar[bool] = ContextVar("tidings_rls_bypass", default=False)
_CONDITION = (
    "(workspace_id = NULLIF(current_setting('tidings.workspace_id', true), '')::bigint"
    " OR current_setting('tidings.rls_bypass', true) = 'on')"
)


@contextlib.contextmanager
def dangerously_bypass_rls() -> Iterator[None]:
    """Lift the row-level policies for the block: only for code that must cross workspaces
    (key rotation of the master key, the audit verifier), never for a request."""
    token = _bypass.set(True)
    try:
        yield
    finally:
        _bypass.reset(token)


# Transaction control must run untouched: after an error the transaction is aborted and only
# ROLLBACK (TO SAVEPOINT) is accepted, so setting the workspace first would fail it.
_TRANSACTION_CONTROL = ("SAVEPOINT", "ROLLBACK", "RELEASE", "COMMIT", "BEGIN")


def _session_wrapper(execute, sql, params, many, context):
    if sql.lstrip()[:9].upper().startswith(_TRANSACTION_CONTROL):
        return execute(sql, params, many, context)
    connection = context["connection"]
    workspace = current_workspace()
    wanted = (str(workspace.id) if workspace else "", "on" if _bypass.get() else "off")
    if getattr(connection, "tidings_rls_state", None) != wanted:
        connection.connection.execute(
            "SELECT set_config('tidings.workspace_id', %s, false), set_config('tidings.rls_bypass', %s, false)",
            wanted,
        )
        # A setting changed inside a transaction reverts on rollback, so only remember it
        # when it was committed on the spot (autocommit).
        connection.tidings_rls_state = None if connection.in_atomic_block else wanted
    return execute(sql, params, many, context)


def install_session_wrapper(sender, connection, **kwargs) -> None:
    """Attach the wrapper to every new PostgreSQL connection of a region database."""
    if connection.vendor != "postgresql" or connection.alias not in region_aliases():
        return
    connection.tidings_rls_state = None
    if _session_wrapper not in connection.execute_wrappers:
        connection.execute_wrappers.append(_session_wrapper)


def tenant_tables() -> list[str]:
    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if is_tenant_model(model) and not model._meta.proxy and model._meta.managed
    )


def apply_policies(using: str) -> None:
    """Enable and force the isolation policy on every tenant table of database using (idempotent)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or using not in region_aliases():
        return
    existing = set(connection.introspection.table_names())
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in tenant_tables():
            if table not in existing:
                continue
            name = quote(table)
            cursor.execute(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {name}")
            cursor.execute(f"CREATE POLICY {POLICY} ON {name} USING {_CONDITION} WITH CHECK {_CONDITION}")


def apply_policies_after_migrate(sender, using="default", **kwargs) -> None:
    # post_migrate fires once per app after all migrations ran; once is enough.
    if sender.label != "tenancy":
        return
    with dangerously_bypass_rls():
        apply_policies(using)
