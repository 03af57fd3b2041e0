"""Mautic's stage API and a contact's stage, in the shapes Mautic answers (StageApiController, Lead's stage).

alice owns Acme and calls with her password over Basic; Initech is another workspace in Acme's own
region (its ids come from the same sequences), so an id of Initech's names no stage of Acme's.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.contacts import actions
from tidings.contacts.models import Contact, Stage
from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system

STAGE_KEYS = {"isPublished", "dateAdded", "dateModified", "createdBy", "createdByUser", "modifiedBy",
              "modifiedByUser", "id", "name", "category", "weight", "description", "publishUp",
              "publishDown"}  # fmt: skip


@pytest.fixture
def initech(make_user):
    from tidings.accounts.actions import workspace_create

    return workspace_create(name="Initech", slug="initech", region="eu", owner=make_user("milton@initech.example"))


@pytest.fixture
def funnel(acme):
    """Acme's stages Lead (10) and Customer (30, unpublished), and ada in Lead."""
    with use_workspace(acme):
        lead = actions.stage_create(
            {"name": "Lead", "weight": 10, "description": "Showed interest"}, principal=system()
        )
        customer = actions.stage_create({"name": "Customer", "weight": 30, "is_published": False}, principal=system())
        ada = actions.contact_create({"email": "ada@analytical.example", "stage": lead.id}, principal=system())
    return {"lead": lead, "customer": customer, "ada": ada}


def _post(client, path, body, headers):
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def test_a_contact_shows_its_stage_in_mautics_shape(client, alice_basic, funnel):
    contact = client.get(f"/api/contacts/{funnel['ada'].id}", **alice_basic).json()["contact"]
    assert set(contact["stage"]) == STAGE_KEYS
    assert {k: contact["stage"][k] for k in ("id", "name", "weight", "description", "isPublished", "category")} == {
        "id": funnel["lead"].id, "name": "Lead", "weight": 10, "description": "Showed interest",
        "isPublished": True, "category": None}  # fmt: skip


def test_a_contact_without_a_stage_shows_null(client, alice_basic, acme):
    with use_workspace(acme):
        zoe = actions.contact_create({"email": "zoe@people.example"}, principal=system())
    assert client.get(f"/api/contacts/{zoe.id}", **alice_basic).json()["contact"]["stage"] is None


def test_the_stage_list_answers_mautics_list_shape_by_weight(client, alice_basic, funnel):
    body = client.get("/api/stages", **alice_basic).json()
    assert body["total"] == 2
    assert [s["name"] for s in body["stages"].values()] == ["Lead", "Customer"]
    assert set(body["stages"][str(funnel["lead"].id)]) == STAGE_KEYS
    published = client.get("/api/stages?published=1", **alice_basic).json()
    assert [s["name"] for s in published["stages"].values()] == ["Lead"]
    by_name = client.get("/api/stages?orderBy=name&orderByDir=DESC", **alice_basic).json()
    assert [s["name"] for s in by_name["stages"].values()] == ["Lead", "Customer"]


def test_one_stage_answers_mautics_get_shape(client, alice_basic, funnel):
    response = client.get(f"/api/stages/{funnel['customer'].id}", **alice_basic)
    assert response.status_code == 200
    stage = response.json()["stage"]
    assert set(stage) == STAGE_KEYS and stage["isPublished"] is False and stage["weight"] == 30


def test_a_stage_is_created_edited_and_deleted_through_the_api(client, alice_basic, acme):
    created = _post(client, "/api/stages/new", {"name": "Qualified", "weight": 20}, alice_basic)
    assert created.status_code == 201
    stage_id = created.json()["stage"]["id"]
    edited = client.patch(f"/api/stages/{stage_id}/edit", json.dumps({"description": "Sales ready"}),
                          content_type="application/json", **alice_basic)  # fmt: skip
    assert edited.status_code == 200 and edited.json()["stage"]["description"] == "Sales ready"
    twin = _post(client, "/api/stages/new", {"name": "qualified"}, alice_basic)
    assert twin.status_code == 400
    deleted = client.delete(f"/api/stages/{stage_id}/delete", **alice_basic)
    assert deleted.status_code == 200 and deleted.json()["stage"]["id"] is None
    with use_workspace(acme):
        assert not Stage.objects.filter(pk=stage_id).exists()


def test_a_contact_is_added_to_and_removed_from_a_stage(client, alice_basic, acme, funnel):
    ada, lead, customer = funnel["ada"], funnel["lead"], funnel["customer"]
    added = client.post(f"/api/stages/{customer.id}/contact/{ada.id}/add", **alice_basic)
    assert added.status_code == 200 and added.json() == {"success": 1}
    with use_workspace(acme):
        assert Contact.objects.get(pk=ada.id).stage_id == customer.id
    # Removing from a stage it is not in leaves the contact where it is.
    assert client.post(f"/api/stages/{lead.id}/contact/{ada.id}/remove", **alice_basic).status_code == 200
    with use_workspace(acme):
        assert Contact.objects.get(pk=ada.id).stage_id == customer.id
    assert client.post(f"/api/stages/{customer.id}/contact/{ada.id}/remove", **alice_basic).json() == {"success": 1}
    with use_workspace(acme):
        assert Contact.objects.get(pk=ada.id).stage_id is None


def test_a_contact_written_with_a_stage_needs_one_of_the_workspaces(client, alice_basic, acme, funnel, initech):
    with use_workspace(initech):
        theirs = actions.stage_create({"name": "Initech secret stage"}, principal=system())
    refused = _post(client, "/api/contacts/new", {"email": "zoe@people.example", "stage": theirs.id}, alice_basic)
    assert refused.status_code == 400 and "Initech secret stage" not in refused.content.decode()
    accepted = _post(client, "/api/contacts/new", {"email": "zoe@people.example", "stage": funnel["lead"].id},
                     alice_basic)  # fmt: skip
    assert accepted.json()["contact"]["stage"]["name"] == "Lead"


def test_another_workspaces_stage_is_not_found_nor_listed(client, alice_basic, funnel, initech):
    with use_workspace(initech):
        theirs = actions.stage_create({"name": "Initech secret stage"}, principal=system())
        milton = actions.contact_create({"email": "milton@initech.example"}, principal=system())
    assert client.get(f"/api/stages/{theirs.id}", **alice_basic).status_code == 404
    assert "Initech secret stage" not in client.get("/api/stages", **alice_basic).content.decode()
    assert client.post(f"/api/stages/{theirs.id}/contact/{funnel['ada'].id}/add", **alice_basic).status_code == 404
    assert client.post(f"/api/stages/{funnel['lead'].id}/contact/{milton.id}/add", **alice_basic).status_code == 404


BODIES = st.dictionaries(
    st.sampled_from(["name", "description", "weight", "isPublished", "category", "x"]),
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20),
              st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)),
    max_size=5,
)  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES, query=st.dictionaries(st.sampled_from(["orderBy", "orderByDir", "start", "limit", "search",
                                                           "published"]), st.text(max_size=8), max_size=3))  # fmt: skip
def test_any_stage_body_or_list_query_answers_without_a_server_error(client, alice_basic, acme, body, query):
    assert _post(client, "/api/stages/new", body, alice_basic).status_code < 500
    assert client.get("/api/stages", query, **alice_basic).status_code < 500
