"""Mautic-compatible campaigns (/api/campaigns), with payloads as mautic/api-library sends them.

Shapes follow Mautic 5's CampaignApiController and the serializer groups campaignDetails and
campaignEventDetails: {"campaign": {...events, lists, forms, canvasSettings}}, {"total": N, "campaigns":
{id: ...}}, {"success": 1}, a deleted campaign with "id": null, the campaign_leads rows of
/campaigns/{id}/contacts and /contacts/{id}/campaigns keyed by campaign id. Events Tidings' graph cannot
walk are refused with 422 and nothing is saved.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system

CAMPAIGN_KEYS = {
    "isPublished", "dateAdded", "dateModified", "createdBy", "createdByUser", "modifiedBy", "modifiedByUser", "id",
    "name", "category", "description", "allowRestart", "publishUp", "publishDown", "events", "forms", "lists",
    "canvasSettings",
}  # fmt: skip
EVENT_KEYS = {
    "id", "name", "description", "type", "eventType", "order", "properties", "triggerDate", "triggerInterval",
    "triggerIntervalUnit", "triggerHour", "triggerRestrictedStartHour", "triggerRestrictedStopHour",
    "triggerRestrictedDaysOfWeek", "triggerMode", "decisionPath", "channel", "channelId", "parent", "children",
}  # fmt: skip


def _json(client, method, path, body, headers):
    return getattr(client, method)(path, json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def world(acme):
    """Ada and Grace, and a segment "Trial" with nobody in it yet."""
    from tidings.contacts import actions
    from tidings.segments.actions import segment_create

    with use_workspace(acme):
        ada = actions.contact_create({"email": "ada@analytical.example", "firstname": "Ada"}, principal=system())
        grace = actions.contact_create({"email": "grace@navy.example", "firstname": "Grace"}, principal=system())
        segment = segment_create(name="Trial", principal=system())
    return ada, grace, segment


def _payload(segment, **extra):
    """A campaign as Mautic's UI builds it: a condition on a tag, then a tag on the yes path after a day, and
    points on the no path."""
    return {
        "name": "Welcome",
        "description": "Created via API",
        "events": [
            {"id": "new_1", "name": "Is a reader", "type": "lead.tags", "eventType": "condition", "order": 1,
             "properties": {"tags": ["reader"]}, "triggerMode": "immediate", "parent": None, "decisionPath": None,
             "children": ["new_2", "new_3"]},
            {"id": "new_2", "name": "Tag", "type": "lead.changetags", "eventType": "action", "order": 2,
             "properties": {"add_tags": ["welcomed"], "remove_tags": []}, "triggerMode": "interval",
             "triggerInterval": 1, "triggerIntervalUnit": "d", "parent": "new_1", "decisionPath": "yes"},
            {"id": "new_3", "name": "Points", "type": "lead.changepoints", "eventType": "action", "order": 2,
             "properties": {"points": 5}, "triggerMode": "immediate", "parent": "new_1", "decisionPath": "no"},
        ],
        "lists": [{"id": segment.pk}],
        "forms": [],
        "canvasSettings": {"nodes": [], "connections": []},
        **extra,
    }  # fmt: skip


def _new(client, headers, segment, **extra):
    response = _json(client, "post", "/api/campaigns/new", _payload(segment, **extra), headers)
    assert response.status_code == 201, response.content
    return response.json()["campaign"]


def test_new_translates_mautics_events_into_the_graph_and_answers_201(client, alice_bearer, acme, world):
    from tidings.campaigns.models import Campaign

    _, _, segment = world
    response = _json(client, "post", "/api/campaigns/new", _payload(segment), alice_bearer)
    assert response.status_code == 201, response.content
    assert response["Location"].endswith(f"/api/campaigns/{response.json()['campaign']['id']}")
    campaign = response.json()["campaign"]
    assert set(campaign) == CAMPAIGN_KEYS
    assert campaign["isPublished"] is True  # Mautic publishes a new entity unless told otherwise
    assert campaign["lists"] == [{"id": segment.pk, "name": "Trial"}]
    with use_workspace(acme):
        graph = Campaign.objects.get(pk=campaign["id"]).graph
    kinds = {s["id"]: s for s in graph["steps"]}
    condition = kinds[graph["start"]]
    assert condition["kind"] == "condition" and condition["test"] == "tag" and condition["tag"] == "reader"
    delay = kinds[condition["yes"]]
    assert delay == {"id": delay["id"], "kind": "delay", "mode": "interval", "seconds": 86400,
                     "next": delay["next"]}  # fmt: skip
    assert kinds[delay["next"]]["kind"] == "add_tags" and kinds[delay["next"]]["tags"] == ["welcomed"]
    assert kinds[condition["no"]]["kind"] == "change_points" and kinds[condition["no"]]["delta"] == 5
    assert graph["sources"] == [{"kind": "segment", "segment_id": segment.pk}]
    events = {e["name"]: e for e in campaign["events"]}
    assert all(set(e) == EVENT_KEYS for e in campaign["events"])
    assert events["Is a reader"]["type"] == "lead.tags" and events["Is a reader"]["parent"] is None
    assert events["Points"]["decisionPath"] == "no" and events["Points"]["parent"] == {"id": condition["id"]}
    assert events["Tag"]["properties"] == {"add_tags": ["welcomed"], "remove_tags": []}


def test_get_list_search_and_published_only(client, alice_bearer, world):
    _, _, segment = world
    first = _new(client, alice_bearer, segment)
    _new(client, alice_bearer, segment, name="Draft one", isPublished=0)
    got = client.get(f"/api/campaigns/{first['id']}", **alice_bearer)
    assert got.status_code == 200 and got.json()["campaign"]["name"] == "Welcome"
    listed = client.get("/api/campaigns", **alice_bearer).json()
    assert listed["total"] == 2 and str(first["id"]) in listed["campaigns"]
    assert client.get("/api/campaigns?publishedOnly=1", **alice_bearer).json()["total"] == 1
    assert client.get("/api/campaigns?search=draft", **alice_bearer).json()["total"] == 1
    page = client.get("/api/campaigns?orderBy=name&orderByDir=DESC&limit=1", **alice_bearer).json()
    assert page["total"] == 2 and [c["name"] for c in page["campaigns"].values()] == ["Welcome"]
    assert client.get("/api/campaigns?orderBy=secret", **alice_bearer).status_code == 400
    assert client.get("/api/campaigns?search=nothing-matches", **alice_bearer).json() == {"total": 0, "campaigns": []}


def test_a_get_sent_back_as_put_keeps_the_campaign(client, alice_bearer, acme, world):
    from tidings.campaigns.models import Campaign

    _, _, segment = world
    campaign = _new(client, alice_bearer, segment)
    with use_workspace(acme):
        before = Campaign.objects.get(pk=campaign["id"]).graph
    put = _json(client, "put", f"/api/campaigns/{campaign['id']}/edit", campaign, alice_bearer)
    assert put.status_code == 200, put.content
    with use_workspace(acme):
        assert Campaign.objects.get(pk=campaign["id"]).graph == before


def test_patch_changes_what_is_given(client, alice_bearer, acme, world):
    from tidings.campaigns.models import Campaign

    _, _, segment = world
    campaign = _new(client, alice_bearer, segment)
    body = {"name": "Renamed", "allowRestart": 1}
    patched = _json(client, "patch", f"/api/campaigns/{campaign['id']}/edit", body, alice_bearer)
    assert patched.status_code == 200, patched.content
    body = patched.json()["campaign"]
    assert body["name"] == "Renamed" and body["allowRestart"] is True and body["events"] == campaign["events"]
    with use_workspace(acme):  # the entry rule changed: published again, as Mautic runs what it saved
        assert Campaign.objects.get(pk=campaign["id"]).version == 2
    assert _json(client, "patch", "/api/campaigns/999999/edit", {"name": "X"}, alice_bearer).status_code == 404


def test_what_the_graph_cannot_walk_is_refused_with_422_and_nothing_saved(client, alice_bearer, acme, world):
    from tidings.campaigns.models import Campaign

    _, _, segment = world
    two_roots = _payload(segment)
    two_roots["events"][2]["parent"] = None
    unknown = _payload(segment)
    unknown["events"][2]["type"] = "lead.addtocompany"
    both_tags = _payload(segment)
    both_tags["events"][1]["properties"] = {"add_tags": ["a"], "remove_tags": ["b"]}
    missing_segment = _payload(segment, lists=[{"id": 987654}])
    for body in (two_roots, unknown, both_tags, missing_segment):
        response = _json(client, "post", "/api/campaigns/new", body, alice_bearer)
        assert response.status_code == 422, response.content
        error = response.json()["errors"][0]
        assert error["code"] == 422 and error["details"]
    assert _json(client, "post", "/api/campaigns/new", _payload(segment, events=[]), alice_bearer).status_code == 400
    assert _json(client, "post", "/api/campaigns/new", _payload(segment, lists=[]), alice_bearer).status_code == 400
    with use_workspace(acme):
        assert not Campaign.objects.exists()
    campaign = _new(client, alice_bearer, segment)
    refused = _json(client, "patch", f"/api/campaigns/{campaign['id']}/edit", {"name": "Half", **unknown},
                    alice_bearer)  # fmt: skip
    assert refused.status_code == 422
    assert client.get(f"/api/campaigns/{campaign['id']}", **alice_bearer).json()["campaign"]["name"] == "Welcome"


def test_delete_answers_the_campaign_with_a_null_id(client, alice_bearer, world):
    _, _, segment = world
    campaign = _new(client, alice_bearer, segment)
    deleted = client.delete(f"/api/campaigns/{campaign['id']}/delete", **alice_bearer)
    assert deleted.status_code == 200 and deleted.json()["campaign"]["id"] is None
    assert deleted.json()["campaign"]["name"] == "Welcome"
    assert client.get(f"/api/campaigns/{campaign['id']}", **alice_bearer).status_code == 404


def test_add_and_remove_a_contact_and_read_membership_both_ways(client, alice_bearer, world):
    ada, grace, segment = world
    campaign = _new(client, alice_bearer, segment)
    base = f"/api/campaigns/{campaign['id']}"
    assert client.post(f"{base}/contact/{ada.id}/add", **alice_bearer).json() == {"success": 1}
    assert client.post(f"{base}/contact/{grace.id}/add", **alice_bearer).json() == {"success": 1}
    contacts = client.get(f"{base}/contacts", **alice_bearer).json()
    assert contacts["total"] == "2"
    row = contacts["contacts"][0]
    assert set(row) == {"campaign_id", "lead_id", "date_added", "manually_removed", "manually_added",
                        "date_last_exited", "rotation"}  # fmt: skip
    assert row["campaign_id"] == str(campaign["id"]) and row["manually_added"] == "1"
    mine = client.get(f"/api/contacts/{ada.id}/campaigns", **alice_bearer).json()
    entry = mine["campaigns"][str(campaign["id"])]
    assert mine["total"] == 1 and entry["name"] == "Welcome" and entry["manuallyAdded"] is True
    assert entry["listMembership"] == [segment.pk] and entry["manuallyRemoved"] is False
    assert client.post(f"{base}/contact/{ada.id}/remove", **alice_bearer).json() == {"success": 1}
    assert client.get(f"{base}/contacts", **alice_bearer).json()["total"] == "1"
    assert client.get(f"/api/contacts/{ada.id}/campaigns", **alice_bearer).json() == {"total": 0, "campaigns": []}
    assert client.post(f"{base}/contact/999999/add", **alice_bearer).status_code == 404
    assert client.post("/api/campaigns/999999/contact/1/add", **alice_bearer).status_code == 404
    assert client.get(f"{base}/contact/{ada.id}/add", **alice_bearer).status_code == 405
    assert client.get("/api/contacts/999999/campaigns", **alice_bearer).status_code == 404


def test_adding_to_an_unpublished_campaign_is_refused_clearly(client, alice_bearer, world):
    ada, _, segment = world
    campaign = _new(client, alice_bearer, segment, isPublished=0)
    response = client.post(f"/api/campaigns/{campaign['id']}/contact/{ada.id}/add", **alice_bearer)
    assert response.status_code == 422 and "publish" in response.json()["errors"][0]["message"]


def test_a_form_encoded_body_is_read(client, alice_bearer, world):
    _, _, segment = world
    pairs = {
        "name": "Form-made", "lists[0][id]": segment.pk,
        "events[0][id]": "new_1", "events[0][type]": "lead.changetags", "events[0][eventType]": "action",
        "events[0][properties][add_tags][0]": "formed", "events[0][name]": "Tag it",
    }  # fmt: skip
    response = client.post("/api/campaigns/new", urlencode(pairs), content_type="application/x-www-form-urlencoded",
                           **alice_bearer)  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["campaign"]["events"][0]["properties"]["add_tags"] == ["formed"]


def test_permissions_answer_mautics_403(client, acme, alice, world):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    _, secret = api_token_create(workspace=acme, user=alice, name="Viewer", permissions=["campaigns:view"],
                                 principal=principal_for_user(alice, acme))  # fmt: skip
    viewer = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert client.get("/api/campaigns", **viewer).status_code == 200
    assert _json(client, "post", "/api/campaigns/new", {"name": "X"}, viewer).status_code == 403
    assert client.get(f"/api/contacts/{world[0].id}/campaigns", **viewer).status_code == 403  # no contacts:view


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_event = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["new_1", "new_2", 1, 2, "x"]) | _values,
        "type": st.sampled_from(
            [
                "email.send",
                "lead.changetags",
                "lead.changelist",
                "lead.changepoints",
                "email.open",
                "form.submit",
                "lead.field_value",
                "lead.tags",
                "tidings.delay",
                "campaign.addremovelead",
            ]
        )
        | _values,  # fmt: skip
        "parent": st.sampled_from([None, "new_1", 1]) | _values,
        "decisionPath": st.sampled_from([None, "yes", "no"]) | _values,
        "properties": _values,
        "triggerMode": st.sampled_from(["immediate", "interval", "date"]) | _values,
        "triggerInterval": _values,
        "triggerIntervalUnit": st.sampled_from(["i", "h", "d", "s"]) | _values,
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(_event, max_size=4) | _values, lists=_values, name=_values, published=_values)
def test_any_campaign_body_gets_an_answer_below_500(client, alice_bearer, world, events, lists, name, published):
    body = {"name": name, "events": events, "lists": lists, "isPublished": published}
    created = _json(client, "post", "/api/campaigns/new", body, alice_bearer)
    assert created.status_code in (201, 400, 422), created.content
    if created.status_code == 201:
        campaign_id = created.json()["campaign"]["id"]
        assert _json(client, "put", f"/api/campaigns/{campaign_id}/edit", body, alice_bearer).status_code < 500
        assert _json(client, "patch", f"/api/campaigns/{campaign_id}/edit", body, alice_bearer).status_code < 500
        assert client.get(f"/api/campaigns/{campaign_id}", **alice_bearer).status_code == 200
        assert client.delete(f"/api/campaigns/{campaign_id}/delete", **alice_bearer).status_code == 200


def test_mautics_reply_decision_is_tidings_replied_decision_both_ways(client, alice_bearer, acme, world):
    """email.reply after email.send: the decision is on the email sent before it, as Mautic's open and click."""
    from tidings.campaigns.models import Campaign
    from tidings.emails.tests.conftest import make_email

    _, _, segment = world
    with use_workspace(acme):
        email = make_email(name="Welcome", kind="template")
    events = [
        {"id": "new_1", "name": "Send", "type": "email.send", "eventType": "action", "order": 1,
         "properties": {"email": email.pk}, "triggerMode": "immediate", "parent": None, "children": ["new_2"]},
        {"id": "new_2", "name": "Replied", "type": "email.reply", "eventType": "decision", "order": 2,
         "properties": {}, "triggerMode": "immediate", "parent": "new_1", "children": ["new_3"]},
        {"id": "new_3", "name": "Tag", "type": "lead.changetags", "eventType": "action", "order": 3,
         "properties": {"add_tags": ["replied"], "remove_tags": []}, "triggerMode": "immediate", "parent": "new_2",
         "decisionPath": "yes"},
    ]  # fmt: skip
    campaign = _new(client, alice_bearer, segment, events=events)
    with use_workspace(acme):
        graph = Campaign.objects.get(pk=campaign["id"]).graph
    (decision,) = [s for s in graph["steps"] if s["kind"] == "decision"]
    assert (decision["event"], decision["email_id"]) == ("replied_email", email.pk)
    replied = {e["name"]: e for e in campaign["events"]}["Replied"]
    assert (replied["type"], replied["eventType"], replied["properties"]) == ("email.reply", "decision",
                                                                             {"email": email.pk})  # fmt: skip


@pytest.mark.parametrize("decision", [{"event": "unsubscribed"}, {"event": "downloaded_asset"}])
def test_a_decision_mautic_has_no_type_for_is_answered_as_a_tidings_event(client, alice_bearer, acme, world,
                                                                           decision):  # fmt: skip
    """Read through Mautic's API, a Tidings-only decision is `tidings.decision` (it was a KeyError: a 500)."""
    from tidings.campaigns.models import Campaign

    _, _, segment = world
    events = [
        {"id": "new_1", "name": "Waits", "type": "tidings.decision", "eventType": "decision", "order": 1,
         "properties": {**decision, "window_seconds": 3600}, "triggerMode": "immediate", "parent": None,
         "children": ["new_2"]},
        {"id": "new_2", "name": "Tag", "type": "lead.changetags", "eventType": "action", "order": 2,
         "properties": {"add_tags": ["did it"], "remove_tags": []}, "triggerMode": "immediate", "parent": "new_1",
         "decisionPath": "yes"},
    ]  # fmt: skip
    campaign = _new(client, alice_bearer, segment, events=events)
    answer = client.get(f"/api/campaigns/{campaign['id']}", **alice_bearer)
    assert answer.status_code == 200, answer.content
    waits = {e["name"]: e for e in answer.json()["campaign"]["events"]}["Waits"]
    assert (waits["type"], waits["eventType"], waits["properties"]["event"]) == (
        "tidings.decision", "decision", decision["event"])  # fmt: skip
    with use_workspace(acme):
        before = Campaign.objects.get(pk=campaign["id"]).graph
    put = _json(client, "put", f"/api/campaigns/{campaign['id']}/edit", answer.json()["campaign"], alice_bearer)
    assert put.status_code == 200, put.content
    with use_workspace(acme):
        assert Campaign.objects.get(pk=campaign["id"]).graph == before
