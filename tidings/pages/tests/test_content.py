"""A page's content: sanitised on save (no script, handler, style or javascript: URL), slugs, Mautic tokens."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings.html_sanitise import clean_html
from tidings.pages import content

# Runs on SQLite only (bin/test): nothing here reaches the database engine; conftest.py checks that.
pytestmark = pytest.mark.engine_independent


@pytest.mark.parametrize(
    "dirty",
    [
        "<script>alert(1)</script>",
        '<img src="x.png" onerror="alert(1)">',
        '<a href="javascript:alert(1)">click</a>',
        '<a href="JaVaScRiPt:alert(1)">click</a>',
        "<style>body{display:none}</style>",
        '<p style="background:url(javascript:alert(1))">styled</p>',
        '<iframe src="https://evil.example/"></iframe>',
        "<svg><script>alert(1)</script></svg>",
        '<form action="https://evil.example/"><input name="x"></form>',
        '<object data="x.swf"></object>',
        '<div onclick="alert(1)">x</div>',
    ],
)
def test_scripts_handlers_styles_and_javascript_urls_are_removed(dirty):
    cleaned = content.clean_content(dirty).lower()
    for forbidden in ("<script", "onerror", "onclick", "javascript:", "<style", "style=", "<iframe", "<form",
                      "<object", "alert(1)</"):  # fmt: skip
        assert forbidden not in cleaned


def test_marketing_markup_and_tokens_survive():
    html = ('<section class="hero"><h1 id="top">Spring sale</h1><p>Join us. {form=3}</p>'
            '<a href="{pagelink=5}">More</a><img src="https://cdn.acme.example/a.png" alt="A"></section>')  # fmt: skip
    cleaned = content.clean_content(html)
    assert '<section class="hero"><h1 id="top">Spring sale</h1>' in cleaned
    assert "{form=3}" in cleaned and 'href="{pagelink=5}"' in cleaned
    assert 'rel="noopener noreferrer"' in cleaned and 'alt="A"' in cleaned


@given(st.text(max_size=300))
def test_no_input_leaves_a_script_or_an_event_handler(text):
    cleaned = clean_html(text + "<script>x</script><b onmouseover=y>z</b>").lower()
    assert "<script" not in cleaned and "onmouseover" not in cleaned


@pytest.mark.parametrize(
    ("slug", "ok"),
    [("spring-sale", True), ("a", True), ("sale_2026", True), ("Spring", False), ("-sale", False), ("sale-", False),
     ("sa le", False), ("", False), ("x" * 192, False), ("preferences", False), ("p", False), ("api", False),
     ("caf\u00e9", False)],
)  # fmt: skip
def test_slugs_are_lowercase_words_and_never_a_reserved_word(slug, ok):
    assert (content.slug_problem(slug) is None) is ok


def test_a_slug_is_made_from_the_title():
    assert content.slug_from_title("Spring Sale 2026!") == "spring-sale-2026"
    assert content.slug_from_title("!!!") == "untitled"
    assert content.slug_from_title("API") == "api-page"


def test_tokens_render_forms_and_links_and_unknown_ones_render_as_nothing():
    body = content.render(
        '<p>{form=1}{form=2}<a href="{pagelink=7}">a</a><a href="{pagelink=8}">b</a></p>',
        form_html=lambda pk: "<form>one</form>" if pk == 1 else None,
        page_url=lambda pk: "https://t.example/m/acme/p/next?a=1&b=2" if pk == 7 else None,
    )
    assert body == ('<p><form>one</form><a href="https://t.example/m/acme/p/next?a=1&amp;b=2">a</a>'
                    '<a href="#">b</a></p>')  # fmt: skip


def test_tokens_are_listed_once_in_order():
    assert content.tokens("{form=2} {pagelink=1} {form=2} {form=x}") == [("form", 2), ("pagelink", 1)]
