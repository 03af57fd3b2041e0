"""Password Basic auth on the Mautic-compatible API: a pause is a 429 in Mautic's shape with Retry-After."""

from __future__ import annotations

import base64

import pytest

from tidings.accounts.tests.helpers import frozen_clock


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hash with MD5 here: Argon2's deliberate slowness, times dozens of sign-ins, tests nothing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def password_basic_allowed(acme):
    from tidings.tests.principals import allow_password_basic

    allow_password_basic(acme)  # off by default; these tests are about passwords over Basic


@pytest.fixture
def clock():
    with frozen_clock() as frozen:
        yield frozen


def _basic(password: str) -> dict:
    raw = base64.b64encode(f"alice@acme.example:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {raw}"}


@pytest.mark.parametrize("base", ["/api", "/m/acme/api"])
def test_a_paused_basic_sign_in_answers_429_with_retry_after_in_mautics_shape(client, alice, clock, base):
    for _ in range(4):
        assert client.get(f"{base}/users/self", **_basic("wrong horse")).status_code == 401
    response = client.get(f"{base}/users/self", **_basic("wrong horse"))
    assert response.status_code == 429
    assert response["Retry-After"] == "15"
    assert response["Mautic-Version"] == "5.1.0"
    assert response.json() == {
        "errors": [
            {"code": 429, "message": "too many failed sign-ins; try again in 15 seconds.", "details": [], "type": None}
        ]
    }


def test_the_right_password_during_a_pause_gets_the_time_left(client, alice, clock):
    for _ in range(5):
        client.get("/api/users/self", **_basic("wrong horse"))
    clock.tick(10)
    response = client.get("/api/users/self", **_basic("correct horse battery staple"))
    assert response.status_code == 429
    assert response["Retry-After"] == "5"


def test_basic_auth_works_again_once_the_pause_is_over(client, alice, clock):
    for _ in range(5):
        client.get("/api/users/self", **_basic("wrong horse"))
    clock.tick(16)
    assert client.get("/api/users/self", **_basic("correct horse battery staple")).status_code == 200
