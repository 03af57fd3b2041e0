"""Issue 9's "in campaign" / "not in campaign" segment filter: registered by campaigns with contacts' membership
registry (segments imports nothing of campaigns), compiled set-based with the segment's other filters, checked
against the workspace's own campaigns, offered by the segment builder, and blind to other workspaces."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tidings.campaigns.tests.conftest import add, make_contact, publish, run
from tidings.campaigns.tests.conftest import system as system_principal


def _wait(name="Nurture"):
    """A campaign whose contacts wait (a one-day delay), so they stay active members."""
    return publish({"id": 1, "kind": "delay", "mode": "interval", "seconds": 86400}, name=name)


def _members(definition) -> set[int]:
    from tidings.segments.selectors import definition_check, matching_contacts

    return set(matching_contacts(definition_check(definition)).values_list("id", flat=True))


def _neighbour(make_user):
    from tidings.accounts.actions import workspace_create

    return workspace_create(name="Initech", slug="initech", region="eu", owner=make_user("peter@initech.example"))


def test_in_and_not_in_campaign_follow_active_enrolments(readers):
    from tidings.campaigns.actions import campaign_contacts_remove

    ada, grace = readers
    lin = make_contact({"email": "lin@done.example"})
    nurture = _wait()
    done = publish({"id": 1, "kind": "add_tags", "tags": ["x"]}, name="Quick")
    add(nurture, ada, grace)
    add(done, lin)
    run()  # lin's campaign finishes at once: no longer in it
    in_nurture = {"match": "all", "filters": [{"kind": "campaign", "operator": "in", "value": [nurture.pk]}]}
    assert _members(in_nurture) == {ada.id, grace.id}
    assert _members({"filters": [{"kind": "campaign", "operator": "in", "value": [done.pk]}]}) == set()
    assert _members({"filters": [{"kind": "campaign", "operator": "not_in", "value": [nurture.pk, done.pk]}]}) == {
        lin.id}  # fmt: skip
    campaign_contacts_remove(nurture.pk, [grace.id], principal=system_principal())
    assert _members(in_nurture) == {ada.id}
    # Composed with another filter in the same statement.
    both = {
        "match": "all",
        "filters": [
            in_nurture["filters"][0],
            {"kind": "field", "field": "city", "operator": "equals", "value": "London"},
        ],
    }
    assert _members(both) == {ada.id}  # fmt: skip


def test_a_segment_on_a_campaign_is_built_and_its_sql_is_one_statement(readers, django_assert_max_num_queries):
    from tidings.segments.actions import segment_create
    from tidings.segments.selectors import definition_check, matching_contacts, segment_member_ids

    ada, grace = readers
    nurture = _wait()
    add(nurture, ada)
    definition = {"filters": [{"kind": "campaign", "operator": "in", "value": [str(nurture.pk)]}]}
    segment = segment_create(principal=system_principal(), name="In nurture", definition=definition)
    assert segment.definition["filters"][0] == {"kind": "campaign", "operator": "in", "value": [nurture.pk]}
    assert set(segment_member_ids(segment.pk)) == {ada.id}
    checked = definition_check(definition)
    with django_assert_max_num_queries(1):
        sql = str(matching_contacts(checked).values("id").query)
    assert "EXISTS" in sql.upper() and "campaigns_enrolment" in sql


@pytest.mark.parametrize("value", [[999_999], ["x"], [], None])
def test_an_unknown_campaign_is_a_clear_error(readers, value):
    from tidings.segments.selectors import definition_check

    with pytest.raises(ValidationError) as caught:
        definition_check({"filters": [{"kind": "campaign", "operator": "in", "value": value}]})
    assert list(caught.value.message_dict) == ["filters.0.value"]
    assert "campaign" in caught.value.message_dict["filters.0.value"][0]


def test_a_bad_operator_is_named(readers):
    from tidings.segments.selectors import definition_check

    nurture = _wait()
    with pytest.raises(ValidationError) as caught:
        definition_check({"filters": [{"kind": "campaign", "operator": "all", "value": [nurture.pk]}]})
    assert caught.value.message_dict == {"filters.0.operator": ["operator is one of in, not_in"]}


def test_another_workspaces_campaign_is_refused_and_matches_nobody(readers, make_user):
    from tidings.segments.compiler import Compiler
    from tidings.segments.selectors import definition_check, lookups
    from tidings.tenancy.context import use_workspace

    ada, _ = readers
    mine = _wait()
    add(mine, ada)
    neighbour = _neighbour(make_user)
    with use_workspace(neighbour):
        someone = make_contact({"email": "milton@initech.example"})
        theirs = _wait("Theirs")
        add(theirs, someone)
    node = {"kind": "campaign", "operator": "in", "value": [theirs.pk]}
    with pytest.raises(ValidationError) as caught:
        definition_check({"filters": [node]})
    assert caught.value.message_dict == {"filters.0.value": ["unknown campaign"]}
    # A stored definition naming it anyway (written before, or by hand) compiles to nobody here.
    from tidings.contacts.conditions import contacts_where

    condition = Compiler(lookups()).compile({"match": "all", "filters": [node]})
    assert list(contacts_where(condition).values_list("id", flat=True)) == []
    negated = Compiler(lookups()).compile({"match": "all", "filters": [{**node, "operator": "not_in"}]})
    assert ada.id in set(contacts_where(negated).values_list("id", flat=True))


def test_the_segment_builder_offers_the_workspaces_own_campaigns(readers, make_user):
    from tidings.segments.forms import builder_schema
    from tidings.tenancy.context import use_workspace

    _wait("Nurture")
    with use_workspace(_neighbour(make_user)):
        _wait("Their secret campaign")
    schema = builder_schema()
    (campaigns,) = [m for m in schema["memberships"] if m["kind"] == "campaign"]
    assert [item["name"] for item in campaigns["items"]] == ["Nurture"]
    assert campaigns["operators"] == {"in": "is in any of the campaigns", "not_in": "is in none of the campaigns"}


def test_segments_import_nothing_of_campaigns():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "segments"
    for path in root.rglob("*.py"):
        if "tests" not in path.parts:
            assert "tidings.campaigns" not in path.read_text(), path
