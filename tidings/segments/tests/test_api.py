"""The native segments API at /api/v1/segments: CRUD, preview, rebuild, members, and a contact's segments."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.tenancy.context import use_workspace
from tidings.tests.api_client import token_api
from tidings.tests.principals import system

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


def _token_api(client, workspace, user, permissions=None):
    return token_api(client, workspace, user, permissions, name="Segments sync")


@pytest.fixture
def api(client, acme, alice):
    """alice, owner of Acme, with a token holding all her permissions."""
    return _token_api(client, acme, alice)


@pytest.fixture
def people(acme):
    """Ada (London, 10 points, vip) and Grace (Paris, 30 points) in Acme."""
    from tidings.contacts.actions import contact_create

    with use_workspace(acme):
        ada = contact_create(
            {"email": "ada@analytical.example", "firstname": "Ada", "city": "London", "points": 10},
            tags=["vip"],
            principal=system(acme),
        )
        grace = contact_create(
            {"email": "grace@navy.example", "firstname": "Grace", "city": "Paris", "points": 30},
            principal=system(acme),
        )
    return ada, grace


LONDON = {
    "match": "all",
    "filters": [{"kind": "field", "object": "contact", "field": "city", "operator": "equals", "value": "London"}],
}
BY_EMAIL = {
    "match": "all",
    "filters": [
        {"kind": "field", "object": "contact", "field": "email", "operator": "equals", "value": "grace@navy.example"}
    ],
}


def _create(api, name="Londoners", definition=LONDON, **extra):
    response = api.send("POST", "/segments", {"name": name, "definition": definition, **extra})
    assert response.status_code == 201, response.content
    return response.json()


def test_create_builds_the_membership_and_answers_the_segment(api, people):
    ada, _ = people
    body = _create(api, description="Our people in London")
    assert body["alias"] == "londoners"
    assert body["member_count"] == 1
    assert body["definition"] == LONDON
    assert body["description"] == "Our people in London"
    members = api.get(f"/segments/{body['id']}/members").json()
    assert [m["contact_id"] for m in members["items"]] == [ada.id]
    assert members["items"][0]["added_manually"] is False


def test_the_list_shows_member_counts_by_name_and_pages_by_cursor(api, people):
    for name in ("Charlie", "Alpha", "Bravo"):
        _create(api, name=name)
    first = api.get("/segments", {"limit": 2}).json()
    second = api.get("/segments", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [s["name"] for s in first["items"] + second["items"]] == ["Alpha", "Bravo", "Charlie"]
    assert {s["member_count"] for s in first["items"]} == {1}
    assert "definition" not in first["items"][0]
    assert second["next_cursor"] is None
    assert [s["name"] for s in api.get("/segments", {"search": "rav"}).json()["items"]] == ["Bravo"]


def test_the_list_costs_the_same_queries_for_2_or_12_segments(api, people):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    def count():
        api.get("/segments", {"limit": 50})
        with CaptureQueriesContext(connections["default"]) as g, CaptureQueriesContext(connections["region_eu"]) as r:
            response = api.get("/segments", {"limit": 50})
        return len(g.captured_queries) + len(r.captured_queries), len(response.json()["items"])

    for i in range(2):
        _create(api, name=f"Few {i}")
    few, n_few = count()
    for i in range(10):
        _create(api, name=f"Many {i}")
    many, n_many = count()
    assert (n_few, n_many) == (2, 12)
    assert many == few


def test_encrypted_filter_values_are_shown_to_viewers_and_hidden_from_edit_only_tokens(
    client, api, acme, alice, people
):
    created = _create(api, name="Grace", definition=BY_EMAIL)
    assert created["definition"] == BY_EMAIL
    assert api.get(f"/segments/{created['id']}").json()["definition"] == BY_EMAIL
    editor = _token_api(client, acme, alice, permissions=["segments:edit"])
    changed = editor.send("PATCH", f"/segments/{created['id']}", {"description": "changed"})
    assert changed.status_code == 200
    assert changed.json()["definition"]["filters"][0]["value"] is None
    assert "grace@navy.example" not in changed.content.decode()


def test_patch_changes_only_what_is_given_and_a_new_definition_rebuilds(api, people):
    _, grace = people
    created = _create(api)
    response = api.send(
        "PATCH",
        f"/segments/{created['id']}",
        {"definition": {"filters": [{"kind": "field", "field": "points", "operator": "gt", "value": 20}]}},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["member_count"]) == ("Londoners", 1)
    assert api.get(f"/segments/{created['id']}/members").json()["items"][0]["contact_id"] == grace.id


def test_an_invalid_definition_is_a_422_keyed_by_path_without_the_value(api, people):
    response = api.send(
        "POST",
        "/segments",
        {
            "name": "Bad",
            "definition": {
                "filters": [
                    {"kind": "field", "field": "city", "operator": "equals", "value": "London"},
                    {"kind": "field", "field": "points", "operator": "gt", "value": "secret-value-77"},
                ]
            },
        },
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["details"]["fields"]) == {"definition.filters.1.value"}
    assert "secret" not in response.content.decode()
    unknown = api.send(
        "POST",
        "/segments",
        {"name": "Bad", "definition": {"filters": [{"kind": "field", "field": "secret-field", "operator": "equals"}]}},
    )
    assert set(unknown.json()["error"]["details"]["fields"]) == {"definition.filters.0.field"}
    assert "secret" not in unknown.content.decode()


def test_a_sealed_value_from_a_client_is_refused(api, people):
    node = {"kind": "field", "field": "email", "operator": "equals", "value_sealed": "1.forged.blob"}
    for method, path in [("POST", "/segments"), ("POST", "/segments/preview")]:
        response = api.send(method, path, {"name": "Forged", "definition": {"filters": [{"filters": [node]}]}})
        assert response.status_code == 422
        assert set(response.json()["error"]["details"]["fields"]) == {"definition.filters.0.filters.0.value_sealed"}


def test_a_taken_alias_and_an_empty_name_are_422s_naming_the_fields(api, people):
    _create(api)
    response = api.send("POST", "/segments", {"name": "", "alias": "londoners"})
    assert response.status_code == 422
    assert set(response.json()["error"]["details"]["fields"]) == {"name", "alias"}


def test_preview_counts_and_samples_without_saving(api, people):
    ada, grace = people
    response = api.send(
        "POST",
        "/segments/preview",
        {"definition": {"filters": [{"kind": "field", "field": "points", "operator": "gte", "value": 10}]}},
    )
    assert response.status_code == 200
    assert response.json() == {"count": 2, "capped": False, "sample_ids": [grace.id, ada.id]}
    assert api.get("/segments").json()["items"] == []
    bad = api.send("POST", "/segments/preview", {"definition": {"match": "some"}})
    assert bad.status_code == 422
    assert "definition.match" in bad.json()["error"]["details"]["fields"]


def test_rebuild_applies_the_difference_and_keeps_manual_changes(api, acme, people):
    from tidings.contacts.actions import contact_update

    ada, grace = people
    created = _create(api)
    added = api.send("POST", f"/segments/{created['id']}/members/add", {"ids": [grace.id]})
    assert added.json() == {"changed": 1, "member_count": 2, "not_found": []}
    with use_workspace(acme):
        contact_update(ada.id, {"city": "Paris"}, principal=system(acme))
    rebuilt = api.send("POST", f"/segments/{created['id']}/rebuild")
    assert rebuilt.status_code == 200
    assert {k: rebuilt.json()[k] for k in ("added", "removed", "members")} == {"added": 0, "removed": 1, "members": 1}
    members = api.get(f"/segments/{created['id']}/members").json()["items"]
    assert [(m["contact_id"], m["added_manually"]) for m in members] == [(grace.id, True)]


def test_remove_keeps_a_matching_contact_out_and_unknown_ids_are_listed(api, people):
    ada, _ = people
    created = _create(api)
    response = api.send("POST", f"/segments/{created['id']}/members/remove", {"ids": [ada.id, 999_999, ada.id]})
    assert response.json() == {"changed": 1, "member_count": 0, "not_found": [999_999]}
    api.send("POST", f"/segments/{created['id']}/rebuild")
    assert api.get(f"/segments/{created['id']}/members").json()["items"] == []


def test_member_changes_are_bounded(api, people):
    created = _create(api)
    too_many = api.send("POST", f"/segments/{created['id']}/members/add", {"ids": list(range(1, 1002))})
    empty = api.send("POST", f"/segments/{created['id']}/members/add", {"ids": []})
    assert (too_many.status_code, empty.status_code) == (422, 422)


def test_members_page_by_cursor(api, acme, people):
    from tidings.contacts.actions import contact_create

    with use_workspace(acme):
        extra = [
            contact_create({"email": f"l{i}@acme.example", "city": "London"}, principal=system(acme)).id
            for i in range(4)
        ]
    created = _create(api)
    first = api.get(f"/segments/{created['id']}/members", {"limit": 3}).json()
    second = api.get(f"/segments/{created['id']}/members", {"limit": 3, "cursor": first["next_cursor"]}).json()
    ids = [m["contact_id"] for m in first["items"] + second["items"]]
    assert ids == sorted([people[0].id, *extra])
    assert second["next_cursor"] is None
    assert api.get(f"/segments/{created['id']}/members", {"cursor": "nonsense"}).status_code == 400


def test_a_contacts_segments(api, people):
    ada, grace = people
    london = _create(api)
    vip = _create(
        api, name="VIPs", definition={"filters": [{"kind": "field", "field": "points", "operator": "gte", "value": 5}]}
    )
    body = api.get(f"/contacts/{ada.id}/segments").json()
    assert [(s["id"], s["alias"], s["added_manually"]) for s in body] == [
        (london["id"], "londoners", False),
        (vip["id"], "vips", False),
    ]
    assert [s["id"] for s in api.get(f"/contacts/{grace.id}/segments").json()] == [vip["id"]]
    assert api.get("/contacts/999999/segments").status_code == 404


def test_delete_answers_204_and_409_while_another_segment_names_it(api, people):
    london = _create(api)
    user = _create(
        api,
        name="Not London",
        definition={"filters": [{"kind": "segment", "operator": "not_in", "value": [london["id"]]}]},
    )
    refused = api.send("DELETE", f"/segments/{london['id']}")
    assert refused.status_code == 409
    assert api.send("DELETE", f"/segments/{user['id']}").status_code == 204
    assert api.send("DELETE", f"/segments/{london['id']}").status_code == 204
    assert api.get(f"/segments/{london['id']}").status_code == 404


def test_a_segment_cannot_name_itself(api, people):
    created = _create(api)
    response = api.send(
        "PATCH",
        f"/segments/{created['id']}",
        {"definition": {"filters": [{"kind": "segment", "operator": "in", "value": [created["id"]]}]}},
    )
    assert response.status_code == 422


def test_permissions_reads_need_view_and_writes_need_edit(client, api, acme, alice, people):
    created = _create(api)
    viewer = _token_api(client, acme, alice, permissions=["segments:view"])
    outsider = _token_api(client, acme, alice, permissions=["contacts:view"])
    sid = created["id"]
    assert viewer.get(f"/segments/{sid}").status_code == 200
    assert viewer.send("POST", "/segments/preview", {"definition": LONDON}).status_code == 200
    for method, path, body in [
        ("POST", "/segments", {"name": "X"}),
        ("PATCH", f"/segments/{sid}", {"name": "X"}),
        ("DELETE", f"/segments/{sid}", None),
        ("POST", f"/segments/{sid}/rebuild", None),
        ("POST", f"/segments/{sid}/members/add", {"ids": [people[0].id]}),
        ("POST", f"/segments/{sid}/members/remove", {"ids": [people[0].id]}),
    ]:
        assert viewer.send(method, path, body).status_code == 403, path
    for path in ("/segments", f"/segments/{sid}", f"/segments/{sid}/members", f"/contacts/{people[0].id}/segments"):
        assert outsider.get(path).status_code == 403, path


_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
_node = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from(["field", "tag", "segment", "dnc", "event", "group", "nope"]) | _json,
        "field": st.sampled_from(["city", "email", "points", "date_added", "firstname"]) | _json,
        "object": st.sampled_from(["contact", "company"]) | _json,
        "operator": st.sampled_from(["equals", "in", "gt", "between", "in_last_days", "regex", "has", "is"]) | _json,
        "value": _json,
        "value_sealed": _json,
        "event": st.sampled_from(["page.hit", "email.opened"]) | _json,
        "filters": _json,
        "match": st.sampled_from(["all", "any"]) | _json,
        "data": _json,
        "within_days": _json,
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(definition=st.one_of(_json, st.fixed_dictionaries({"match": _json, "filters": st.lists(_node, max_size=4)})))
def test_any_definition_gets_an_answer_below_500(api, people, definition):
    preview = api.send("POST", "/segments/preview", {"definition": definition})
    created = api.send("POST", "/segments", {"name": "Fuzz", "alias": "fuzz", "definition": definition})
    assert preview.status_code in (200, 400, 422), preview.content  # 400: NUL characters
    assert created.status_code in (201, 400, 422), created.content
    if created.status_code == 201:
        assert api.send("DELETE", f"/segments/{created.json()['id']}").status_code == 204


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_json)
def test_any_body_gets_an_answer_below_500(api, people, body):
    for method, path in [("POST", "/segments"), ("PATCH", "/segments/1"), ("POST", "/segments/1/members/add")]:
        response = api.send(method, path, body)
        assert response.status_code < 500, response.content
