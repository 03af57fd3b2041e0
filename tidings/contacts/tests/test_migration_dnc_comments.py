"""Migration 0004 encrypts the DNC comments stored in clear before it."""

import pytest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tidings.contacts import actions, selectors
from tidings.tenancy.context import use_workspace

REGION = "region_eu"
BEFORE = ("contacts", "0003_hardening")
COMMENT = "Asked at the fair to stop: Quillfeather Lane"


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_migration_encrypts_every_existing_comment_under_its_contacts_key(acme):
    from tidings.accounts.permissions import system_principal

    with use_workspace(acme):
        ada = actions.contact_create({"email": "ada@analytical.example"}, principal=system_principal(acme, reason="t"))
    executor = MigrationExecutor(connections[REGION])
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate([BEFORE])
    try:
        with use_workspace(acme), connections[REGION].cursor() as cursor:
            cursor.execute(
                "INSERT INTO contacts_donotcontact (workspace_id, contact_id, channel, reason, comment, created_at)"
                " VALUES (%s, %s, 'email', 'manual', %s, %s)",
                [acme.id, ada.id, COMMENT, timezone.now()],
            )
    finally:
        executor = MigrationExecutor(connections[REGION])
        executor.migrate(leaves)

    with use_workspace(acme), connections[REGION].cursor() as cursor:  # row-level security needs the workspace
        cursor.execute("SELECT comment_enc FROM contacts_donotcontact")
        (sealed,) = [bytes(row[0]) for row in cursor.fetchall()]
    assert b"Quillfeather" not in sealed
    with use_workspace(acme):
        assert [row.comment for row in selectors.contact_dnc(ada.id)] == [COMMENT]
