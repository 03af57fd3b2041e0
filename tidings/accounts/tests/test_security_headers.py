"""Every page carries the browser protections; the session and CSRF cookies are locked down."""

from __future__ import annotations

import pytest


@pytest.fixture
def page(client, db):
    return client.get("/accounts/login/")


def test_content_security_policy_allows_no_inline_code(page):
    policy = page["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_pages_cannot_be_framed(page):
    assert page["X-Frame-Options"] == "DENY"


def test_content_types_are_not_sniffed(page):
    assert page["X-Content-Type-Options"] == "nosniff"


def test_referrer_policy_keeps_paths_on_this_site(page):
    assert page["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_powerful_features_are_switched_off(page):
    policy = page["Permissions-Policy"]
    assert "camera=()" in policy and "microphone=()" in policy and "geolocation=()" in policy


def test_cross_origin_opener_policy_isolates_the_window(page):
    assert page["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_csrf_cookie_is_same_site_lax(page):
    cookie = page.cookies["csrftoken"]
    assert cookie["samesite"] == "Lax"


def test_the_session_cookie_is_http_only_and_same_site_lax(client, alice):
    response = client.post(
        "/accounts/login/", {"username": "alice@acme.example", "password": "correct horse battery staple"}
    )
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_workspace_pages_carry_the_same_headers(alice_client, acme):
    response = alice_client.get("/w/acme/")
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_a_post_without_the_csrf_token_is_refused(alice, acme):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/w/acme/settings/workspace/", {"name": "Hijacked", "require_two_factor": "on"})
    assert response.status_code == 403
    acme.refresh_from_db()
    assert acme.name == "Acme"
