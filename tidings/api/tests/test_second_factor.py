"""The second factor cannot be skipped through the API: password Basic, token minting, OAuth2 consent."""

from __future__ import annotations

import json

import pytest

from tidings.accounts.tests.helpers import audit_entries, totp_code
from tidings.tests.principals import allow_password_basic

PASSWORD = "correct horse battery staple"


@pytest.fixture
def alice_device(alice):
    """alice's confirmed authenticator (her second factor)."""
    from tidings.accounts.actions import totp_device_confirm, totp_device_start

    device = totp_device_start(user=alice)
    totp_device_confirm(device=device, token=totp_code(device))
    device.refresh_from_db()
    return device


def _require_two_factor(workspace):
    from tidings.accounts.actions import workspace_settings_update
    from tidings.accounts.permissions import system_principal

    workspace_settings_update(
        workspace=workspace,
        name=workspace.name,
        require_two_factor=True,
        principal=system_principal(workspace, reason="test"),
    )


def _basic_headers(username: str, password: str) -> dict:
    import base64

    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {raw}"}


def _mint(client, headers, name="Minted"):
    return client.post("/api/v1/tokens", json.dumps({"name": name}), content_type="application/json", **headers)


# Password Basic auth is a workspace setting, off by default


def test_password_basic_is_refused_where_the_workspace_has_not_allowed_it(client, alice, acme):
    response = client.get("/api/v1/me", **_basic_headers("alice@acme.example", PASSWORD))
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "password_refused"
    assert "API token or OAuth2" in error["message"]


def test_password_basic_works_where_the_workspace_allows_it(client, alice, acme):
    allow_password_basic(acme)
    response = client.get("/api/v1/me", **_basic_headers("alice@acme.example", PASSWORD))
    assert response.status_code == 200
    assert response.json()["via"] == "member"


def test_password_basic_is_refused_to_a_member_with_a_second_factor(client, alice, acme, alice_device):
    allow_password_basic(acme)
    response = client.get("/api/v1/me", **_basic_headers("alice@acme.example", PASSWORD))
    assert response.status_code == 401
    assert "second factor" in response.json()["error"]["message"]


def test_password_basic_is_refused_where_two_factor_is_required(client, alice, acme):
    allow_password_basic(acme)
    _require_two_factor(acme)
    response = client.get("/api/v1/me", **_basic_headers("alice@acme.example", PASSWORD))
    assert response.status_code == 401
    assert "requires two-factor" in response.json()["error"]["message"]


def test_an_api_token_as_basic_password_still_works_where_passwords_are_off(client, alice_token, acme):
    assert client.get("/api/v1/me", **_basic_headers("anything", alice_token[1])).status_code == 200


def test_the_workspace_settings_page_switches_password_basic_and_audits_it(alice_client, acme):
    response = alice_client.post(f"/w/{acme.slug}/settings/workspace/", {"name": "Acme", "allow_password_basic": "on"})
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.allow_password_basic is True
    entry = audit_entries(acme, "workspace.settings_changed")[0]
    assert entry.data["fields"] == ["allow_password_basic"]


def test_the_demo_workspace_allows_password_basic():
    from tidings.demo import demo_build

    assert demo_build().workspace.allow_password_basic is True


# Minting API tokens


def test_a_password_never_mints_a_token(client, alice, acme):
    allow_password_basic(acme)
    response = _mint(client, _basic_headers("alice@acme.example", PASSWORD))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "second_factor_required"


def test_a_token_of_a_member_with_a_second_factor_cannot_mint_another(client, alice_token, bearer, alice_device):
    response = _mint(client, bearer(alice_token[1]))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "second_factor_required"


def test_a_token_of_a_member_without_a_second_factor_still_mints_one(client, alice_token, bearer):
    assert _mint(client, bearer(alice_token[1])).status_code == 201


def test_an_unverified_session_of_a_member_with_a_second_factor_is_sent_to_confirm_it(
    alice_client, acme, alice, alice_device
):
    from tidings.api.selectors import own_tokens

    page = f"/w/{acme.slug}/settings/api-tokens/"
    response = alice_client.post(page, {"name": "From the UI", "permissions": ["workspace:view"]})
    assert response.status_code == 302
    assert response["Location"].startswith(f"/w/{acme.slug}/two-factor-required/")
    assert not own_tokens(acme, alice).exists()


def test_an_unverified_session_is_sent_to_confirm_before_ticking_anything(alice_client, acme, alice, alice_device):
    """The form is not offered: the detour through the second factor would lose the member's ticks."""
    page = alice_client.get(f"/w/{acme.slug}/settings/api-tokens/").content.decode()
    assert 'name="permissions"' not in page
    assert f"/w/{acme.slug}/two-factor-required/?next=" in page


def test_a_session_that_passed_the_second_factor_mints_a_token(alice_client, acme, alice, alice_device):
    from tidings.api.selectors import own_tokens

    page = f"/w/{acme.slug}/settings/api-tokens/"
    verified = alice_client.post(
        f"/w/{acme.slug}/two-factor-required/?next={page}", {"code": totp_code(alice_device, 1), "next": page}
    )
    assert verified.status_code == 302 and verified["Location"] == page
    response = alice_client.post(page, {"name": "From the UI", "permissions": ["workspace:view"]})
    assert response.status_code == 200
    assert own_tokens(acme, alice).filter(name="From the UI").exists()


# Two-factor compliance on the API


def test_a_token_is_refused_where_two_factor_is_required_and_its_user_has_none(client, alice_token, bearer, acme):
    _require_two_factor(acme)
    response = client.get("/api/v1/me", **bearer(alice_token[1]))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "two_factor_required"


def test_a_token_works_where_two_factor_is_required_and_its_user_has_one(
    client, alice_token, bearer, acme, alice_device
):
    _require_two_factor(acme)
    assert client.get("/api/v1/me", **bearer(alice_token[1])).status_code == 200


# OAuth2 consent


@pytest.fixture
def crm_app(acme, alice):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import OAuthGrant, oauth_app_create

    binding, _secret = oauth_app_create(
        workspace=acme,
        name="CRM",
        grant_type=OAuthGrant.AUTHORIZATION_CODE,
        permissions=["workspace:view"],
        redirect_uris="https://crm.example/oauth/callback",
        principal=principal_for_user(alice, acme),
    )
    return binding


def _authorize(client, binding, base=""):
    return client.get(
        f"{base}/oauth/v2/authorize?response_type=code&client_id={binding.application.client_id}"
        "&redirect_uri=https://crm.example/oauth/callback&state=xyz"
    )


@pytest.mark.parametrize("base", ["", "/m/acme"])
def test_consenting_to_an_application_needs_the_second_factor_the_member_has(
    alice_client, crm_app, alice_device, acme, base
):
    response = _authorize(alice_client, crm_app, base)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/w/{acme.slug}/two-factor-required/?next=")


def test_consenting_needs_the_second_factor_where_the_workspace_requires_it(alice_client, crm_app, acme):
    _require_two_factor(acme)
    response = _authorize(alice_client, crm_app)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/w/{acme.slug}/two-factor-required/")


def test_a_session_that_passed_the_second_factor_sees_the_consent_page(alice_client, crm_app, alice_device, acme):
    alice_client.post(f"/w/{acme.slug}/two-factor-required/", {"code": totp_code(alice_device, 1)})
    assert _authorize(alice_client, crm_app).status_code == 200
