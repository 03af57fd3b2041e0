"""A sweep across workspaces finds every workspace's rows, on both engines, with no workspace set."""

from __future__ import annotations

import pytest
from django.db import connections

from tidings.contacts.models import Tag
from tidings.tenancy.context import NoWorkspaceSet, no_workspace, region_aliases, use_workspace
from tidings.tenancy.sweeps import dangerously_sweep_workspaces


@pytest.fixture
def tags_in_both_regions(acme, globex):
    with use_workspace(acme):
        Tag.objects.create(name="sweep-acme")
    with use_workspace(globex):
        Tag.objects.create(name="sweep-globex")
    return {acme.pk: "sweep-acme", globex.pk: "sweep-globex"}


def test_a_sweep_sees_the_rows_of_every_workspace_in_every_region(tags_in_both_regions):
    with no_workspace(), dangerously_sweep_workspaces() as across:
        found = {row for tags in across(Tag) for row in tags.values_list("workspace_id", "name")}

    assert found >= set(tags_in_both_regions.items())


def test_a_query_without_the_sweep_finds_nothing_where_row_level_security_holds(tags_in_both_regions):
    # Why the named door exists: on PostgreSQL the policies hide every row from a connection
    # with no workspace, so a bare unscoped query is a sweep that silently does nothing.
    with no_workspace():
        bare = {
            name
            for alias in region_aliases()
            for name in Tag.unscoped_objects.using(alias).values_list("name", flat=True)
        }

    if connections[region_aliases()[0]].vendor == "postgresql":
        assert bare == set()
    else:
        assert bare >= set(tags_in_both_regions.values())


def test_an_action_inside_a_sweep_fails_closed(tags_in_both_regions, acme):
    with use_workspace(acme), dangerously_sweep_workspaces(), pytest.raises(NoWorkspaceSet):
        Tag.objects.count()


def test_the_policies_are_back_after_the_sweep(tags_in_both_regions, acme):
    with dangerously_sweep_workspaces():
        pass
    with use_workspace(acme):
        names = set(Tag.objects.values_list("name", flat=True))

    assert names == {"sweep-acme"}
