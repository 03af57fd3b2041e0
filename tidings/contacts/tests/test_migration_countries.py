"""Migration 0010 stores the countries written before normalisation as ISO codes."""

import pytest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from tidings.contacts import actions
from tidings.contacts.models import Company, Contact
from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system

REGION = "region_eu"
BEFORE = ("contacts", "0009_import_outcomes")


def _store_as_typed(table: str, ids_and_countries) -> None:
    """Write countries past the normaliser, as clients did before it."""
    with connections[REGION].cursor() as cursor:
        for row_id, country in ids_and_countries:
            cursor.execute(f"UPDATE {table} SET country = %s WHERE id = %s", [country, row_id])  # noqa: S608


@pytest.fixture
def migrated_acme(acme):
    """Acme with contacts and a company whose countries were stored as typed, then migration 0010 run."""
    with use_workspace(acme):
        anke, bert, cord = (
            actions.contact_create({"firstname": name}, principal=system()) for name in ("Anke", "Bert", "Cord")
        )
        lumen = actions.company_create({"companyname": "Lumen Studios"}, principal=system())
    executor = MigrationExecutor(connections[REGION])
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate([BEFORE])
    try:
        with use_workspace(acme):
            _store_as_typed("contacts_contact", [(anke.id, "Germany"), (bert.id, "de"), (cord.id, "Atlantis")])
            _store_as_typed("contacts_company", [(lumen.id, "portugal")])
    finally:
        executor = MigrationExecutor(connections[REGION])
        executor.migrate(leaves)
    with use_workspace(acme):
        yield {"anke": anke.id, "bert": bert.id, "cord": cord.id, "lumen": lumen.id}


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_migration_stores_contact_countries_as_codes_and_keeps_unknown_ones(migrated_acme):
    countries = dict(Contact.objects.values_list("id", "country"))
    assert [countries[migrated_acme[n]] for n in ("anke", "bert", "cord")] == ["DE", "DE", "Atlantis"]


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_migration_stores_company_countries_as_codes(migrated_acme):
    assert Company.objects.get(pk=migrated_acme["lumen"]).country == "PT"
