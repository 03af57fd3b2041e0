"""Filter indexes on clear custom fields (actions.field_index_set; decision 0013)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections

from tidings.accounts.permissions import Principal, Via
from tidings.contacts import actions, selectors_fields
from tidings.contacts.actions.schema import MAX_INDEXED_FIELDS
from tidings.contacts.capabilities import custom_index_name
from tidings.contacts.models import Contact
from tidings.tenancy.context import use_workspace
from tidings.tenancy.tests.test_distributable_schema import _columns, _constraints
from tidings.tests.principals import system


def _indexes(alias: str = "region_eu") -> set[str]:
    connection = connections[alias]
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, Contact._meta.db_table))


def _plan(queryset) -> str:
    """Return the engine's query plan of queryset as text, sequential scans discouraged on PostgreSQL."""
    connection = connections[queryset.db]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows would otherwise be scanned
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row) for row in cursor.fetchall())


@pytest.fixture
def seats(in_acme):
    return actions.field_create(alias="seats", label="Seats", type="number", principal=system())


def test_indexing_a_custom_field_creates_its_index_and_says_so(seats):
    field = actions.field_index_set(seats.id, principal=system())

    assert custom_index_name("contact", "seats") in _indexes()
    assert field.is_indexed and selectors_fields.field_capabilities()["seats"].indexed


def test_an_indexed_field_filter_reads_the_index(seats, ada, grace):
    actions.field_index_set(seats.id, principal=system())
    actions.contact_update(ada.id, {"seats": 12}, principal=system())
    actions.contact_update(grace.id, {"seats": 3}, principal=system())

    equal = Contact.objects.filter(selectors_fields.field_filter("seats", "equals", 12))
    ranged = Contact.objects.filter(selectors_fields.field_filter("seats", "between", [10, 20]))

    assert [c.id for c in equal] == [ada.id] and [c.id for c in ranged] == [ada.id]
    assert custom_index_name("contact", "seats") in _plan(equal)
    assert custom_index_name("contact", "seats") in _plan(ranged)


def test_the_filter_index_leads_with_workspace_id(seats):
    actions.field_index_set(seats.id, principal=system())

    constraints = dict(_constraints("region_eu"))[Contact._meta.db_table]
    assert _columns(constraints[custom_index_name("contact", "seats")])[:1] == ["workspace_id"]


def test_unindexing_drops_the_index(seats):
    actions.field_index_set(seats.id, principal=system())
    actions.field_index_set(seats.id, indexed=False, principal=system())

    assert custom_index_name("contact", "seats") not in _indexes()
    assert not selectors_fields.field_capabilities()["seats"].indexed


def test_the_index_stays_while_another_workspace_of_the_region_wants_it(seats, make_user):
    from tidings.accounts.actions import workspace_create

    initech = workspace_create(name="Initech", slug="initech", region="eu", owner=make_user("ines@initech.example"))
    with use_workspace(initech):
        theirs = actions.field_create(alias="seats", label="Seats", type="number", principal=system(initech))
        actions.field_index_set(theirs.id, principal=system(initech))
    actions.field_index_set(seats.id, principal=system())
    actions.field_index_set(seats.id, indexed=False, principal=system())

    assert custom_index_name("contact", "seats") in _indexes()


def test_deleting_an_indexed_field_drops_its_index(seats):
    actions.field_index_set(seats.id, principal=system())
    actions.field_delete(seats.id, confirm="seats", principal=system())

    assert custom_index_name("contact", "seats") not in _indexes()


def test_an_encrypted_field_cannot_be_indexed(in_acme):
    passport = actions.field_create(
        alias="passport_no",
        label="Passport",
        category="user.government_id",
        acknowledge_sensitive=True,
        principal=system(),
    )

    with pytest.raises(ValidationError, match="only clear custom fields"):
        actions.field_index_set(passport.id, principal=system())


def test_a_core_column_cannot_be_indexed_again(in_acme):
    city = selectors_fields.fields_by_alias()["city"]

    with pytest.raises(ValidationError, match="only clear custom fields"):
        actions.field_index_set(city.id, principal=system())


def test_a_workspace_indexes_a_bounded_number_of_fields(in_acme):
    for number in range(MAX_INDEXED_FIELDS):
        field = actions.field_create(alias=f"metric_{number}", label=f"Metric {number}", principal=system())
        actions.field_index_set(field.id, principal=system())
    one_more = actions.field_create(alias="metric_extra", label="Metric extra", principal=system())

    with pytest.raises(ValidationError, match=f"at most {MAX_INDEXED_FIELDS}"):
        actions.field_index_set(one_more.id, principal=system())


def test_indexing_needs_contacts_edit(seats, acme, alice):
    viewer = Principal(workspace=acme, user=alice, permissions=frozenset({"contacts:view"}), via=Via.TOKEN)

    with pytest.raises(PermissionDenied):
        actions.field_index_set(seats.id, principal=viewer)

    assert custom_index_name("contact", "seats") not in _indexes()


def test_the_fields_page_indexes_a_custom_field(alice_client, seats):
    response = alice_client.post(f"/w/acme/settings/fields/{seats.id}/index/", {"indexed": "1"})

    assert response.status_code == 302
    assert selectors_fields.field_get(seats.id).is_indexed
    assert b"filter index</span>" in alice_client.get("/w/acme/settings/fields/").content


def test_the_fields_page_reports_a_refusal_instead_of_failing(alice_client, in_acme):
    for number in range(MAX_INDEXED_FIELDS + 1):
        field = actions.field_create(alias=f"metric_{number}", label=f"Metric {number}", principal=system())
        response = alice_client.post(f"/w/acme/settings/fields/{field.id}/index/", {"indexed": "1"}, follow=True)

    assert response.status_code == 200
    assert f"at most {MAX_INDEXED_FIELDS} indexed fields".encode() in response.content
    assert not selectors_fields.field_get(field.id).is_indexed
