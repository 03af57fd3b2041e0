"""Rendering: a version is prepared once (links numbered once), personalised per contact, never raising."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.emails.render import number_links
from tidings.emails.tests.conftest import make_email


@pytest.fixture
def version(in_acme):
    from tidings.emails.models import EmailVersion

    mail = make_email(
        html='<html><body class="x"><a href="https://acme.example/a?b=1&amp;c=2">A</a>'
        "<a href='https://acme.example/b'>B</a><a href=\"https://acme.example/a?b=1&amp;c=2\">A again</a>"
        '<a href="mailto:help@acme.example">mail</a><a href="https://acme.example/?e={contactfield=email}">mine</a>'
        "<p>{contactfield=firstname|there} {ownerfield=firstname} {today} {signature} {subject}</p></body></html>",
        preheader="Spring <is> here",
    )
    frozen = EmailVersion.objects.get(email_id=mail.pk)
    number_links(frozen)  # as freezing a version does
    return frozen


def test_links_are_numbered_once_per_version(version):
    from tidings.emails.models import EmailLink
    from tidings.emails.render import number_links, prepare

    number_links(version)
    first = prepare(version)
    again = prepare(version)
    assert first.links == again.links
    assert sorted(first.links.values()) == ["https://acme.example/a?b=1&c=2", "https://acme.example/b"]
    assert EmailLink.objects.filter(email_id=version.email_id).count() == 2


def test_prepare_only_reads_a_link_without_its_row_stays_as_written(in_acme):
    from tidings.emails import links
    from tidings.emails.models import EmailLink, EmailVersion
    from tidings.emails.render import personalise, prepare

    mail = make_email(html='<a href="https://acme.example/old">Old</a>', text="See https://acme.example/old")
    version = EmailVersion.objects.get(email_id=mail.pk)  # frozen before links were numbered at freeze time
    prepared = prepare(version)
    assert not EmailLink.objects.filter(email_id=mail.pk).exists()
    out = personalise(prepared, values={}, owner={}, token=links.message_token(1, 2, 3), workspace_slug="acme")
    assert 'href="https://acme.example/old"' in out.html and "See https://acme.example/old" in out.text


def test_the_text_parts_urls_are_tracked_with_the_same_links_and_token(in_acme):
    from tidings.emails import links
    from tidings.emails.models import EmailVersion
    from tidings.emails.render import number_links, personalise, prepare

    mail = make_email(
        html='<a href="https://acme.example/spring">Spring</a>',
        text="Read https://acme.example/spring. Or (https://acme.example/summer?a=1&b=2), mailto:x@acme.example\n"
        "Unsubscribe: {unsubscribe_url} {webview_url}\nhttps://acme.example/?e={contactfield=email}",
    )
    version = EmailVersion.objects.get(email_id=mail.pk)
    numbered = number_links(version)
    assert set(numbered) == {"https://acme.example/spring", "https://acme.example/summer?a=1&b=2"}
    token = links.message_token(version.workspace_id, 9, 7)
    out = personalise(prepare(version), values={"email": "ada@analytical.example"}, owner={}, token=token,
                      workspace_slug="acme")  # fmt: skip
    spring = links.click_url("acme", token, numbered["https://acme.example/spring"])
    summer = links.click_url("acme", token, numbered["https://acme.example/summer?a=1&b=2"])
    assert f"Read {spring}. Or ({summer})," in out.text
    assert f'href="{spring}"' in out.html  # the HTML part's link is the same row
    unsubscribe = links.unsubscribe_url("acme", token)
    assert f"Unsubscribe: {unsubscribe} {links.webview_url('acme', token)}" in out.text  # never rewritten
    assert out.text.count(unsubscribe) == 1
    assert "https://acme.example/?e=ada@analytical.example" in out.text  # a URL holding a token is not tracked
    preview = personalise(prepare(version), values={}, owner={}, token=None, workspace_slug="acme")
    assert "Read https://acme.example/spring. Or (https://acme.example/summer?a=1&b=2)," in preview.text


def test_a_message_tracks_links_escapes_values_and_hides_the_preheader(version):
    from tidings.emails import links
    from tidings.emails.render import personalise, prepare

    prepared = prepare(version)
    token = links.message_token(version.workspace_id, 9, 7)
    out = personalise(prepared, values={"firstname": "<Ada>", "email": "ada@analytical.example"},
                      owner={"firstname": "Olive", "signature": "Olive Owner"}, token=token,
                      workspace_slug="acme")  # fmt: skip
    link_a = {url: pk for pk, url in prepared.links.items()}["https://acme.example/a?b=1&c=2"]
    assert out.html.count(links.click_url("acme", token, link_a)) == 2
    assert "mailto:help@acme.example" in out.html  # not an http link: left alone
    assert "https://acme.example/?e=ada@analytical.example" in out.html  # a link with a token: not tracked
    assert "&lt;Ada&gt; Olive" in out.html and "Olive Owner" in out.html
    assert out.html.index("Spring &lt;is&gt; here") < out.html.index("<a ")  # after <body>, before the content
    assert "display:none" in out.html
    assert out.html.index(links.open_pixel_url("acme", token)) < out.html.index("</body>")
    assert out.subject == "Hello <Ada>"
    assert len(out.tokens_hash) == 32


def test_a_preview_rewrites_nothing(version):
    from tidings.emails.render import personalise, prepare

    out = personalise(prepare(version), values={}, owner={}, token=None, workspace_slug="acme")
    assert 'href="https://acme.example/a?b=1&amp;c=2"' in out.html
    assert "/e/o/" not in out.html and "/e/c/" not in out.html
    assert "there" in out.html


def test_a_subject_never_gets_a_line_break(in_acme):
    from tidings.emails.models import EmailVersion
    from tidings.emails.render import personalise, prepare

    mail = make_email(subject="Hi {contactfield=firstname}")
    prepared = prepare(EmailVersion.objects.get(email_id=mail.pk))
    out = personalise(prepared, values={"firstname": "Ada\r\nBcc: x@evil.invalid"}, owner={}, token="t",
                      workspace_slug="acme")  # fmt: skip
    assert "\n" not in out.subject and "\r" not in out.subject


SOUP = st.lists(
    st.sampled_from(["{", "}", "|", "=", "<body>", "</body>", "<a href=\"https://x.example/", "\">", "'", "\x00",
                     "{contactfield=firstname|", "{contactfield=born|date}", "{ownerfield=email}", "{tracking_pixel}",
                     "{unsubscribe_url}", "{today}", "{subject}", "{signature}", "{preference_url}", "é", "\r\n"])
    | st.text(max_size=8),
    max_size=30,
).map("".join)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(html=SOUP, subject=SOUP, value=st.text(max_size=20))
def test_any_token_soup_renders_without_raising(in_acme, html, subject, value):
    from tidings.emails.models import EmailVersion
    from tidings.emails.render import personalise, prepare

    version = EmailVersion(workspace_id=in_acme.id, email_id=1, number=1, html=html, subject=subject, text=html)
    prepared = prepare(version)
    for token in (None, "t0k3n"):
        out = personalise(prepared, values={"firstname": value, "born": value}, owner={"email": value}, token=token,
                          workspace_slug="acme", preference_url="https://acme.example/p")  # fmt: skip
        assert isinstance(out.html, str) and "\x00" not in out.html
