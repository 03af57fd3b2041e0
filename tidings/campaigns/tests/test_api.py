"""Campaigns over the native API (/api/v1/campaigns), with their permissions; any body answers below 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.campaigns import graph as graphs
from tidings.campaigns.tests.conftest import make_contact, run
from tidings.tests.api_client import token_api


@pytest.fixture
def api(client, acme, alice):
    return token_api(client, acme, alice)


@pytest.fixture
def viewer_api(client, acme, alice):
    return token_api(client, acme, alice, permissions=["campaigns:view"], name="Read only")


GRAPH = {"sources": [{"kind": "api"}], "start": 1, "steps": [
    {"id": 1, "kind": "add_tags", "tags": ["welcomed"], "next": 2},
    {"id": 2, "kind": "delay", "mode": "interval", "seconds": 3600},
]}  # fmt: skip


def test_create_publish_add_contacts_follow_a_journey_and_delete(api, in_acme):
    ada = make_contact({"email": "ada@analytical.example"})
    response = api.post("/campaigns", {"name": "Welcome", "graph": GRAPH})
    assert response.status_code == 201, response.json()
    campaign = response.json()
    assert (campaign["status"], campaign["version"]) == ("draft", 0)
    assert api.post(f"/campaigns/{campaign['id']}/contacts/add", {"ids": [ada.id]}).status_code == 422  # a draft
    published = api.post(f"/campaigns/{campaign['id']}/publish", {})
    assert published.status_code == 200 and published.json()["version"] == 1
    assert api.post(f"/campaigns/{campaign['id']}/contacts/add", {"ids": [ada.id, 999_999]}).json() == {"changed": 1}
    run()
    journey = api.get(f"/campaigns/{campaign['id']}/contacts/{ada.id}").json()
    assert journey["enrolment"]["status"] == "active"
    assert [(s["step"], s["status"]) for s in journey["steps"]] == [(1, "done"), (2, "pending")]
    assert {e["type"] for e in journey["events"]} == {"campaign.entered", "campaign.step"}
    assert api.get(f"/campaigns/{campaign['id']}/steps").json()["steps"] == {"1": {"done": 1}, "2": {"pending": 1}}
    listed = api.get(f"/campaigns/{campaign['id']}/contacts").json()["items"]
    assert [e["contact_id"] for e in listed] == [ada.id]
    assert api.get("/campaigns").json()["items"][0]["contacts"] == {"active": 1}
    removed = api.post(f"/campaigns/{campaign['id']}/contacts/remove", {"ids": [ada.id]})
    assert removed.json() == {"changed": 1}
    assert api.post(f"/campaigns/{campaign['id']}/unpublish", {}).json()["status"] == "unpublished"
    assert api.send("PATCH", f"/campaigns/{campaign['id']}", {"name": "Hello"}).json()["name"] == "Hello"
    assert api.send("DELETE", f"/campaigns/{campaign['id']}").status_code == 204
    assert api.get(f"/campaigns/{campaign['id']}").status_code == 404


def test_an_invalid_graph_is_a_422_keyed_by_its_path(api, in_acme):
    response = api.post("/campaigns", {"name": "Broken", "graph": {"start": 1, "steps": [
        {"id": 1, "kind": "send_email", "next": 4}]}})  # fmt: skip
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"] == {"graph.steps.0.email_id": ["choose the email to send"]}


def test_publishing_an_empty_campaign_is_refused(api, in_acme):
    created = api.post("/campaigns", {"name": "Empty"}).json()
    response = api.post(f"/campaigns/{created['id']}/publish", {})
    assert response.status_code == 422 and "graph.steps" in response.json()["error"]["details"]["fields"]


def test_a_journey_of_a_contact_not_in_the_workspace_is_a_404(api, in_acme):
    created = api.post("/campaigns", {"name": "Welcome", "graph": GRAPH}).json()
    assert api.get(f"/campaigns/{created['id']}/contacts/424242").status_code == 404


def test_a_viewer_reads_but_cannot_change(viewer_api, api, in_acme):
    created = api.post("/campaigns", {"name": "Welcome", "graph": GRAPH}).json()
    assert viewer_api.get(f"/campaigns/{created['id']}").status_code == 200
    assert viewer_api.post("/campaigns", {"name": "Mine"}).status_code == 403
    assert viewer_api.post(f"/campaigns/{created['id']}/publish", {}).status_code == 403
    assert viewer_api.send("DELETE", f"/campaigns/{created['id']}").status_code == 403


values = st.one_of(st.text(max_size=30), st.integers(-(2**70), 2**70), st.booleans(), st.none(),
                   st.lists(st.integers(-3, 3), max_size=3),
                   st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))  # fmt: skip
steps = st.lists(st.dictionaries(st.sampled_from(["id", "kind", "next", "yes", "no", "email_id", "tags", "mode",
                                                  "seconds", "event", "window_seconds", "test", "segment_id"]),
                                 values | st.sampled_from(graphs.KINDS), max_size=6), max_size=4)  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.fixed_dictionaries({"name": values}, optional={
    "description": values, "graph": st.fixed_dictionaries({}, optional={"steps": steps, "start": values,
                                                                         "sources": values, "entry": values}) | values,
}))  # fmt: skip
def test_any_body_answers_without_a_server_error(api, in_acme, body):
    from django.core.cache import cache

    cache.clear()
    assert api.post("/campaigns", body).status_code < 500


def test_the_steps_per_minute_throttle_is_set_shown_checked_and_removed(api, in_acme):
    created = api.post("/campaigns", {"name": "Paced", "graph": GRAPH, "max_steps_per_minute": 120})
    assert created.status_code == 201 and created.json()["max_steps_per_minute"] == 120
    campaign_id = created.json()["id"]
    assert api.send("PATCH", f"/campaigns/{campaign_id}", {"max_steps_per_minute": 0}).status_code == 422
    assert api.get(f"/campaigns/{campaign_id}").json()["max_steps_per_minute"] == 120
    removed = api.send("PATCH", f"/campaigns/{campaign_id}", {"max_steps_per_minute": None})
    assert removed.status_code == 200 and removed.json()["max_steps_per_minute"] is None
