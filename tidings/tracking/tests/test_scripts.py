"""The tracker scripts' views: content, caching by version, cross-origin headers, no cookies."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.tracking import scripts

TRACKER = "/t.js"
MAUTIC = "/m/acme/mtc.js"


@pytest.fixture
def anonymous(client):
    """A browser on a customer's site: no session, no credential."""
    return client


@pytest.mark.parametrize(("path", "name"), [(TRACKER, "t.js"), (MAUTIC, "mtc.js")])
def test_the_script_is_the_static_file_as_javascript(anonymous, path, name):
    response = anonymous.get(path)
    assert response.status_code == 200
    assert response.content == (scripts.STATIC / name).read_bytes()
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", [TRACKER, MAUTIC])
def test_other_sites_may_load_it(anonymous, path):
    """The house default is same-origin; a tracker must load on customers' sites (and with SRI)."""
    response = anonymous.get(path, HTTP_ORIGIN="https://shop.example")
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize("path", [TRACKER, MAUTIC])
def test_serving_the_script_sets_no_cookie_and_does_not_vary_on_one(anonymous, path):
    response = anonymous.get(path)
    assert not response.cookies
    assert "cookie" not in response.get("Vary", "").lower()


def test_the_bare_url_is_cached_briefly_and_the_versioned_one_for_a_year(anonymous):
    version = scripts.tracker().version
    assert anonymous.get(TRACKER)["Cache-Control"] == f"public, max-age={scripts.SHORT_MAX_AGE}"
    assert anonymous.get(f"{TRACKER}?v={version}")["Cache-Control"] == "public, max-age=31536000, immutable"


def test_an_old_version_gets_the_current_file_cached_briefly(anonymous):
    """A page still naming last month's hash must not pin the new content for a year under the old URL."""
    response = anonymous.get(f"{TRACKER}?v=0123456789abcdef")
    assert response.content == scripts.tracker().body
    assert response["Cache-Control"] == f"public, max-age={scripts.SHORT_MAX_AGE}"


def test_the_version_is_the_hash_of_the_content():
    body = (scripts.STATIC / "t.js").read_bytes()
    assert scripts.tracker().version == hashlib.sha256(body).hexdigest()[:16]
    assert (
        scripts.tracker_url("https://tidings.example/") == f"https://tidings.example/t.js?v={scripts.tracker().version}"
    )


@pytest.mark.parametrize("path", [TRACKER, MAUTIC])
def test_a_cached_copy_is_revalidated_with_its_etag(anonymous, path):
    first = anonymous.get(path)
    again = anonymous.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert anonymous.get(path, HTTP_IF_NONE_MATCH='"stale"').status_code == 200


@pytest.mark.parametrize(("path", "name"), [(TRACKER, "t.js"), (MAUTIC, "mtc.js")])
def test_a_browser_that_accepts_gzip_gets_it_compressed(anonymous, path, name):
    import gzip

    response = anonymous.get(path, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content) == (scripts.STATIC / name).read_bytes()
    assert len(response.content) < len((scripts.STATIC / name).read_bytes()) / 2
    assert "Accept-Encoding" in response["Vary"]
    assert "Content-Encoding" not in anonymous.get(path)


def test_head_answers_like_get(anonymous):
    response = anonymous.head(TRACKER)
    assert response.status_code == 200
    assert response["ETag"] == scripts.tracker().etag


@pytest.mark.parametrize("path", [TRACKER, MAUTIC])
def test_only_safe_methods(anonymous, path):
    assert anonymous.post(path, "x", content_type="text/plain").status_code == 405


def test_mtc_js_is_the_same_for_any_slug_even_unknown(anonymous, acme):
    """The slug is not looked up: answering differently would let anyone probe which workspaces exist."""
    known = anonymous.get(f"/m/{acme.slug}/mtc.js")
    unknown = anonymous.get("/m/no-such-workspace/mtc.js")
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content


def test_the_routes_are_public():
    from django.urls import resolve

    from tidings.accounts.permissions import Access, declared_access

    assert declared_access(resolve(TRACKER).func) == Access(public=True)
    assert declared_access(resolve(MAUTIC).func) == Access(public=True)


@pytest.mark.parametrize("name", ["t.js", "mtc.js"])
def test_the_scripts_stay_small_and_csp_friendly(name):
    """A few KB, readable, no eval or string-built code (a site's CSP need not allow unsafe-eval)."""
    source = (scripts.STATIC / name).read_text()
    assert len(source.encode()) < 12_000
    assert source.startswith("/*")  # the header comment says what it is
    assert not re.search(r"\beval\(|new Function\(|setTimeout\(['\"]|document\.write", source)
    assert "Math.random" not in source  # ids come from crypto.getRandomValues


@settings(max_examples=40, deadline=None)
@given(version=st.text(max_size=80), extra=st.text(max_size=40))
def test_no_query_string_gives_a_server_error(version, extra):
    from django.test import Client

    client = Client()
    response = client.get(TRACKER, {"v": version, "x": extra})
    assert response.status_code == 200
    response = client.get(MAUTIC, {"v": version}, HTTP_IF_NONE_MATCH=extra.replace("\n", " "))
    assert response.status_code in {200, 304}
