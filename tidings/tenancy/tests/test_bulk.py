"""The shared bulk writer keeps to the workspace in context, as the tenant managers do."""

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.accounts.models import User
from tidings.contacts.models import ContactTag
from tidings.tenancy import bulk
from tidings.tenancy.context import NoWorkspaceSet, use_workspace

COLUMNS = ["workspace_id", "contact_id", "tag_id"]


def test_insert_writes_rows_of_the_workspace_in_context(in_acme):
    bulk.insert(ContactTag, COLUMNS, [(in_acme.id, 1, 7), (in_acme.id, 2, 7)])

    assert sorted(ContactTag.objects.values_list("contact_id", "tag_id")) == [(1, 7), (2, 7)]


def test_insert_refuses_a_batch_holding_a_row_of_another_workspace(in_acme, globex):
    with pytest.raises(PermissionError):
        bulk.insert(ContactTag, COLUMNS, [(in_acme.id, 1, 7), (globex.id, 2, 7)])

    assert not ContactTag.objects.exists()
    with use_workspace(globex):
        assert not ContactTag.objects.exists()


def test_insert_refuses_tenant_rows_without_their_workspace_column(in_acme):
    with pytest.raises(PermissionError):
        bulk.insert(ContactTag, ["contact_id", "tag_id"], [(1, 7)])


def test_update_refuses_to_move_rows_to_another_workspace(in_acme, globex):
    bulk.insert(ContactTag, COLUMNS, [(in_acme.id, 1, 7)])
    row = ContactTag.objects.get()

    with pytest.raises(PermissionError):
        bulk.update(ContactTag, ["workspace_id"], [(globex.id, row.id)])

    assert ContactTag.objects.get().workspace_id == in_acme.id


def test_update_misses_the_rows_of_another_workspace(acme, globex):
    with use_workspace(globex):
        bulk.insert(ContactTag, COLUMNS, [(globex.id, 1, 7)])
        globex_row = ContactTag.objects.get()
    with use_workspace(acme):
        bulk.update(ContactTag, ["tag_id"], [(9, globex_row.id)])
    with use_workspace(globex):
        assert ContactTag.objects.get().tag_id == 7


def test_the_writer_refuses_tables_that_are_not_tenant_tables(in_acme):
    with pytest.raises(TypeError):
        bulk.insert(User, ["email"], [("ada@analytical.example",)])


def test_the_writer_needs_a_workspace_in_context(acme, db):
    with pytest.raises(NoWorkspaceSet):
        bulk.insert(ContactTag, COLUMNS, [(acme.id, 1, 7)])


def test_allocated_ids_are_fresh_and_ascending(in_acme):
    bulk.insert(ContactTag, COLUMNS, [(in_acme.id, 1, 7)])
    taken = ContactTag.objects.get().id

    ids = bulk.allocate_ids(ContactTag, 3)

    assert len(set(ids)) == 3
    assert ids == sorted(ids)
    assert min(ids) > taken


def test_insert_select_returns_how_many_rows_it_wrote(in_acme):
    bulk.insert(ContactTag, COLUMNS, [(in_acme.id, 1, 7), (in_acme.id, 2, 7), (in_acme.id, 3, 8)])
    source = ContactTag.objects.filter(tag_id=7).values_list("contact_id")

    written = bulk.insert_select(ContactTag, {"workspace_id": in_acme.id, "tag_id": 9}, ["contact_id"], source)
    none = bulk.insert_select(
        ContactTag, {"workspace_id": in_acme.id, "tag_id": 9}, ["contact_id"], source.filter(tag_id=0)
    )

    assert (written, none) == (2, 0)
    assert sorted(ContactTag.objects.filter(tag_id=9).values_list("contact_id", flat=True)) == [1, 2]


def test_insert_select_of_a_select_django_knows_to_be_empty_writes_nothing(in_acme):
    source = ContactTag.objects.filter(contact_id__in=[]).values_list("contact_id")

    assert bulk.insert_select(ContactTag, {"workspace_id": in_acme.id, "tag_id": 9}, ["contact_id"], source) == 0
    assert not ContactTag.objects.exists()


def test_id_in_matches_the_ids_given_and_nothing_for_none(in_acme):
    bulk.insert(ContactTag, COLUMNS, [(in_acme.id, n, 7) for n in (1, 2, 3, 2**62)])
    tags = ContactTag.objects.filter(tag_id=7)

    assert sorted(tags.filter(bulk.id_in("contact_id", [2, 3, 2**62, 99])).values_list("contact_id", flat=True)) == [
        2, 3, 2**62]  # fmt: skip
    assert not tags.filter(bulk.id_in("contact_id", [])).exists()
    assert sorted(tags.exclude(bulk.id_in("contact_id", [1, 2])).values_list("contact_id", flat=True)) == [3, 2**62]


@given(
    st.datetimes(
        min_value=datetime.datetime(1900, 1, 1),
        max_value=datetime.datetime(2200, 1, 1),
        timezones=st.just(datetime.UTC),
    )
)
@settings(max_examples=200, deadline=None)
def test_the_utc_fast_path_adapts_datetimes_as_django_does(value):
    from django.db import connections

    connection = connections["default"]
    assert bulk.datetime_adapter(connection)(value) == connection.ops.adapt_datetimefield_value(value)
