"""The public-key door (tidings.web.entry): a site key names the workspace, the page's origin must be the site's."""

from __future__ import annotations

import json

import pytest
from django.http import JsonResponse
from django.test import RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.accounts.decorators import require_permission
from tidings.accounts.permissions import Via
from tidings.web.entry import (
    LeanRequest,
    Refusal,
    cors_origin,
    host_allowed,
    public_key_entry,
    public_key_principal,
)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@public_key_entry
@require_permission("tracking:record")
def hit(request):
    """A stand-in for a collect view: says which site and workspace it runs in."""
    from tidings.tenancy.context import require_workspace

    site = request.principal.extra["site"]
    return JsonResponse({"site": site.pk, "workspace": require_workspace().id})


def _get(key: str, **headers):
    return RequestFactory().get("/t/p.gif", {"k": key} if key else {}, **headers)


def test_a_known_key_from_an_allowed_page_runs_the_view_in_the_sites_workspace(site, acme):
    response = hit(_get(site.public_key, HTTP_ORIGIN="https://shop.example"))
    assert response.status_code == 200
    assert json.loads(response.content) == {"site": site.pk, "workspace": acme.id}
    assert "X-RateLimit-Limit" in response


def test_the_principal_is_the_sites_narrow_one(site):
    principal = public_key_principal(_get(site.public_key, HTTP_REFERER="https://www.blog.example/post"))
    assert principal.via == Via.PUBLIC_KEY and principal.user is None and principal.credential_id == site.pk
    assert principal.permissions == {"tracking:record", "consent:record"}
    assert not principal.can("contacts:view")


REFUSED_HEADERS = [
    {},
    {"HTTP_ORIGIN": "https://evil.example"},
    {"HTTP_ORIGIN": "https://shop.example.evil.example"},
    {"HTTP_REFERER": "https://notshop.example/"},
    {"HTTP_ORIGIN": "null"},
]


@pytest.mark.parametrize("headers", REFUSED_HEADERS)
def test_a_page_not_on_the_sites_domains_is_refused(site, headers):
    response = hit(_get(site.public_key, **headers))
    assert response.status_code == 403
    assert json.loads(response.content) == {"ok": 0, "error": "This page is not on one of the site's domains."}


def test_an_unknown_or_missing_key_is_403_without_echoing_it(site):
    for key in ("eu_not-a-real-key-000000000000", "", "zz_" + "x" * 80):
        response = hit(_get(key, HTTP_ORIGIN="https://shop.example"))
        assert response.status_code == 403
        assert not key or key not in response.content.decode()


def test_an_inactive_site_key_is_refused(site):
    from tidings.tests.principals import system
    from tidings.tracking import actions

    actions.site_update(site.pk, active=False, principal=system())
    assert hit(_get(site.public_key, HTTP_ORIGIN="https://shop.example")).status_code == 403


def test_a_rotated_key_stops_working_at_once(site):
    from tidings.tests.principals import system
    from tidings.tracking import actions

    old = site.public_key
    actions.site_rotate_key(site.pk, principal=system())
    assert hit(_get(old, HTTP_ORIGIN="https://shop.example")).status_code == 403


def test_a_lean_request_goes_through_the_same_door(site):
    request = LeanRequest(method="POST", headers={"origin": "https://shop.example", "User-Agent": "test"},
                          client_ip="203.0.113.5", site_key=site.public_key)  # fmt: skip
    principal = public_key_principal(request)
    assert principal.extra["site"].pk == site.pk
    refused = LeanRequest(method="POST", headers={"Origin": "https://evil.example"}, site_key=site.public_key)
    with pytest.raises(Refusal) as caught:
        public_key_principal(refused)
    assert caught.value.status == 403 and caught.value.reason == "origin_refused"
    with pytest.raises(Refusal) as unknown:
        public_key_principal(LeanRequest(method="GET", headers={}, GET={"k": "eu_unknown"}))
    assert unknown.value.reason == "bad_credentials"


def test_cors_echoes_only_an_allowed_origin(site):
    assert cors_origin(LeanRequest("POST", {"Origin": "https://a.blog.example"}), site) == "https://a.blog.example"
    assert cors_origin(LeanRequest("POST", {"Origin": "https://evil.example"}), site) is None
    assert cors_origin(LeanRequest("POST", {}), site) is None


@pytest.mark.parametrize("host, domains, allowed", [
    ("shop.example", ["shop.example"], True), ("SHOP.example.", ["shop.example"], True),
    ("www.shop.example", ["shop.example"], False), ("www.shop.example", [".shop.example"], True),
    ("shop.example", [".shop.example"], True), ("evilshop.example", [".shop.example"], False),
    ("", ["shop.example"], False), ("shop.example", [], False),
])  # fmt: skip
def test_hosts_match_domains_exactly_or_as_subdomains(host, domains, allowed):
    assert host_allowed(host, domains) is allowed


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.text(max_size=80), origin=st.text(max_size=80), referer=st.text(max_size=80))
def test_no_key_or_header_gives_an_exception_or_echoes_a_value(site, key, origin, referer):
    request = LeanRequest(method="GET", headers={"Origin": origin, "Referer": referer}, GET={"k": key})
    try:
        public_key_principal(request)
    except Refusal as refusal:
        assert refusal.status in (401, 403)
        for value in (key, origin, referer):
            if len(value) >= 4:
                assert value not in refusal.message
