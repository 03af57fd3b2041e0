"""Pages over the native API (/api/v1/pages) and Mautic's (/api/pages), with their permissions."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.pages.models import LandingPage
from tidings.tests.api_client import token_api


@pytest.fixture
def api(client, acme, alice):
    return token_api(client, acme, alice)


@pytest.fixture
def viewer_api(client, acme, alice):
    return token_api(client, acme, alice, permissions=["pages:view"], name="Read only")


def test_create_read_change_list_and_delete(api, in_acme):
    response = api.post("/pages", {"title": "Spring sale", "content": "<p onclick='x'>Hi {form=77}</p>"})
    assert response.status_code == 201
    page = response.json()
    assert page["slug"] == "spring-sale" and page["content"] == "<p>Hi {form=77}</p>" and not page["is_published"]
    assert page["url"].endswith("/m/acme/p/spring-sale") and page["token_problems"][0].startswith("{form=77}")
    response = api.send("PATCH", f"/pages/{page['id']}", {"is_published": True, "noindex": True})
    assert response.status_code == 200 and response.json()["is_published"] and response.json()["noindex"]
    assert api.get(f"/pages/{page['id']}").json()["title"] == "Spring sale"
    assert [p["id"] for p in api.get("/pages").json()["items"]] == [page["id"]]
    assert api.send("DELETE", f"/pages/{page['id']}").status_code == 204
    assert api.get(f"/pages/{page['id']}").status_code == 404


def test_invalid_values_are_a_422_keyed_by_field(api, in_acme):
    response = api.post("/pages", {"title": "", "slug": "API", "redirect_type": "307"})
    assert response.status_code == 422
    assert set(response.json()["error"]["details"]["fields"]) >= {"title", "slug", "redirect_type"}


def test_a_read_only_token_cannot_write(viewer_api, spring):
    assert viewer_api.get("/pages").status_code == 200
    assert viewer_api.post("/pages", {"title": "Mine"}).status_code == 403
    assert viewer_api.send("PATCH", f"/pages/{spring.pk}", {"title": "Mine"}).status_code == 403
    assert viewer_api.send("DELETE", f"/pages/{spring.pk}").status_code == 403


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(
            [
                "title",
                "slug",
                "content",
                "redirect_type",
                "redirect_url",
                "canonical_url",
                "is_published",
                "meta_description",
            ]
        ),
        st.one_of(st.text(max_size=50), st.integers(), st.booleans(), st.none()),
        max_size=6,
    )
)
def test_any_body_answers_without_a_server_error(api, in_acme, body):  # fmt: skip
    from django.core.cache import cache

    cache.clear()
    assert api.post("/pages", body).status_code < 500


# ==============================================================================================
# Mautic


def _json(client, method, path, body, headers):
    return getattr(client, method)(path, json.dumps(body), content_type="application/json", **headers)


def test_mautic_list_and_get_have_mauticss_shapes(client, alice_bearer, spring):
    listed = client.get("/api/pages", **alice_bearer).json()
    assert listed["total"] == 1
    (item,) = listed["pages"]
    assert (item["id"], item["title"], item["alias"], item["isPublished"]) == (spring.pk, "Spring sale", "spring", True)
    assert item["customHtml"].startswith("<h1>Spring sale</h1>") and item["metaDescription"] == "Acme's spring sale"
    got = client.get(f"/api/pages/{spring.pk}", **alice_bearer).json()["page"]
    assert got["redirectType"] is None and got["noIndex"] is False


def test_mautic_new_edit_and_delete(client, alice_bearer, spring):
    response = _json(
        client,
        "post",
        "/api/pages/new",
        {"title": "Spring", "alias": "spring", "customHtml": "<p>x<script>y</script></p>"},
        alice_bearer,
    )
    assert response.status_code == 201
    page = response.json()["page"]
    assert page["alias"] == "spring1" and page["customHtml"] == "<p>x</p>" and page["isPublished"] is True
    response = _json(
        client,
        "patch",
        f"/api/pages/{page['id']}/edit",
        {"isPublished": 0, "redirectType": "301", "redirectUrl": "https://acme.example/"},
        alice_bearer,
    )
    assert response.status_code == 200 and response.json()["page"]["redirectType"] == "301"
    response = client.delete(f"/api/pages/{page['id']}/delete", **alice_bearer)
    assert response.status_code == 200 and response.json()["page"]["id"] is None
    assert not LandingPage.objects.filter(pk=page["id"]).exists()  # fmt: skip


def test_mautic_validation_errors_are_400(client, alice_bearer, in_acme):
    response = _json(client, "post", "/api/pages/new", {"title": "T", "redirectType": "301"}, alice_bearer)
    assert response.status_code in (400, 422)
    assert "redirectUrl" in json.dumps(response.json()) or "redirect_url" in json.dumps(response.json())
