"""The Mautic-compatible API refuses a password alone where a second factor or the workspace says so."""

from __future__ import annotations

import pytest

from tidings.tests.principals import allow_password_basic


@pytest.fixture
def alice_password():
    import base64

    raw = base64.b64encode(b"alice@acme.example:correct horse battery staple").decode()
    return {"HTTP_AUTHORIZATION": f"Basic {raw}"}


def _refusal(response) -> dict:
    assert response.status_code == 401
    assert response["Mautic-Version"] == "5.1.0"
    (error,) = response.json()["errors"]
    assert error["code"] == 401
    return error


@pytest.mark.parametrize("path", ["/api/contacts", "/m/acme/api/contacts"])
def test_password_basic_is_refused_where_the_workspace_has_not_allowed_it(client, alice, acme, alice_password, path):
    error = _refusal(client.get(path, **alice_password))
    assert "API token or OAuth2" in error["message"]


def test_password_basic_is_refused_to_a_member_with_a_second_factor(client, alice, acme, alice_password):
    from tidings.accounts.actions import totp_device_confirm, totp_device_start
    from tidings.accounts.tests.helpers import totp_code

    allow_password_basic(acme)
    device = totp_device_start(user=alice)
    totp_device_confirm(device=device, token=totp_code(device))
    error = _refusal(client.get("/api/users/self", **alice_password))
    assert "second factor" in error["message"]


def test_password_basic_is_refused_where_two_factor_is_required(client, alice, acme, alice_password):
    from tidings.accounts.actions import workspace_settings_update
    from tidings.accounts.permissions import system_principal

    allow_password_basic(acme)
    workspace_settings_update(
        workspace=acme,
        name=acme.name,
        require_two_factor=True,
        principal=system_principal(acme, reason="test"),
    )
    error = _refusal(client.get("/api/users/self", **alice_password))
    assert "requires two-factor" in error["message"]


def test_an_api_token_still_opens_the_mautic_api_where_passwords_are_off(client, alice_bearer, acme):
    assert client.get("/api/users/self", **alice_bearer).status_code == 200
