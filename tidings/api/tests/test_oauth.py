"""OAuth2 (django-oauth-toolkit): the settings page, client credentials and authorization code end to end."""

import base64
import importlib
import re
from urllib.parse import parse_qs, urlparse

import pytest
from oauth2_provider.models import AccessToken, Application

from tidings.accounts.selectors import principal_for_user
from tidings.api.actions import OAuthGrant, oauth_app_create

CALLBACK = "https://crm.example/oauth/callback"


@pytest.fixture
def alice_principal(acme, alice):
    return principal_for_user(alice, acme)


@pytest.fixture
def server_app(acme, alice_principal):
    """A client-credentials application of Acme that may view the workspace and the audit log."""
    return oauth_app_create(
        workspace=acme,
        name="Warehouse",
        grant_type=OAuthGrant.CLIENT_CREDENTIALS,
        permissions=["workspace:view", "audit:view"],
        principal=alice_principal,
    )


@pytest.fixture
def crm_app(acme, alice_principal):
    """An authorization-code application of Acme with contacts and audit permissions."""
    return oauth_app_create(
        workspace=acme,
        name="CRM",
        grant_type=OAuthGrant.AUTHORIZATION_CODE,
        permissions=["workspace:view", "contacts:view", "audit:view"],
        redirect_uris=CALLBACK,
        principal=alice_principal,
    )


def _client_credentials(client, binding, secret, path="/oauth/v2/token"):
    return client.post(
        path,
        {"grant_type": "client_credentials", "client_id": binding.application.client_id, "client_secret": secret},
    )


def test_only_settings_managers_open_the_oauth_page(dave_client, alice_client, acme):
    assert dave_client.get(f"/w/{acme.slug}/settings/oauth-apps/").status_code == 403
    assert alice_client.get(f"/w/{acme.slug}/settings/oauth-apps/").status_code == 200


def test_creating_an_application_shows_its_secret_once_and_stores_it_hashed(alice_client, acme, settings):
    settings.PASSWORD_HASHERS = importlib.import_module("tidings.settings").PASSWORD_HASHERS  # the suite's is MD5
    response = alice_client.post(
        f"/w/{acme.slug}/settings/oauth-apps/",
        {"name": "Warehouse", "grant_type": "client-credentials", "permissions": ["workspace:view"]},
    )
    assert response.status_code == 200
    secret = re.search(rb'data-testid="new-secret">([^<]+)<', response.content).group(1).decode()
    application = Application.objects.get(name="Warehouse")
    assert application.client_secret != secret and application.client_secret.startswith(("pbkdf2", "argon2"))
    assert secret.encode() not in alice_client.get(f"/w/{acme.slug}/settings/oauth-apps/").content


def test_an_authorization_code_application_needs_a_redirect_uri(alice_client, acme):
    response = alice_client.post(
        f"/w/{acme.slug}/settings/oauth-apps/",
        {"name": "CRM", "grant_type": "authorization-code", "permissions": ["workspace:view"]},
    )
    assert b"redirect URI" in response.content
    assert not Application.objects.exists()


def test_client_credentials_act_for_the_workspace_with_the_applications_permissions(client, server_app):
    binding, secret = server_app
    issued = _client_credentials(client, binding, secret)
    assert issued.status_code == 200, issued.content
    access = issued.json()["access_token"]
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {access}").json()
    assert me["user"] is None
    assert me["via"] == "oauth"
    assert me["permissions"] == ["audit:view", "workspace:view"]
    assert client.get("/api/v1/audit", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200


def test_access_tokens_are_stored_only_as_checksums(client, server_app):
    binding, secret = server_app
    _client_credentials(client, binding, secret)
    stored = AccessToken.objects.get()
    assert stored.token == "" and len(stored.token_checksum) == 64


def test_the_token_endpoint_also_answers_under_the_workspaces_mautic_base(client, server_app, acme):
    binding, secret = server_app
    assert _client_credentials(client, binding, secret, f"/m/{acme.slug}/oauth/v2/token").status_code == 200


def test_another_workspaces_mautic_base_refuses_the_application(client, server_app, globex):
    binding, secret = server_app
    response = _client_credentials(client, binding, secret, f"/m/{globex.slug}/oauth/v2/token")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert not AccessToken.objects.exists()


def test_a_wrong_client_secret_gets_no_token(client, server_app):
    binding, _ = server_app
    assert _client_credentials(client, binding, "not-the-secret").status_code == 401


def _authorize_url(binding, base=""):
    return (
        f"{base}/oauth/v2/authorize?response_type=code&client_id={binding.application.client_id}"
        f"&redirect_uri={CALLBACK}&state=xyz"
    )


def _sign_in_and_approve(client, binding, base=""):
    consent = client.get(_authorize_url(binding, base))
    assert consent.status_code == 200, consent.content
    form = consent.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data["allow"] = "on"
    approved = client.post(_authorize_url(binding, base), data)
    assert approved.status_code == 302, approved.content
    query = parse_qs(urlparse(approved["Location"]).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def _exchange(client, binding, secret, **data):
    raw = base64.b64encode(f"{binding.application.client_id}:{secret}".encode()).decode()
    return client.post("/oauth/v2/token", data, HTTP_AUTHORIZATION=f"Basic {raw}")


def test_authorization_code_flow_acts_as_the_member_within_the_application_and_role(client, crm_app, dave, acme):
    binding, secret = crm_app
    client.force_login(dave)  # a marketer: contacts:view yes, audit:view no
    code = _sign_in_and_approve(client, binding)
    tokens = _exchange(client, binding, secret, grant_type="authorization_code", code=code, redirect_uri=CALLBACK)
    assert tokens.status_code == 200, tokens.content
    access = tokens.json()["access_token"]
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {access}").json()
    assert me["user"]["email"] == "dave@acme.example"
    assert me["permissions"] == ["contacts:view", "workspace:view"]


def test_refresh_tokens_work_and_rotate(client, crm_app, alice):
    binding, secret = crm_app
    client.force_login(alice)
    code = _sign_in_and_approve(client, binding)
    first = _exchange(client, binding, secret, grant_type="authorization_code", code=code, redirect_uri=CALLBACK).json()
    refreshed = _exchange(client, binding, secret, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert refreshed.status_code == 200, refreshed.content
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {second['access_token']}").status_code == 200
    reused = _exchange(client, binding, secret, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reused.status_code == 400


def test_someone_outside_the_workspace_cannot_authorize_its_application(client, crm_app, bob):
    binding, _ = crm_app
    client.force_login(bob)
    assert client.get(_authorize_url(binding)).status_code == 404
    assert client.get(_authorize_url(binding, "/m/globex")).status_code == 404


def test_signing_in_is_required_before_authorizing(client, crm_app):
    binding, _ = crm_app
    response = client.get(_authorize_url(binding))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_deleting_an_application_revokes_its_tokens(alice_client, client, server_app, acme):
    binding, secret = server_app
    access = _client_credentials(client, binding, secret).json()["access_token"]
    response = alice_client.post(f"/w/{acme.slug}/settings/oauth-apps/{binding.pk}/delete/")
    assert response.status_code == 302
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 401
    assert not AccessToken.objects.exists()


def test_a_member_without_settings_manage_cannot_create_an_oauth_app(acme, dave):
    from django.core.exceptions import PermissionDenied

    from tidings.api.models import OAuthAppBinding

    with pytest.raises(PermissionDenied):
        oauth_app_create(
            workspace=acme,
            name="Side door",
            grant_type=OAuthGrant.CLIENT_CREDENTIALS,
            permissions=["contacts:view"],
            principal=principal_for_user(dave, acme),
        )

    assert not OAuthAppBinding.objects.filter(workspace=acme).exists()
    assert not Application.objects.filter(name="Side door").exists()


def test_a_member_without_settings_manage_cannot_delete_an_oauth_app(acme, dave, server_app):
    from django.core.exceptions import PermissionDenied

    from tidings.api.actions import oauth_app_delete

    binding, _ = server_app
    with pytest.raises(PermissionDenied):
        oauth_app_delete(binding=binding, principal=principal_for_user(dave, acme))

    assert Application.objects.filter(pk=binding.application_id).exists()
