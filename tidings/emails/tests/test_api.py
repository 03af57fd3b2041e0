"""Emails over the native API (/api/v1/emails) and Mautic's (/api/emails), with their permissions."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.emails.models import Email
from tidings.tests.api_client import token_api
from tidings.tests.principals import system


@pytest.fixture
def api(client, acme, alice):
    return token_api(client, acme, alice)


@pytest.fixture
def viewer_api(client, acme, alice):
    return token_api(client, acme, alice, permissions=["emails:view"], name="Read only")


@pytest.fixture
def readers(in_acme):
    from tidings.segments.actions import segment_create

    return segment_create(principal=system(), name="Readers", description="People who read.")


def test_create_read_change_list_and_delete(api, in_acme):
    response = api.post("/emails", {"subject": "Spring news", "html": "<p>Hi {contactfield=firstname|there}</p>"})
    assert response.status_code == 201
    email = response.json()
    assert (email["name"], email["version"], email["kind"], email["token_problems"]) == (
        "Spring news",
        1,
        "template",
        {},
    )
    response = api.send("PATCH", f"/emails/{email['id']}", {"html": "<p>Hello</p>", "published": True})
    assert response.status_code == 200 and response.json()["version"] == 2 and response.json()["published"]
    assert api.get(f"/emails/{email['id']}").json()["html"] == "<p>Hello</p>"
    assert [e["id"] for e in api.get("/emails", {"search": "spring"}).json()["items"]] == [email["id"]]
    assert api.get("/emails", {"kind": "list"}).json()["items"] == []
    variant = api.post(f"/emails/{email['id']}/variants", {"subject": "Spring!", "variant_weight": 40})
    assert variant.status_code == 201 and variant.json()["variant_of"] == email["id"]
    clone = api.post(f"/emails/{email['id']}/clone", {})
    assert clone.status_code == 201 and clone.json()["name"] == "Spring news (copy)"
    assert api.send("DELETE", f"/emails/{email['id']}").status_code == 204
    assert api.get(f"/emails/{email['id']}").status_code == 404
    assert api.get(f"/emails/{variant.json()['id']}").status_code == 404


def test_invalid_values_and_tokens_are_a_422_keyed_by_field(api, in_acme):
    response = api.post("/emails", {"subject": "", "from_address": "nope", "kind": "spam"})
    assert response.status_code == 422
    assert set(response.json()["error"]["details"]["fields"]) >= {"subject", "from_address", "kind"}
    response = api.post("/emails", {"subject": "Hi {contactfield=shoe_size}"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "tokens"
    assert "shoe_size" in response.json()["error"]["details"]["fields"]["subject"][0]
    response = api.post("/emails", {"subject": "Hi {contactfield=shoe_size}", "tokens_confirmed": True})
    assert response.status_code == 201 and "subject" in response.json()["token_problems"]


def test_a_read_only_token_cannot_write(viewer_api, in_acme):
    email = Email.objects.create(name="Hi", subject="Hi")
    assert viewer_api.get("/emails").status_code == 200
    assert viewer_api.post("/emails", {"subject": "Mine"}).status_code == 403
    assert viewer_api.send("PATCH", f"/emails/{email.pk}", {"subject": "Mine"}).status_code == 403
    assert viewer_api.send("DELETE", f"/emails/{email.pk}").status_code == 403


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(
            [
                "name",
                "subject",
                "kind",
                "html",
                "text",
                "source",
                "editor",
                "theme",
                "from_address",
                "reply_to",
                "segment_ids",
                "published",
                "purpose_key",
                "transactional",
            ]
        ),  # fmt: skip
        st.one_of(st.text(max_size=50), st.integers(), st.booleans(), st.none(), st.lists(st.integers(), max_size=2)),
        max_size=6,
    )
)
def test_any_body_answers_without_a_server_error(api, in_acme, body):
    from django.core.cache import cache

    cache.clear()
    assert api.post("/emails", body).status_code < 500


# ==============================================================================================
# Mautic


def _json(client, method, path, body, headers):
    return getattr(client, method)(path, json.dumps(body), content_type="application/json", **headers)


def test_mautic_new_get_list_edit_and_delete(client, alice_bearer, readers):
    body = {"name": "Spring", "subject": "Spring news", "customHtml": "<h1>Hi {custom_plugin_token}</h1>",
            "emailType": "list", "lists": [readers.pk], "fromAddress": "news@acme.example"}  # fmt: skip
    response = _json(client, "post", "/api/emails/new", body, alice_bearer)
    assert response.status_code == 201, response.content
    email = response.json()["email"]
    assert (email["emailType"], email["isPublished"], email["revision"], email["fromAddress"]) == (
        "list", True, 1, "news@acme.example")  # fmt: skip
    assert email["lists"] == [{"id": readers.pk, "name": "Readers", "alias": readers.alias,
                               "description": "People who read."}]  # fmt: skip
    listed = client.get("/api/emails", **alice_bearer).json()
    assert listed["total"] == 1 and listed["emails"][str(email["id"])]["subject"] == "Spring news"
    response = _json(client, "patch", f"/api/emails/{email['id']}/edit", {"plainText": "Hi", "isPublished": 0},
                     alice_bearer)  # fmt: skip
    assert response.status_code == 200
    edited = response.json()["email"]
    assert (edited["plainText"], edited["isPublished"], edited["revision"]) == ("Hi", False, 2)
    assert client.get(f"/api/emails/{email['id']}", **alice_bearer).json()["email"]["customHtml"].startswith("<h1>")
    response = client.delete(f"/api/emails/{email['id']}/delete", **alice_bearer)
    assert response.status_code == 200 and response.json()["email"]["id"] is None
    assert not Email.objects.filter(pk=email["id"]).exists()


def test_mautic_validation_errors_are_400(client, alice_bearer, in_acme):
    response = _json(client, "post", "/api/emails/new", {"subject": "T", "fromAddress": "nope"}, alice_bearer)
    assert response.status_code in (400, 422)
    assert "from_address" in json.dumps(response.json()) or "fromAddress" in json.dumps(response.json())
    response = _json(client, "post", "/api/emails/new", {"subject": "T", "lists": "x"}, alice_bearer)
    assert response.status_code == 400


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(
            [
                "name",
                "subject",
                "customHtml",
                "plainText",
                "emailType",
                "fromAddress",
                "fromName",
                "replyToAddress",
                "lists",
                "isPublished",
                "preheaderText",
            ]
        ),  # fmt: skip
        st.one_of(
            st.text(max_size=40),
            st.integers(),
            st.booleans(),
            st.none(),
            st.lists(st.integers(), max_size=2),
            st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        ),  # fmt: skip
        max_size=6,
    )
)
def test_mautic_any_body_answers_without_a_server_error(client, alice_bearer, in_acme, body):
    assert _json(client, "post", "/api/emails/new", body, alice_bearer).status_code < 500
