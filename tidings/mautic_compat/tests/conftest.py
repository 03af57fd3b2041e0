import base64

import pytest


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def allow_password_basic(workspace) -> None:
    """Let workspace's members use their password over HTTP Basic (off by default)."""
    from tidings.accounts.actions import workspace_settings_update
    from tidings.accounts.permissions import system_principal

    workspace_settings_update(
        workspace=workspace,
        name=workspace.name,
        require_two_factor=workspace.require_two_factor,
        allow_password_basic=True,
        principal=system_principal(workspace, reason="test"),
    )


@pytest.fixture
def alice_basic(alice, acme):
    """alice's email and password over Basic; Acme allows password Basic."""
    allow_password_basic(acme)
    raw = base64.b64encode(b"alice@acme.example:correct horse battery staple").decode()
    return {"HTTP_AUTHORIZATION": f"Basic {raw}"}


@pytest.fixture
def alice_bearer(acme, alice):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    _, secret = api_token_create(
        workspace=acme, user=alice, name="Mautic plugin", principal=principal_for_user(alice, acme)
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
