"""Mautic-compatible segments (/api/segments), with payloads as mautic/api-library sends them.

Shapes follow Mautic 5's ListApiController and serializer groups (leadListDetails, publishDetails,
categoryList) and the documented answers: {"list": {...}}, {"total": N, "lists": [...]},
{"success": 1}, a deleted entity with "id": null. Bodies come JSON-encoded or form-encoded with
PHP's http_build_query (filters[0][properties][filter]=London); both are exercised.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system

ENTITY_KEYS = {
    "isPublished", "dateAdded", "dateModified", "createdBy", "createdByUser", "modifiedBy", "modifiedByUser",
    "id", "name", "publicName", "alias", "description", "category", "filters", "isGlobal", "isPreferenceCenter",
}  # fmt: skip
CITY_LONDON = {
    "glue": "and",
    "field": "city",
    "object": "lead",
    "type": "text",
    "operator": "=",
    "properties": {"filter": "London"},
}


def _json(client, method, path, body, headers):
    return getattr(client, method)(path, json.dumps(body), content_type="application/json", **headers)


def _form(client, method, path, pairs, headers):
    return getattr(client, method)(path, urlencode(pairs), content_type="application/x-www-form-urlencoded", **headers)


def _token(acme, alice, permissions):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    _, secret = api_token_create(
        workspace=acme, user=alice, name="Plugin", permissions=permissions, principal=principal_for_user(alice, acme)
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def people(acme):
    from tidings.contacts import actions

    with use_workspace(acme):
        ada = actions.contact_create(
            {"email": "ada@analytical.example", "firstname": "Ada", "city": "London", "points": 10}, principal=system()
        )
        grace = actions.contact_create(
            {"email": "grace@navy.example", "firstname": "Grace", "city": "Paris", "points": 30}, principal=system()
        )
    return ada, grace


def _new(client, headers, name="Londoners", filters=(CITY_LONDON,), **extra):
    response = _json(client, "post", "/api/segments/new", {"name": name, "filters": list(filters), **extra}, headers)
    assert response.status_code == 201, response.content
    return response.json()["list"]


def test_new_answers_201_with_mautics_entity_and_a_location(client, alice_bearer, alice, people):
    response = _json(
        client,
        "post",
        "/api/segments/new",
        {"name": "Londoners", "description": "Our people", "isPublished": 1, "filters": [CITY_LONDON]},
        alice_bearer,
    )
    assert response.status_code == 201
    assert response["Location"].endswith(f"/api/segments/{response.json()['list']['id']}")
    entity = response.json()["list"]
    assert set(entity) == ENTITY_KEYS
    assert (entity["name"], entity["alias"], entity["publicName"]) == ("Londoners", "londoners", "Londoners")
    assert (entity["isPublished"], entity["isGlobal"], entity["isPreferenceCenter"]) == (True, True, False)
    assert (entity["createdBy"], entity["createdByUser"]) == (alice.pk, alice.email)
    assert (entity["category"], entity["modifiedBy"], entity["dateModified"]) == (None, None, None)
    assert entity["dateAdded"].endswith("+00:00")
    [item] = entity["filters"]
    assert {k: item[k] for k in CITY_LONDON} == CITY_LONDON


def test_new_reads_a_form_encoded_body(client, alice_basic, people):
    pairs = {
        "name": "Form made",
        "isPublished": "0",
        "filters[0][glue]": "and",
        "filters[0][field]": "city",
        "filters[0][object]": "lead",
        "filters[0][type]": "text",
        "filters[0][operator]": "=",
        "filters[0][properties][filter]": "London",
        "filters[1][glue]": "or",
        "filters[1][field]": "points",
        "filters[1][object]": "lead",
        "filters[1][type]": "number",
        "filters[1][operator]": "gt",
        "filters[1][filter]": "20",  # Mautic 2's place for the value
    }
    response = _form(client, "post", "/api/segments/new", pairs, alice_basic)
    assert response.status_code == 201, response.content
    entity = response.json()["list"]
    assert entity["isPublished"] is False
    assert [(f["field"], f["glue"]) for f in entity["filters"]] == [("city", "and"), ("points", "or")]
    members = client.get(f"/api/contacts?search=segment:{entity['alias']}", **alice_basic).json()
    assert members["total"] == "2"


def test_a_taken_alias_gets_a_number_as_in_mautic(client, alice_bearer, people):
    first = _new(client, alice_bearer)
    second = _new(client, alice_bearer)
    third = _new(client, alice_bearer, alias="londoners")
    assert (first["alias"], second["alias"], third["alias"]) == ("londoners", "londoners1", "londoners2")


def test_get_and_list_answer_mautics_envelopes(client, alice_bearer, people):
    created = _new(client, alice_bearer)
    points = {**CITY_LONDON, "field": "points", "operator": "gt", "type": "number", "properties": {"filter": "20"}}
    _new(client, alice_bearer, name="Big spenders", filters=[points])
    one = client.get(f"/api/segments/{created['id']}", **alice_bearer)
    assert one.status_code == 200
    assert one.json()["list"]["id"] == created["id"]
    listed = client.get("/api/segments", **alice_bearer).json()
    assert listed["total"] == 2
    assert isinstance(listed["lists"], list)
    assert [entity["name"] for entity in listed["lists"]] == ["Big spenders", "Londoners"]
    assert set(listed["lists"][0]) == ENTITY_KEYS
    ordered = client.get("/api/segments?orderBy=id&orderByDir=DESC&limit=1", **alice_bearer).json()
    assert (ordered["total"], [e["id"] for e in ordered["lists"]]) == (2, [max(e["id"] for e in listed["lists"])])
    found = client.get("/api/segments?search=spend", **alice_bearer).json()
    assert [e["name"] for e in found["lists"]] == ["Big spenders"]
    published = client.get("/api/segments?published=1", **alice_bearer).json()
    assert published["total"] == 2


def test_an_empty_list_is_a_json_array(client, alice_bearer, people):
    assert client.get("/api/segments", **alice_bearer).json() == {"total": 0, "lists": []}


def test_patch_changes_only_what_is_given_and_put_clears_the_rest(client, alice_bearer, people):
    created = _new(client, alice_bearer, description="Kept")
    patched = _json(client, "patch", f"/api/segments/{created['id']}/edit", {"name": "Renamed"}, alice_bearer)
    assert patched.status_code == 200
    entity = patched.json()["list"]
    assert (entity["name"], entity["alias"], entity["description"]) == ("Renamed", "londoners", "Kept")
    assert len(entity["filters"]) == 1
    put = _json(client, "put", f"/api/segments/{created['id']}/edit", {"name": "Replaced"}, alice_bearer)
    assert put.status_code == 200
    entity = put.json()["list"]
    assert (entity["description"], entity["filters"], entity["isPublished"]) == (None, [], False)


def test_put_of_a_missing_id_creates_and_patch_is_404(client, alice_bearer, people):
    assert _json(client, "patch", "/api/segments/999999/edit", {"name": "X"}, alice_bearer).status_code == 404
    put = _json(client, "put", "/api/segments/999999/edit", {"name": "Made by PUT"}, alice_bearer)
    assert put.status_code == 201
    assert put.json()["list"]["name"] == "Made by PUT"


def test_delete_answers_the_entity_with_a_null_id(client, alice_bearer, people):
    created = _new(client, alice_bearer)
    response = client.delete(f"/api/segments/{created['id']}/delete", **alice_bearer)
    assert response.status_code == 200
    entity = response.json()["list"]
    assert (entity["id"], entity["name"]) == (None, "Londoners")
    assert client.get(f"/api/segments/{created['id']}", **alice_bearer).status_code == 404


def test_add_and_remove_one_contact_answer_success(client, alice_bearer, people):
    ada, grace = people
    created = _new(client, alice_bearer)
    add = client.post(f"/api/segments/{created['id']}/contact/{grace.id}/add", **alice_bearer)
    assert (add.status_code, add.json()) == (200, {"success": 1})
    lists = client.get(f"/api/contacts/{grace.id}/segments", **alice_bearer).json()
    assert lists["total"] == 1
    entry = lists["lists"][str(created["id"])]
    assert {k: entry[k] for k in ("id", "name", "alias", "manuallyAdded", "manuallyRemoved")} == {
        "id": created["id"],
        "name": "Londoners",
        "alias": "londoners",
        "manuallyAdded": True,
        "manuallyRemoved": False,
    }
    remove = client.post(f"/api/segments/{created['id']}/contact/{ada.id}/remove", **alice_bearer)
    assert (remove.status_code, remove.json()) == (200, {"success": 1})
    assert client.get(f"/api/contacts/{ada.id}/segments", **alice_bearer).json() == {"total": 0, "lists": []}


def test_mautic_2_routes_add_and_remove_too(client, alice_bearer, people):
    _, grace = people
    created = _new(client, alice_bearer)
    assert client.post(f"/api/segments/{created['id']}/contact/add/{grace.id}", **alice_bearer).json() == {"success": 1}
    assert client.get("/api/contacts?search=segment:londoners", **alice_bearer).json()["total"] == "2"
    client.post(f"/api/segments/{created['id']}/contact/remove/{grace.id}", **alice_bearer)
    assert client.get("/api/contacts?search=segment:londoners", **alice_bearer).json()["total"] == "1"


def test_unknown_segment_or_contact_is_404_and_get_is_405(client, alice_bearer, people):
    ada, _ = people
    created = _new(client, alice_bearer)
    assert client.post(f"/api/segments/999999/contact/{ada.id}/add", **alice_bearer).status_code == 404
    assert client.post(f"/api/segments/{created['id']}/contact/999999/add", **alice_bearer).status_code == 404
    assert client.get(f"/api/segments/{created['id']}/contact/{ada.id}/add", **alice_bearer).status_code == 405


def test_batch_add_answers_success_per_contact(client, alice_bearer, people):
    ada, grace = people
    created = _new(client, alice_bearer)
    response = _json(
        client, "post", f"/api/segments/{created['id']}/contacts/add", {"ids": [grace.id, 999999, "x"]}, alice_bearer
    )
    assert response.status_code == 200
    assert response.json() == {
        "success": 1,
        "details": {str(grace.id): {"success": True}, "999999": {"success": False}, "x": {"success": False}},
    }
    form = _form(client, "post", f"/api/segments/{created['id']}/contacts/add", {"ids[0]": ada.id}, alice_bearer)
    assert form.json() == {"success": 1, "details": {str(ada.id): {"success": True}}}
    assert _json(client, "post", f"/api/segments/{created['id']}/contacts/add", {}, alice_bearer).status_code == 400


def test_batch_add_is_bounded(client, alice_bearer, people):
    created = _new(client, alice_bearer)
    response = _json(
        client, "post", f"/api/segments/{created['id']}/contacts/add", {"ids": list(range(1, 1002))}, alice_bearer
    )
    assert response.status_code == 400
    assert "errors" in response.json()


def test_search_segment_alias_lists_only_its_members(client, alice_bearer, people):
    ada, _ = people
    _new(client, alice_bearer)
    body = client.get("/api/contacts?search=segment:londoners", **alice_bearer).json()
    assert list(body["contacts"]) == [str(ada.id)]
    nobody = client.get("/api/contacts?search=segment:no-such-segment", **alice_bearer).json()
    assert (nobody["total"], nobody["contacts"]) == (0, {})
    both = client.get("/api/contacts?search=segment:londoners Grace", **alice_bearer).json()
    assert both["total"] == 0
    narrowed = client.get(
        f"/api/contacts?search=segment:londoners&where[0][col]=id&where[0][expr]=eq&where[0][val]={ada.id}",
        **alice_bearer,
    ).json()
    assert narrowed["total"] == "1"


def test_filters_mautic_cannot_read_are_refused_keyed_by_position_without_values(client, alice_bearer, people):
    response = _json(
        client,
        "post",
        "/api/segments/new",
        {
            "name": "Bad",
            "filters": [
                CITY_LONDON,
                {**CITY_LONDON, "field": "secret-field-name", "properties": {"filter": "secret-value"}},
                {**CITY_LONDON, "field": "utm_content", "properties": {"filter": "secret-value"}},
            ],
        },
        alice_bearer,
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert set(error["details"]) == {"filters.1.field", "filters.2.field"}
    assert "secret" not in response.content.decode()


def test_encrypted_filter_values_are_sealed_at_rest_and_hidden_from_edit_only_tokens(
    client, alice_bearer, acme, alice, people
):
    email = {**CITY_LONDON, "field": "email", "type": "email", "properties": {"filter": "grace@navy.example"}}
    created = _new(client, alice_bearer, filters=[email])
    assert created["filters"][0]["properties"]["filter"] == "grace@navy.example"
    with use_workspace(acme):
        from tidings.segments.selectors import segment_get

        assert "grace@navy.example" not in json.dumps(segment_get(created["id"]).definition)
    editor = _token(acme, alice, ["segments:edit"])
    patched = _json(client, "patch", f"/api/segments/{created['id']}/edit", {"description": "x"}, editor)
    assert patched.status_code == 200
    assert "grace@navy.example" not in patched.content.decode()


def test_permissions_answer_mautics_403(client, alice_bearer, acme, alice, people):
    created = _new(client, alice_bearer)
    viewer = _token(acme, alice, ["segments:view", "contacts:view"])
    outsider = _token(acme, alice, ["contacts:view"])
    ada = people[0]
    assert client.get(f"/api/segments/{created['id']}", **viewer).status_code == 200
    for method, path in [
        ("post", "/api/segments/new"),
        ("patch", f"/api/segments/{created['id']}/edit"),
        ("delete", f"/api/segments/{created['id']}/delete"),
        ("post", f"/api/segments/{created['id']}/contact/{ada.id}/add"),
        ("post", f"/api/segments/{created['id']}/contact/add/{ada.id}"),
        ("post", f"/api/segments/{created['id']}/contacts/add"),
    ]:
        response = _json(client, method, path, {"name": "X", "ids": [ada.id]}, viewer)
        assert response.status_code == 403, path
        assert response.json()["errors"][0] == {
            "code": 403,
            "message": "You do not have access to the requested area/action.",
            "details": [],
            "type": None,
        }
    assert client.get("/api/segments", **outsider).status_code == 403
    assert client.get(f"/api/contacts/{ada.id}/segments", **outsider).status_code == 403


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=16,
)
_filter = st.fixed_dictionaries(
    {},
    optional={
        "glue": st.sampled_from(["and", "or"]) | _json_values,
        "field": st.sampled_from(["city", "email", "points", "tags", "leadlist", "hit_url", "dnc_bounced"])
        | _json_values,
        "object": st.sampled_from(["lead", "company", "behaviors", "tidings"]) | _json_values,
        "type": st.sampled_from(["text", "number", "date", "tags"]) | _json_values,
        "operator": st.sampled_from(["=", "!=", "in", "gt", "between", "like", "empty", "date"]) | _json_values,
        "properties": st.fixed_dictionaries({"filter": _json_values}) | _json_values,
        "filter": _json_values,
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filters=st.lists(_filter, max_size=4) | _json_values, name=st.text(max_size=30) | _json_values)
def test_any_segment_body_gets_an_answer_below_500(client, alice_bearer, people, filters, name):
    body = {"name": name, "filters": filters}
    created = _json(client, "post", "/api/segments/new", body, alice_bearer)
    assert created.status_code in (201, 400, 422), created.content
    if created.status_code == 201:
        segment_id = created.json()["list"]["id"]
        assert _json(client, "put", f"/api/segments/{segment_id}/edit", body, alice_bearer).status_code < 500
        assert client.get(f"/api/segments/{segment_id}", **alice_bearer).status_code == 200
        assert client.delete(f"/api/segments/{segment_id}/delete", **alice_bearer).status_code == 200


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=_json_values, search=st.text(max_size=40))
def test_any_ids_or_search_gets_an_answer_below_500(client, alice_bearer, people, ids, search):
    assert _json(client, "post", "/api/segments/1/contacts/add", {"ids": ids}, alice_bearer).status_code < 500
    assert client.get("/api/contacts", {"search": f"segment:{search}"}, **alice_bearer).status_code < 500


def test_the_list_costs_the_same_queries_for_2_or_12_segments(client, alice_bearer, people):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    def count():
        client.get("/api/segments?limit=50", **alice_bearer)
        with CaptureQueriesContext(connections["default"]) as g, CaptureQueriesContext(connections["region_eu"]) as r:
            response = client.get("/api/segments?limit=50", **alice_bearer)
        return len(g.captured_queries) + len(r.captured_queries), len(response.json()["lists"])

    for i in range(2):
        _new(client, alice_bearer, name=f"Few {i}")
    few, n_few = count()
    for i in range(10):
        _new(client, alice_bearer, name=f"Many {i}")
    many, n_many = count()
    assert (n_few, n_many) == (2, 12)
    assert many == few
