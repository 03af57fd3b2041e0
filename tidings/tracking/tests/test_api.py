"""The native tracking API: /api/v1/sites (CRUD, key rotation) and /api/v1/events of a contact or a site."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.tenancy.context import use_workspace
from tidings.tests.api_client import token_api
from tidings.tests.principals import system

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


def _token_api(client, workspace, user, permissions=None):
    return token_api(client, workspace, user, permissions, name="Tracking sync")


@pytest.fixture
def api(client, acme, alice):
    return _token_api(client, acme, alice)


@pytest.fixture
def hits(site, ada, visitor):
    """Three page hits on Acme's shop: two of ada's device (identified), one of an anonymous device; a form event."""
    from tidings.events import store
    from tidings.events.actions import visitor_create, visitor_identify
    from tidings.tracking.event_types import CUSTOM_EVENT, PAGE_HIT

    visitor_identify(visitor.pk, ada.id, principal=system())
    anonymous = visitor_create(principal=system())
    now = timezone.now()
    store.write([
        {"type": PAGE_HIT, "visitor_id": visitor.pk, "at": now - datetime.timedelta(hours=3),
         "data": {"site": site.pk, "url": "https://shop.example/pricing?email=ada@analytical.example"}},
        {"type": PAGE_HIT, "visitor_id": anonymous.pk, "at": now - datetime.timedelta(hours=2),
         "data": {"site": site.pk, "url": "https://shop.example/"}},
        {"type": CUSTOM_EVENT, "visitor_id": visitor.pk, "at": now - datetime.timedelta(hours=1),
         "data": {"site": site.pk, "name": "signup", "url": "https://shop.example/signup"}},
        {"type": PAGE_HIT, "visitor_id": visitor.pk, "at": now, "data": {"site": site.pk + 1000,
                                                                          "url": "https://else.example/"}},
    ])  # fmt: skip
    return {"visitor": visitor, "anonymous": anonymous}


def test_sites_are_created_listed_changed_rotated_and_deleted(api, acme):
    created = api.send("POST", "/sites", {"name": "Shop", "domains": ["Shop.Example", ".blog.example"],
                                          "consent_mode": "legitimate_interest"})  # fmt: skip
    assert created.status_code == 201, created.content
    site = created.json()
    assert site["domains"] == ["shop.example", ".blog.example"] and site["public_key"].startswith("eu_")
    assert [s["name"] for s in api.get("/sites").json()["items"]] == ["Shop"]
    changed = api.send("PATCH", f"/sites/{site['id']}", {"name": "Boutique", "excluded_networks": ["10.1.2.3"]})
    assert changed.status_code == 200 and changed.json()["excluded_networks"] == ["10.1.2.3/32"]
    rotated = api.send("POST", f"/sites/{site['id']}/rotate_key").json()
    assert rotated["public_key"] != site["public_key"]
    assert api.send("DELETE", f"/sites/{site['id']}").status_code == 204
    assert api.get(f"/sites/{site['id']}").status_code == 404


def test_invalid_site_values_are_422_keyed_by_field_without_the_value(api, acme):
    response = api.send("POST", "/sites", {"name": "Shop", "domains": ["secret value!"], "consent_mode": "sometimes"})
    body = response.content.decode()
    assert response.status_code == 422
    fields = response.json()["error"]["details"]["fields"]
    assert set(fields) == {"domains", "consent_mode"}
    assert "secret value" not in body and "sometimes" not in body


def test_a_token_without_tracking_edit_may_read_but_not_write(client, acme, alice, site):
    reader = _token_api(client, acme, alice, permissions=["tracking:view"])
    assert reader.get("/sites").status_code == 200
    assert reader.send("POST", "/sites", {"name": "x"}).status_code == 403
    assert reader.send("POST", f"/sites/{site.pk}/rotate_key").status_code == 403


def test_a_contacts_events_include_its_identified_devices(api, hits, ada):
    response = api.get("/events", {"contact": ada.id})
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert [item["type"] for item in items][:3] == ["page.hit", "tracking.event", "page.hit"]
    assert all(item["contact_id"] == ada.id for item in items if item["type"] in ("page.hit", "tracking.event"))
    urls = [item["data"].get("url") for item in items]
    assert "https://shop.example/pricing" in urls and not any("email=" in (url or "") for url in urls)


def test_a_sites_events_are_filtered_by_type_and_time(api, hits, site):
    everything = api.get("/events", {"site": site.pk}).json()["items"]
    assert len(everything) == 3
    pages = api.get("/events", {"site": site.pk, "type": "page.hit"}).json()["items"]
    assert [item["type"] for item in pages] == ["page.hit", "page.hit"]
    since = (timezone.now() - datetime.timedelta(minutes=150)).isoformat()
    recent = api.get("/events", {"site": site.pk, "since": since}).json()["items"]
    assert [item["type"] for item in recent] == ["tracking.event", "page.hit"]


def test_events_come_in_cursor_pages(api, hits, site):
    first = api.get("/events", {"site": site.pk, "limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = api.get("/events", {"site": site.pk, "limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in second["items"]})
    assert api.get("/events", {"site": site.pk, "cursor": "forged"}).status_code == 400


@pytest.mark.parametrize("query", [{}, {"contact": 1, "site": 1}, {"site": 1, "type": "no.such.type"}])
def test_bad_event_queries_are_422(api, site, query):
    response = api.get("/events", query)
    assert response.status_code == 422 and "no.such.type" not in response.content.decode()


def test_a_contacts_events_need_contacts_view(client, acme, alice, ada):
    reader = _token_api(client, acme, alice, permissions=["tracking:view"])
    assert reader.get("/events", {"contact": ada.id}).status_code == 403


def test_events_list_pins_its_query_count(api, hits, site, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        assert api.get("/events", {"site": site.pk}).status_code == 200


_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(st.sampled_from(["name", "domains", "consent_mode", "ip_storage", "excluded_networks",
                                             "active", "other"]), _json, max_size=6))  # fmt: skip
def test_no_site_body_gives_a_server_error_or_echoes_a_value(api, acme, body):
    response = api.send("POST", "/sites", body)
    assert response.status_code in (201, 400, 422), response.content  # 400: a body JSON cannot carry (NUL)
    if response.status_code in (400, 422):
        errors = json.dumps(response.json()["error"])
        for value in body.values():
            if isinstance(value, str) and len(value) >= 6 and value.strip():
                assert value not in errors


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(["contact", "site", "type", "since", "until", "limit", "cursor"]),
                              st.text(max_size=30), max_size=5))  # fmt: skip
def test_no_events_query_gives_a_server_error(api, acme, params):
    assert api.get("/events", params).status_code < 500


def test_another_workspaces_site_is_not_found(api, globex):
    from tidings.tracking import actions

    with use_workspace(globex):
        theirs = actions.site_create(name="Globex site", domains=["globex.example"], principal=system())
    for path in (f"/sites/{theirs.pk + 5000}",):
        assert api.get(path).status_code == 404
    assert api.get("/events", {"site": theirs.pk + 5000}).status_code == 404
