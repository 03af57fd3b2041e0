"""Actors of the API tests: alice (owner of Acme, EU) with a token, a marketer of Acme, and helpers."""

from __future__ import annotations

import base64

import pytest

from tidings.tests.principals import allow_password_basic


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Start every test with empty rate-limit counters (they live in the shared cache)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def alice_token(acme, alice):
    """Return (ApiToken, secret) of a token alice holds in Acme with all her permissions."""
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    return api_token_create(workspace=acme, user=alice, name="CRM sync", principal=principal_for_user(alice, acme))


@pytest.fixture
def bearer():
    def headers(secret: str) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    return headers


@pytest.fixture
def basic(acme):
    """Build Basic headers; Acme allows password Basic, so its members' passwords work."""
    allow_password_basic(acme)

    def headers(username: str, password: str) -> dict:
        raw = base64.b64encode(f"{username}:{password}".encode()).decode()
        return {"HTTP_AUTHORIZATION": f"Basic {raw}"}

    return headers


@pytest.fixture
def dave(acme, make_user):
    """Dave, a marketer of Acme."""
    from tidings.accounts.actions import membership_create
    from tidings.tests.principals import system

    user = make_user("dave@acme.example", first_name="Dave", last_name="Example")
    membership_create(workspace=acme, user=user, role="marketer", principal=system(acme))
    return user


@pytest.fixture
def dave_client(dave):
    """Dave signed in, in a browser of his own (alice_client uses the default client)."""
    from django.test import Client

    browser = Client()
    browser.force_login(dave)
    return browser
