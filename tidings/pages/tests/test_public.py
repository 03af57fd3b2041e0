"""The public path: landing pages at /m/<ws>/p/<slug>, with their meta, tokens, tracker, redirects and 404s."""

from __future__ import annotations

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.pages import actions
from tidings.tests.principals import system


def test_a_published_page_is_served_with_its_meta(client, spring):
    response = client.get("/m/acme/p/spring")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Spring sale</h1>" in body and '<meta name="description" content="Acme&#x27;s spring sale">' in body
    assert '<meta property="og:title" content="Spring sale">' in body
    assert "noindex" not in body and "<script" not in body  # no site covers the host: no tracker


def test_seo_meta_noindex_canonical_and_og_title(client, spring):
    actions.page_update(spring.pk, principal=system(), noindex=True, canonical_url="https://acme.example/spring",
                        og_title="Spring at Acme")  # fmt: skip
    body = client.get("/m/acme/p/spring").content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in body
    assert '<link rel="canonical" href="https://acme.example/spring">' in body
    assert '<meta property="og:title" content="Spring at Acme">' in body


def test_the_strict_csp_stays_and_allows_images_from_https_hosts(client, spring):
    policy = client.get("/m/acme/p/spring")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "https:" in policy
    assert "unsafe-inline" not in policy


@pytest.mark.parametrize("path", ["/m/acme/p/unknown", "/m/nowhere/p/spring", "/m/globex/p/spring", "/m/acme/p/"])
def test_unknown_pages_workspaces_and_other_workspaces_are_not_found(client, spring, globex, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Spring" not in response.content.decode()


def test_an_unpublished_page_is_not_found(client, spring):
    actions.page_update(spring.pk, principal=system(), is_published=False)
    response = client.get("/m/acme/p/spring")
    assert response.status_code == 404 and "Everything must go" not in response.content.decode()


@pytest.mark.parametrize(("kind", "status"), [("301", 301), ("302", 302)])
def test_an_unpublished_page_with_a_redirect_redirects(client, spring, kind, status):
    actions.page_update(spring.pk, principal=system(), is_published=False, redirect_type=kind,
                        redirect_url="https://acme.example/summer")  # fmt: skip
    response = client.get("/m/acme/p/spring")
    assert response.status_code == status and response["Location"] == "https://acme.example/summer"


def test_a_page_of_another_workspace_with_the_same_slug_is_its_own(client, spring, globex):
    from tidings.tenancy.context import use_workspace

    with use_workspace(globex):
        actions.page_create(principal=system(globex), title="Globex page", slug="spring", is_published=True,
                            content="<p>Globex content</p>")  # fmt: skip
    assert "Globex content" in client.get("/m/globex/p/spring").content.decode()
    assert "Globex content" not in client.get("/m/acme/p/spring").content.decode()


def test_a_site_covering_the_host_puts_its_tracker_on_the_page(client, spring):
    from tidings.tracking import actions as tracking

    site = tracking.site_create(name="Pages", domains=["testserver"], principal=system())
    body = client.get("/m/acme/p/spring").content.decode()
    assert f'data-site="{site.public_key}"' in body and 'src="/t.js?v=' in body


def test_a_site_of_another_host_does_not(client, spring):
    from tidings.tracking import actions as tracking

    tracking.site_create(name="Shop", domains=["shop.example"], principal=system())
    assert "/t.js" not in client.get("/m/acme/p/spring").content.decode()


@override_settings(TIDINGS_BASE_URL="https://go.tidings.example")
def test_page_links_point_at_published_pages_and_unknown_ones_at_nothing(client, spring):
    page = actions.page_create(principal=system(), title="Index", slug="index-page", is_published=True,
                               content=f'<a href="{{pagelink={spring.pk}}}">spring</a> <a href="{{pagelink=999999}}">x'
                               "</a> {form=999999}")  # fmt: skip
    body = client.get("/m/acme/p/index-page").content.decode()
    assert 'href="https://go.tidings.example/m/acme/p/spring"' in body
    assert 'href="#"' in body and "{form=" not in body and "{pagelink" not in body
    assert page.pk


def test_an_embedded_form_is_rendered_by_the_forms_app(client, in_acme):
    form_selectors = pytest.importorskip("tidings.forms.selectors")
    from unittest import mock

    from django.utils.safestring import mark_safe

    actions.page_create(principal=system(), title="Signup", slug="signup", is_published=True, content="<p>{form=5}</p>")
    with mock.patch.object(form_selectors, "form_embed_html", lambda pk, **kw: mark_safe(f"<form>form {pk}</form>")):  # noqa: S308
        assert "<form>form 5</form>" in client.get("/m/acme/p/signup").content.decode()


def test_the_public_path_is_rate_limited_per_address(client, spring, settings):
    settings.TIDINGS_API_RATE_LIMIT = 3
    statuses = [client.get("/m/acme/p/spring").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slug=st.text(max_size=80))
def test_any_slug_answers_without_a_server_error(client, spring, slug):
    from django.core.cache import cache

    cache.clear()
    response = client.get("/m/acme/p/" + slug.replace("/", "").replace("?", "").replace("#", ""))
    assert response.status_code < 500
