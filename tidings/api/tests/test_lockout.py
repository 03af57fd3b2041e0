"""Password Basic auth on the native API: growing pauses answered 429 with Retry-After, reset on success."""

from __future__ import annotations

import pytest

from tidings.accounts.tests.helpers import frozen_clock

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hash with MD5 here: Argon2's deliberate slowness, times dozens of sign-ins, tests nothing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clock():
    with frozen_clock() as frozen:
        yield frozen


def _me(client, headers):
    return client.get("/api/v1/me", **headers)


def test_a_paused_basic_sign_in_answers_429_with_retry_after_in_the_native_error_shape(client, basic, alice, clock):
    for _ in range(4):
        _me(client, basic("alice@acme.example", "wrong horse"))
    response = _me(client, basic("alice@acme.example", "wrong horse"))
    assert response.status_code == 429
    assert response["Retry-After"] == "15"
    assert response.json() == {
        "error": {
            "code": "locked_out",
            "message": "too many failed sign-ins; try again in 15 seconds",
            "details": {"retry_after": 15},
        }
    }


def test_the_right_password_during_a_pause_gets_429_with_the_time_left(client, basic, alice, clock):
    for _ in range(5):
        _me(client, basic("alice@acme.example", "wrong horse"))
    clock.tick(9)
    response = _me(client, basic("alice@acme.example", PASSWORD))
    assert response.status_code == 429
    assert response["Retry-After"] == "6"


def test_basic_auth_works_again_once_the_pause_is_over(client, basic, alice, clock):
    for _ in range(5):
        _me(client, basic("alice@acme.example", "wrong horse"))
    clock.tick(16)
    assert _me(client, basic("alice@acme.example", PASSWORD)).status_code == 200


def test_the_next_failure_after_a_pause_doubles_it(client, basic, alice, clock):
    for _ in range(5):
        _me(client, basic("alice@acme.example", "wrong horse"))
    clock.tick(16)
    response = _me(client, basic("alice@acme.example", "wrong horse"))
    assert response.status_code == 429
    assert response["Retry-After"] == "30"


def test_a_right_password_over_basic_auth_forgets_earlier_failures(client, basic, alice, clock):
    for _ in range(4):
        _me(client, basic("alice@acme.example", "wrong horse"))
    assert _me(client, basic("alice@acme.example", PASSWORD)).status_code == 200
    statuses = [_me(client, basic("alice@acme.example", "wrong horse")).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 401]


def test_a_pause_over_the_api_is_audited_as_such(client, basic, alice, clock):
    from tidings.audit.models import SYSTEM_CHAIN, AuditEntry

    for _ in range(5):
        _me(client, basic("alice@acme.example", "wrong horse"))
    entry = AuditEntry.objects.using("default").get(workspace_id=SYSTEM_CHAIN, action="user.sign_in_paused")
    assert entry.target_id == str(alice.pk)
    assert entry.data["surface"] == "api"
