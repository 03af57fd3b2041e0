"""The Mautic-compatible API base: URLs, authentication, errors, headers, /api/users/self."""

import pytest
from django.test import override_settings

from tidings.tests.principals import system

SELF_KEYS = {
    "isPublished",
    "dateAdded",
    "dateModified",
    "createdBy",
    "createdByUser",
    "modifiedBy",
    "modifiedByUser",
    "id",
    "username",
    "firstName",
    "lastName",
    "email",
    "position",
    "role",
    "timezone",
    "locale",
    "lastLogin",
    "lastActive",
    "onlineStatus",
    "signature",
}


def test_users_self_answers_in_mauticss_shape_with_basic_auth(client, alice_basic, alice):
    response = client.get("/api/users/self", **alice_basic)
    assert response.status_code == 200
    assert response["Mautic-Version"] == "5.1.0"
    body = response.json()
    assert set(body) == SELF_KEYS
    assert body["email"] == body["username"] == "alice@acme.example"
    assert body["role"]["isAdmin"] is True
    assert set(body["role"]) == {"id", "name", "description", "isAdmin", "rawPermissions"}
    assert body["dateAdded"].endswith("+00:00")


def test_users_self_answers_under_the_workspace_base_with_a_bearer_token(client, alice_bearer, acme):
    response = client.get(f"/m/{acme.slug}/api/users/self", **alice_bearer)
    assert response.status_code == 200
    assert response.json()["role"]["name"] == "Owner"


def test_credentials_of_another_workspace_get_404_under_a_workspace_base(client, alice_bearer, globex):
    response = client.get(f"/m/{globex.slug}/api/users/self", **alice_bearer)
    assert response.status_code == 404
    assert response.json() == {"errors": [{"code": 404, "message": "Item was not found.", "details": [], "type": None}]}


def test_an_unknown_workspace_base_answers_404_only_to_valid_credentials(client, alice_bearer, acme):
    assert client.get("/m/no-such-place/api/users/self", **alice_bearer).status_code == 404
    assert client.get("/m/no-such-place/api/users/self").status_code == 401


def test_missing_credentials_answer_401_in_mautics_shape(client, acme):
    response = client.get("/api/users/self")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == 401
    assert response["Mautic-Version"] == "5.1.0"


def test_a_user_of_several_workspaces_is_told_to_use_a_workspace_base(client, alice_basic, acme, globex, alice):
    from tidings.accounts.actions import membership_create
    from tidings.tests.principals import allow_password_basic

    membership_create(workspace=globex, user=alice, role="analyst", principal=system(globex))
    allow_password_basic(globex)
    response = client.get("/api/users/self", **alice_basic)
    assert response.status_code == 400
    assert "/m/<workspace>/" in response.json()["errors"][0]["message"]
    assert client.get(f"/m/{globex.slug}/api/users/self", **alice_basic).json()["role"]["name"].startswith("Analyst")


def test_unknown_endpoints_answer_mautics_404(client, alice_basic):
    response = client.get("/api/contacts/12", **alice_basic)
    assert response.status_code == 404
    assert response.json()["errors"][0]["message"] == "Item was not found."


@override_settings(TIDINGS_API_RATE_LIMIT=1, TIDINGS_API_RATE_WINDOW=3600)
def test_the_rate_limit_answers_429_in_mautics_words(client, alice_bearer):
    client.get("/api/users/self", **alice_bearer)
    response = client.get("/api/users/self", **alice_bearer)
    assert response.status_code == 429
    assert response.json()["errors"][0]["message"] == "You exceeded the rate limit of 1 API calls per hour."
    assert response["Retry-After"]


def test_application_credentials_have_no_self(client, acme, alice):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import OAuthGrant, oauth_app_create

    binding, secret = oauth_app_create(
        workspace=acme,
        name="Warehouse",
        grant_type=OAuthGrant.CLIENT_CREDENTIALS,
        permissions=["workspace:view"],
        principal=principal_for_user(alice, acme),
    )
    issued = client.post(
        "/oauth/v2/token",
        {"grant_type": "client_credentials", "client_id": binding.application.client_id, "client_secret": secret},
    ).json()
    response = client.get("/api/users/self", HTTP_AUTHORIZATION=f"Bearer {issued['access_token']}")
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/api/users/self", "/m/acme/api/users/self"])
def test_mautic_endpoints_need_no_csrf_token(alice_basic, path):
    from django.test import Client

    assert Client(enforce_csrf_checks=True).get(path, **alice_basic).status_code == 200
