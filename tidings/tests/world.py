"""Two workspaces and their owners, and ways for bob (Globex) to knock on Acme's doors."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from django.test import Client


@dataclass(frozen=True)
class Probe:
    """One request bob makes at Acme's data. actor picks the credentials:

    "bob_session"  bob signed in to the UI;
    "bob_token"    Authorization: Bearer <bob's native API token for Globex>;
    "bob_basic"    HTTP Basic with bob's email and password (Mautic clients);
    "bob_oauth"    Authorization: Bearer <OAuth2 access token of a Globex client-credentials app>.
    """

    method: str
    path: str
    actor: str = "bob_session"
    data: dict | None = None


@dataclass
class World:
    acme: Any
    globex: Any
    alice: Any
    bob: Any
    bob_password: str = "correct horse battery staple"
    objects: dict = field(default_factory=dict)
    credentials: dict = field(default_factory=dict)

    def client_for(self, actor: str) -> tuple[Client, dict]:
        client = Client()
        headers: dict = {}
        if actor == "bob_session":
            client.force_login(self.bob)
        elif actor == "bob_token":
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.credentials['bob_token']}"
        elif actor == "bob_oauth":
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.credentials['bob_oauth']}"
        elif actor == "bob_basic":
            raw = f"{self.bob.email}:{self.bob_password}".encode()
            headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(raw).decode()
        else:
            raise ValueError(f"unknown actor {actor}")
        return client, headers

    def send(self, probe: Probe):
        client, headers = self.client_for(probe.actor)
        method = getattr(client, probe.method.lower())
        if probe.method.upper() in {"GET", "DELETE", "HEAD"}:
            return method(probe.path, probe.data or {}, **headers)
        return method(probe.path, json.dumps(probe.data or {}), content_type="application/json", **headers)


def build_world(*, acme, globex, alice, bob) -> World:
    world = World(acme=acme, globex=globex, alice=alice, bob=bob)
    _allow_password_basic(globex, bob)  # the "bob_basic" probes sign in with bob's password
    try:
        from tidings.api.actions import api_token_create
    except ImportError:  # the API app has not landed its tokens yet
        return world
    _, secret = api_token_create(workspace=globex, user=bob, name="probe", permissions=None, actor=bob)
    world.credentials["bob_token"] = secret
    world.credentials["bob_oauth"] = _globex_oauth_token(globex, bob)
    return world


def _allow_password_basic(workspace, owner) -> None:
    from tidings.accounts.actions import workspace_settings_update
    from tidings.accounts.selectors import principal_for_user

    workspace_settings_update(
        workspace=workspace,
        name=workspace.name,
        require_two_factor=workspace.require_two_factor,
        allow_password_basic=True,
        principal=principal_for_user(owner, workspace),
    )


def _globex_oauth_token(globex, bob) -> str:
    """Return an access token of a Globex client-credentials app, issued by the real token endpoint."""
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import OAuthGrant, oauth_app_create

    binding, secret = oauth_app_create(
        workspace=globex,
        name="Globex probe",
        grant_type=OAuthGrant.CLIENT_CREDENTIALS,
        permissions=["workspace:view"],
        principal=principal_for_user(bob, globex),
    )
    issued = Client().post(
        "/oauth/v2/token",
        {"grant_type": "client_credentials", "client_id": binding.application.client_id, "client_secret": secret},
    )
    return issued.json()["access_token"]
