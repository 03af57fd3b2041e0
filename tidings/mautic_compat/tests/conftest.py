import base64

import pytest

from tidings.tests.principals import allow_password_basic


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


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
