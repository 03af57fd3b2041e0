"""Stages over the native API (/api/v1/stages): CRUD, a contact's stage, permissions and hostile bodies.

alice owns Acme (EU); Initech shares Acme's region and database, so its stage ids come from the
same sequence as Acme's: naming one of them in Acme's API must be a 404, as for no stage at all.
"""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.contacts import actions
from tidings.contacts.models import Contact, Stage
from tidings.tenancy.context import use_workspace
from tidings.tests.api_client import token_api
from tidings.tests.principals import system

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


@pytest.fixture
def api(client, acme, alice):
    return token_api(client, acme, alice)


@pytest.fixture
def reader_api(client, acme, alice):
    return token_api(client, acme, alice, permissions=["contacts:view"], name="Read only")


@pytest.fixture
def initech(make_user):
    from tidings.accounts.actions import workspace_create

    return workspace_create(name="Initech", slug="initech", region="eu", owner=make_user("milton@initech.example"))


@pytest.fixture
def ada(acme) -> int:
    with use_workspace(acme):
        return actions.contact_create({"email": "ada@analytical.example"}, principal=system()).id


def _create(api, **values) -> dict:
    response = api.send("POST", "/stages", {"name": "Lead", **values})
    assert response.status_code == 201, response.content
    return response.json()


def _stage_of(workspace, contact_id: int) -> int | None:
    with use_workspace(workspace):
        return Contact.objects.values_list("stage_id", flat=True).get(pk=contact_id)


# ---------------------------------------------------------------------------------------------
# CRUD


def test_a_stage_is_created_read_changed_and_deleted(api, acme):
    created = _create(api, description="Showed interest", weight=10)
    assert {k: created[k] for k in ("name", "description", "weight", "is_published")} == {
        "name": "Lead", "description": "Showed interest", "weight": 10, "is_published": True}  # fmt: skip
    assert api.get(f"/stages/{created['id']}").json() == created

    changed = api.send("PATCH", f"/stages/{created['id']}", {"name": "Warm lead", "is_published": False})
    assert changed.status_code == 200
    assert changed.json()["name"] == "Warm lead" and changed.json()["is_published"] is False
    assert changed.json()["weight"] == 10  # not named: kept

    assert api.send("DELETE", f"/stages/{created['id']}").status_code == 204
    assert api.get(f"/stages/{created['id']}").status_code == 404


def test_the_list_is_by_weight_and_pages_by_cursor(api):
    for name, weight in (("Customer", 30), ("Lead", 10), ("Qualified", 20), ("Archived", 40)):
        _create(api, name=name, weight=weight, is_published=name != "Archived")
    first = api.get("/stages", {"limit": 2}).json()
    assert [s["name"] for s in first["items"]] == ["Lead", "Qualified"]
    second = api.get("/stages", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [s["name"] for s in second["items"]] == ["Customer", "Archived"]
    assert second["next_cursor"] is None
    published = api.get("/stages", {"published_only": "true"}).json()["items"]
    assert [s["name"] for s in published] == ["Lead", "Qualified", "Customer"]
    assert [s["name"] for s in api.get("/stages", {"search": "qu"}).json()["items"]] == ["Qualified"]


def test_the_list_costs_the_same_queries_whatever_the_page(api):
    _create(api, name="Lead")

    def queries() -> int:
        with CaptureQueriesContext(connections["region_eu"]) as captured:
            assert api.get("/stages").status_code == 200
        return len(captured)

    few = queries()
    for index in range(5):
        _create(api, name=f"Stage {index}")
    assert queries() == few


def test_a_contact_is_put_in_a_stage_and_taken_out(api, acme, ada):
    lead, customer = _create(api, name="Lead"), _create(api, name="Customer")
    put = api.send("PUT", f"/stages/{lead['id']}/contacts/{ada}")
    assert put.status_code == 200
    assert put.json()["contact_id"] == ada and put.json()["stage"]["id"] == lead["id"]
    assert _stage_of(acme, ada) == lead["id"]
    # From one stage to another; taking it out of a stage it is not in is a 404 and changes nothing.
    assert api.send("PUT", f"/stages/{customer['id']}/contacts/{ada}").status_code == 200
    assert api.send("DELETE", f"/stages/{lead['id']}/contacts/{ada}").status_code == 404
    assert _stage_of(acme, ada) == customer["id"]
    assert api.send("DELETE", f"/stages/{customer['id']}/contacts/{ada}").status_code == 204
    assert _stage_of(acme, ada) is None


def test_deleting_a_stage_takes_it_off_its_contacts(api, acme, ada):
    lead = _create(api)
    api.send("PUT", f"/stages/{lead['id']}/contacts/{ada}")
    assert api.send("DELETE", f"/stages/{lead['id']}").status_code == 204
    assert _stage_of(acme, ada) is None


# ---------------------------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Lead", "description": "x" * 2001}, "description"),
        ({"name": "Lead", "weight": 2**31}, "weight"),
        ({"name": "Lead", "weight": "heavy"}, "weight"),
        ({"name": "Lead", "is_published": "perhaps"}, "is_published"),
        ({}, "name"),
    ],
)
def test_invalid_values_answer_422_naming_the_field(api, body, field):
    response = api.send("POST", "/stages", body)
    assert response.status_code == 422, response.content
    assert field in response.content.decode()


def test_a_taken_name_is_refused_whatever_its_case(api):
    _create(api, name="Lead")
    response = api.send("POST", "/stages", {"name": "LEAD"})
    assert response.status_code == 422
    assert "name" in response.json()["error"]["details"]["fields"]


def test_a_malformed_body_is_a_client_error(api):
    assert api.send("POST", "/stages", "{not json").status_code == 400


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(["name", "description", "weight", "is_published", "id", "stage"]),
        st.one_of(
            st.text(max_size=120),
            st.integers(),
            st.booleans(),
            st.none(),
            st.floats(),
            st.lists(st.integers(), max_size=2),
        ),
        max_size=5,
    ),  # fmt: skip
    method=st.sampled_from(["POST", "PATCH"]),
)
def test_any_body_answers_without_a_server_error(api, acme, body, method):
    from django.core.cache import cache

    cache.clear()
    with use_workspace(acme):
        target = Stage.objects.first() or actions.stage_create({"name": "Target"}, principal=system())
    path = "/stages" if method == "POST" else f"/stages/{target.id}"
    assert api.send(method, path, body).status_code < 500


# ---------------------------------------------------------------------------------------------
# Permissions and workspaces


def test_a_token_without_contacts_edit_reads_but_cannot_write(api, reader_api, ada):
    lead = _create(api)
    assert reader_api.get("/stages").status_code == 200
    assert reader_api.get(f"/stages/{lead['id']}").status_code == 200
    for method, path, body in (
        ("POST", "/stages", {"name": "Customer"}),
        ("PATCH", f"/stages/{lead['id']}", {"name": "Renamed"}),
        ("DELETE", f"/stages/{lead['id']}", None),
        ("PUT", f"/stages/{lead['id']}/contacts/{ada}", None),
        ("DELETE", f"/stages/{lead['id']}/contacts/{ada}", None),
    ):
        response = reader_api.send(method, path, body)
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["details"] == {"permission": "contacts:edit"}
    assert api.get(f"/stages/{lead['id']}").json()["name"] == "Lead"


def test_a_token_without_contacts_view_is_refused(client, acme, alice):
    blind = token_api(client, acme, alice, permissions=["emails:view"], name="Emails only")
    assert blind.get("/stages").status_code == 403


def test_another_workspaces_stage_in_the_same_region_is_not_found(api, acme, initech, ada):
    with use_workspace(initech):
        theirs = actions.stage_create({"name": "Initech funnel"}, principal=system())
        their_contact = actions.contact_create({"email": "milton@initech.example"}, principal=system()).id
    assert api.get(f"/stages/{theirs.id}").status_code == 404
    assert api.send("PATCH", f"/stages/{theirs.id}", {"name": "Mine now"}).status_code == 404
    assert api.send("DELETE", f"/stages/{theirs.id}").status_code == 404
    assert api.send("PUT", f"/stages/{theirs.id}/contacts/{ada}").status_code == 404
    lead = _create(api)
    assert api.send("PUT", f"/stages/{lead['id']}/contacts/{their_contact}").status_code == 404
    assert "Initech funnel" not in api.get("/stages").content.decode()
    with use_workspace(initech):
        assert Stage.objects.get(pk=theirs.id).name == "Initech funnel"
        assert Contact.objects.get(pk=their_contact).stage_id is None
    assert _stage_of(acme, ada) is None
