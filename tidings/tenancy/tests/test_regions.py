"""A workspace's data stays in its region's database; checked with direct SQL on every database."""

from django.db import connections

from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system


def tables_with_workspace_id(alias):
    connection = connections[alias]
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
        return [
            name
            for name in names
            if any(col.name == "workspace_id" for col in connection.introspection.get_table_description(cursor, name))
        ]


def rows_of_workspace(alias, workspace_id):
    """Return {table: count} of rows carrying workspace_id in database alias."""
    connection = connections[alias]
    counts = {}
    with connection.cursor() as cursor:
        for table in tables_with_workspace_id(alias):
            cursor.execute(
                f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)} WHERE workspace_id = %s", [workspace_id]
            )
            counts[table] = cursor.fetchone()[0]
    return counts


def seed_every_store(workspace):
    """Write a contact with a tag, note, company, DNC entry and event, then run every demo seeder."""
    from tidings.contacts import actions as contacts

    with use_workspace(workspace):
        contact = contacts.contact_create(
            {"email": f"pat@{workspace.slug}.example", "firstname": "Pat", "lastname": "Doe"},
            tags=["seeded"],
            principal=system(),
        )
        contacts.note_add(contact.id, "Met at a made-up trade fair.", principal=system())
        contacts.dnc_add(contact.id, comment="asked by phone", principal=system())
        company = contacts.company_create({"companyname": f"{workspace.name} Supplies"}, principal=system())
        contacts.company_link(contact.id, company.id, principal=system())
        contacts.events_append([contacts.EventRow(contact_id=contact.id, type=1)], principal=system())
        try:
            from tidings.demo import SEEDERS
        except ImportError:
            SEEDERS = []
        for seed in SEEDERS:
            seed(workspace)


def test_eu_workspace_leaves_no_row_in_the_us_database(acme, globex):
    seed_every_store(acme)
    eu_rows = rows_of_workspace("region_eu", acme.id)
    assert sum(eu_rows.values()) > 0, "the EU workspace should have written rows to the EU database"
    assert sum(rows_of_workspace("region_us", acme.id).values()) == 0


def test_us_workspace_leaves_no_row_in_the_eu_database(acme, globex):
    seed_every_store(globex)
    assert sum(rows_of_workspace("region_us", globex.id).values()) > 0
    assert sum(rows_of_workspace("region_eu", globex.id).values()) == 0


def test_global_database_holds_no_tenant_table(acme):
    from tidings.tenancy.rls import tenant_tables

    connection = connections["default"]
    with connection.cursor() as cursor:
        present = set(connection.introspection.table_names(cursor))
    assert not present & set(tenant_tables())
