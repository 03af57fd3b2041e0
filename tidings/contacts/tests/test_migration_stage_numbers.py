"""The data steps after migration 0013 point the bare stage numbers that filters and steps held at Stage rows.

Segments 0003 (segment filters), campaigns 0005 (change_stage, a stage condition, update_fields;
the draft and its published versions) and contacts 0014 (saved list views) rewrite a bare number N
to the id of its workspace's stage "Stage N", made when no contact held N. alice owns Acme (EU);
Initech shares Acme's region and database. A row saved before its workspace had any stage holds
numbers; one saved since holds stage ids, which stay (decision 0041).
"""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.campaigns.models import Campaign, CampaignVersion
from tidings.contacts import actions
from tidings.contacts.models import Contact, SavedView, Stage
from tidings.contacts.stage_numbers import stages_from_numbers
from tidings.segments.models import Segment
from tidings.tenancy.context import use_workspace
from tidings.tenancy.rls import dangerously_bypass_rls
from tidings.tests.principals import system

REGION = "region_eu"
BEFORE = [("contacts", "0013_stages"), ("segments", "0002_preference_centre"), ("campaigns", "0004_steprun_sending_at")]
SEGMENTS = importlib.import_module("tidings.segments.migrations.0003_stage_numbers_to_stages")
CAMPAIGNS = importlib.import_module("tidings.campaigns.migrations.0005_stage_numbers_to_stages")
VIEWS = importlib.import_module("tidings.contacts.migrations.0014_saved_view_stage_numbers")


@pytest.fixture
def initech(make_user):
    from tidings.accounts.actions import workspace_create

    return workspace_create(name="Initech", slug="initech", region="eu", owner=make_user("milton@initech.example"))


def _stage_filter(operator: str, value) -> dict:
    return {"kind": "field", "object": "contact", "field": "stage", "operator": operator, "value": value}


def _definition(*filters) -> dict:
    return {"match": "all", "filters": [{"kind": "group", "match": "any", "filters": list(filters)}]}


def _graph(*steps) -> dict:
    return {"sources": [{"kind": "manual"}], "entry": {"mode": "once"}, "exit_on_segment_leave": False,
            "start": 1, "steps": list(steps)}  # fmt: skip


def _old_rows(workspace, owner_id: int, *, numbers: dict, written: datetime.datetime) -> dict:
    """Write a segment, a campaign (draft and version) and a saved view naming stages as numbers[...] say."""
    with use_workspace(workspace):
        segment = Segment.objects.create(
            name="Stage filter", alias="stage-filter", updated_at=written,
            definition=_definition(_stage_filter("in", numbers["in"]), _stage_filter("equals", numbers["equals"]),
                                   _stage_filter("gt", numbers["gt"]),
                                   {"kind": "field", "object": "contact", "field": "points", "operator": "equals",
                                    "value": numbers["equals"]}),
        )  # fmt: skip
        steps = (
            {"id": 1, "kind": "change_stage", "stage_id": numbers["change"], "next": 2},
            {"id": 2, "kind": "condition", "test": "field", "field": "stage", "operator": "equals",
             "value": str(numbers["equals"]), "yes": 3, "no": None},
            {"id": 3, "kind": "update_fields", "values": {"stage": numbers["change"], "city": "Lisbon"}, "next": None},
        )  # fmt: skip
        campaign = Campaign.objects.create(name="Stages", graph=_graph(*steps), updated_at=written, version=1)
        version = CampaignVersion.objects.create(campaign_id=campaign.pk, number=1, graph=_graph(*steps[:1]))
        view = SavedView.objects.create(owner_user_id=owner_id, table="contacts", name="In a stage",
                                        query={"stage": str(numbers["view"]), "tag": "vip"})  # fmt: skip
        SavedView.objects.filter(pk=view.pk).update(updated_at=written)
    return {"segment": segment.pk, "campaign": campaign.pk, "version": version.pk, "view": view.pk}


def _read(workspace, rows: dict) -> dict:
    with use_workspace(workspace):
        return {
            "definition": Segment.objects.get(pk=rows["segment"]).definition,
            "graph": Campaign.objects.get(pk=rows["campaign"]).graph,
            "version": CampaignVersion.objects.get(pk=rows["version"]).graph,
            "view": SavedView.objects.get(pk=rows["view"]).query,
            "stages": dict(Stage.objects.values_list("name", "id")),
        }


@pytest.fixture
def migrated(acme, initech):
    """Old-style rows in Acme and Initech, written with the region back at contacts 0013, then migrated forward."""
    executor = MigrationExecutor(connections[REGION])
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
        with use_workspace(acme):
            # Contacts held 2 and 5 before stages existed; 0013 made "Stage 2" and "Stage 5" of them.
            for index, number in enumerate((2, 5)):
                contact = actions.contact_create({"email": f"s{index}@acme.example"}, principal=system())
                Contact.objects.filter(pk=contact.id).update(stage_id=number)
        with dangerously_bypass_rls():
            stages_from_numbers(Stage, Contact, REGION)
        with use_workspace(acme):
            made = dict(Stage.objects.values_list("name", "id"))
            Stage.objects.update(created_at=an_hour_ago)
        # "Stage 5"'s new id, written before stages existed, is the bare number made[Stage 5]: the value alone
        # cannot tell it from the id, the time the row was written does.
        clash = made["Stage 5"]
        acme_rows = _old_rows(acme, 1, numbers={"in": [2, 5, clash], "equals": 5, "gt": 2, "change": 2, "view": 5},
                              written=an_hour_ago - datetime.timedelta(days=1))  # fmt: skip
        # Initech had no stage at all: its numbers become stages of its own.
        initech_rows = _old_rows(initech, 1, numbers={"in": [5], "equals": 9, "gt": 1, "change": 9, "view": 9},
                                 written=an_hour_ago)  # fmt: skip
        with use_workspace(acme):
            # Saved after stages existed (the builder's ids): kept, even a value naming no stage.
            fresh = Segment.objects.create(
                name="New", alias="new", definition=_definition(_stage_filter("in", [made["Stage 2"], 123456789]))
            )
    finally:
        executor = MigrationExecutor(connections[REGION])
        executor.migrate(leaves)
    return {"acme": acme_rows, "initech": initech_rows, "made": made, "clash": clash, "fresh": fresh.pk}


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_segment_filters_name_the_stage_of_each_number(acme, migrated):
    after = _read(acme, migrated["acme"])
    stages = after["stages"]
    clash = stages[f"Stage {migrated['clash']}"]
    group = after["definition"]["filters"][0]["filters"]
    assert group[0] == _stage_filter("in", [stages["Stage 2"], stages["Stage 5"], clash])
    assert group[1] == _stage_filter("equals", stages["Stage 5"])
    # A range on stage numbers has no stage id to stand for it; another field's number is no stage.
    assert group[2] == _stage_filter("gt", 2)
    assert group[3]["value"] == 5
    # 0013's stages are reused, not made again.
    assert stages["Stage 2"] == migrated["made"]["Stage 2"] and stages["Stage 5"] == migrated["made"]["Stage 5"]


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_campaign_steps_and_versions_name_the_stage_of_each_number(acme, migrated):
    after = _read(acme, migrated["acme"])
    stages = after["stages"]
    steps = after["graph"]["steps"]
    assert steps[0]["stage_id"] == stages["Stage 2"]
    assert steps[1]["value"] == str(stages["Stage 5"])  # text stays text
    assert steps[2]["values"] == {"stage": stages["Stage 2"], "city": "Lisbon"}
    assert after["version"]["steps"][0]["stage_id"] == stages["Stage 2"]


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_saved_views_name_the_stage_of_their_number(acme, migrated):
    after = _read(acme, migrated["acme"])
    assert after["view"] == {"stage": str(after["stages"]["Stage 5"]), "tag": "vip"}


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_number_no_contact_held_becomes_a_stage_of_that_workspace_only(acme, initech, migrated):
    after = _read(initech, migrated["initech"])
    assert set(after["stages"]) == {"Stage 5", "Stage 9"}
    with use_workspace(initech):
        assert Stage.objects.get(name="Stage 9").weight == 9
    assert after["definition"]["filters"][0]["filters"][0]["value"] == [after["stages"]["Stage 5"]]
    assert after["graph"]["steps"][0]["stage_id"] == after["stages"]["Stage 9"]
    assert after["stages"]["Stage 5"] != migrated["made"]["Stage 5"]  # not Acme's


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_definition_saved_after_stages_existed_keeps_its_ids(acme, migrated):
    with use_workspace(acme):
        definition = Segment.objects.get(pk=migrated["fresh"]).definition
    assert definition["filters"][0]["filters"][0]["value"] == [migrated["made"]["Stage 2"], 123456789]
    with use_workspace(acme):
        assert not Stage.objects.filter(name="Stage 123456789").exists()


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_running_the_steps_again_changes_nothing(acme, initech, migrated):
    before = {name: _read(ws, migrated[name]) for name, ws in (("acme", acme), ("initech", initech))}
    with dangerously_bypass_rls():
        assert SEGMENTS.remap_segment_stages(Segment, Stage, REGION) == 0
        assert CAMPAIGNS.remap_campaign_stages(Campaign, CampaignVersion, Stage, REGION) == 0
        assert VIEWS.remap_saved_view_stages(SavedView, Stage, REGION) == 0
    assert {name: _read(ws, migrated[name]) for name, ws in (("acme", acme), ("initech", initech))} == before


# ---------------------------------------------------------------------------------------------
# The walkers read whatever JSON a row holds: stored definitions and graphs were user input.

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.sampled_from(["stage", "field", "change_stage", "condition", "update_fields", "in", "equals"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["kind", "field", "object", "operator", "value", "filters", "steps", "stage_id", "test",
                         "values", "stage", "match"]), inner, max_size=6),
    max_leaves=30,
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(document=_JSON)
def test_the_walkers_take_any_json_and_change_nothing_when_no_stage_moves(document):
    assert SEGMENTS._rewrite(document, lambda value: value) is document
    assert CAMPAIGNS._rewrite(document, lambda value: value) is document


@settings(max_examples=200, deadline=None)
@given(document=_JSON)
def test_the_walkers_only_ever_change_stage_values(document):
    marked = SEGMENTS._rewrite(document, _Moved)
    assert _without_marks(marked) == document
    marked = CAMPAIGNS._rewrite(document, _Moved)
    assert _without_marks(marked) == document


class _Moved:
    """A value a walker passed to its target: never equal to any JSON value."""

    def __init__(self, value) -> None:
        self.value = value


def _without_marks(node):
    if isinstance(node, _Moved):
        return node.value
    if isinstance(node, list):
        return [_without_marks(item) for item in node]
    if isinstance(node, dict):
        return {key: _without_marks(value) for key, value in node.items()}
    return node
