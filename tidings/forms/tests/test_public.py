"""The public form door over HTTP: Mautic's mauticform[...] posts, ?ajax=1, return redirects, the standalone page,
generate.js, CORS, rate limits and the double opt-in link."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tidings.mautic_compat.public_forms import parse_posted

SUBMIT = "/m/acme/form/submit"


def _body(**answers):
    return {f"mauticform[{alias}]": value for alias, value in answers.items()}


@pytest.fixture
def shop_site(site):
    return site


def test_a_mautic_style_post_creates_the_contact_and_redirects_to_return(client, newsletter, shop_site):
    from tidings.contacts.selectors import contact_by_unique_identifier
    from tidings.tenancy.context import use_workspace

    body = _body(email="charles@engine.example", firstname="Charles", formId=str(newsletter.pk),
                 formName="newsletter", **{"return": "https://shop.example/thanks"})  # fmt: skip
    response = client.post(f"{SUBMIT}?formId={newsletter.pk}", body)
    assert response.status_code == 302
    assert response["Location"].startswith("https://shop.example/thanks?mauticMessage=")
    with use_workspace(newsletter_workspace(newsletter)):
        assert contact_by_unique_identifier("email", "charles@engine.example").fields["firstname"] == "Charles"


def newsletter_workspace(form):
    from tidings.tenancy.selectors import workspace_by_id

    return workspace_by_id(form.workspace_id)


def test_ajax_answers_json_with_field_errors_and_never_the_value(client, newsletter):
    response = client.post(f"{SUBMIT}?formId={newsletter.pk}&ajax=1", _body(email="nope@@bad", topic="cooking"))
    assert response.status_code == 200
    answer = response.json()
    assert answer["success"] == 0 and set(answer["validationErrors"]) == {"email", "topic"}
    assert "nope@@bad" not in response.content.decode() and "cooking" not in response.content.decode()
    ok = client.post(f"{SUBMIT}?formId={newsletter.pk}&ajax=1", _body(email="ok@reader.example"))
    assert ok.json()["success"] == 1


def test_the_standalone_page_re_renders_with_the_answers_kept(client, newsletter):
    page = client.get(f"/m/acme/form/{newsletter.pk}")
    assert page.status_code == 200 and b'name="mauticform[email]"' in page.content
    response = client.post(f"{SUBMIT}?formId={newsletter.pk}", _body(email="bad", firstname="Keep Me"))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="Keep Me"' in html and "Enter a valid email address." in html and 'value="bad"' not in html


def test_redirects_only_go_to_the_workspaces_sites(client, newsletter, shop_site):
    body = _body(email="redirect@reader.example", **{"return": "https://evil.invalid/phish"})
    response = client.post(f"{SUBMIT}?formId={newsletter.pk}", body)
    assert response.status_code == 200 and b"evil.invalid" not in response.content


def test_a_success_url_gets_the_submission_token(client, newsletter, shop_site):
    from tidings.forms import selectors
    from tidings.tenancy.context import use_workspace

    body = _body(email="gated@reader.example", tds_success="https://shop.example/download")
    response = client.post(f"{SUBMIT}?formId={newsletter.pk}", body)
    assert response.status_code == 302
    token = re.search(r"[?&]tds=([^&]+)", response["Location"]).group(1)
    from urllib.parse import unquote

    with use_workspace(newsletter_workspace(newsletter)):
        assert selectors.submission_token_valid(unquote(token), newsletter.pk)
        assert not selectors.submission_token_valid(unquote(token), newsletter.pk + 1)
        assert not selectors.submission_token_valid("forged", newsletter.pk)


def test_cors_is_granted_to_the_workspaces_sites_only(client, newsletter, shop_site):
    url = f"{SUBMIT}?formId={newsletter.pk}&ajax=1"
    allowed = client.post(url, _body(email="cors@reader.example"), HTTP_ORIGIN="https://shop.example")
    assert allowed["Access-Control-Allow-Origin"] == "https://shop.example"
    other = client.post(url, _body(email="cors2@reader.example"), HTTP_ORIGIN="https://elsewhere.invalid")
    assert "Access-Control-Allow-Origin" not in other
    preflight = client.options(url, HTTP_ORIGIN="https://shop.example")
    assert preflight.status_code == 204


def test_unknown_workspace_unpublished_or_missing_form_answer_404(client, newsletter):
    from tidings.forms import actions
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system

    assert client.post(f"/m/nowhere/form/submit?formId={newsletter.pk}", _body(email="a@b.example")).status_code == 404
    assert client.post(f"{SUBMIT}?formId=999999", _body(email="a@b.example")).status_code == 404
    assert client.post(f"{SUBMIT}?formId=abc", _body(email="a@b.example")).status_code == 404
    with use_workspace(newsletter_workspace(newsletter)):
        actions.form_update(newsletter.pk, published=False, principal=system())
    assert client.get(f"/m/acme/form/{newsletter.pk}").status_code == 404
    assert client.get(f"/m/acme/form/generate.js?id={newsletter.pk}").status_code == 404


def test_submissions_are_rate_limited_per_network(client, newsletter, settings):
    settings.TIDINGS_FORMS_RATE_PER_NETWORK = 2
    url = f"{SUBMIT}?formId={newsletter.pk}&ajax=1"
    statuses = [client.post(url, _body(email=f"r{n}@reader.example")).status_code for n in range(3)]
    assert statuses == [200, 200, 429]


def test_generate_js_writes_the_form_without_inline_code(client, newsletter):
    response = client.get(f"/m/acme/form/generate.js?id={newsletter.pk}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")
    script = response.content.decode()
    assert "mauticform[email]" in script and "<\\/form>" in script and "eval(" not in script


def test_the_double_opt_in_link_confirms_on_post_only(client, newsletter, django_capture_on_commit_callbacks):
    from tidings.consent.models import ConsentRecord
    from tidings.tenancy.context import use_workspace

    with django_capture_on_commit_callbacks(using=newsletter_workspace(newsletter).db_alias, execute=True):
        client.post(f"{SUBMIT}?formId={newsletter.pk}", _body(email="doi@reader.example", newsletter_ok="1"))
    (message,) = mail.outbox
    link = re.search(r"https?://\S+/form/confirm/\S+", message.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert client.get(f"/{path}").status_code == 200
    with use_workspace(newsletter_workspace(newsletter)):
        assert not ConsentRecord.objects.filter(given=True).exists()  # a mail scanner's GET confirms nothing
    assert b"confirmed" in client.post(f"/{path}").content
    with use_workspace(newsletter_workspace(newsletter)):
        assert ConsentRecord.objects.filter(given=True, method="form").count() == 1
    assert client.get("/m/acme/form/confirm/forged-token").status_code == 404


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.text(max_size=30), st.lists(st.text(max_size=50), max_size=3), max_size=8))
def test_the_parser_never_fails_and_errors_never_echo_a_value(newsletter, data):
    from tidings.forms.answers import read_answers

    names = {f"mauticform[{key}]" if n % 2 else key: values for n, (key, values) in enumerate(data.items())}
    answers, own = parse_posted(names)
    result = read_answers(newsletter.fields, answers, set())
    for message in result.errors.values():
        for values in answers.values():
            for value in values:
                assert len(value.strip()) < 4 or value.strip() not in message


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(email=st.text(max_size=80), firstname=st.text(max_size=80), topic=st.text(max_size=20),
       consent=st.sampled_from(["", "1", "on", "x"]), ajax=st.booleans())  # fmt: skip
def test_any_post_answers_below_500(client, newsletter, email, firstname, topic, consent, ajax):
    text = {name: value.replace("\x00", "") for name, value in (("email", email), ("firstname", firstname),
                                                                 ("topic", topic))}  # fmt: skip
    body = _body(newsletter_ok=consent, **text)
    response = client.post(f"{SUBMIT}?formId={newsletter.pk}{'&ajax=1' if ajax else ''}", body)
    assert response.status_code < 500


def test_the_embed_seam_gives_safe_html_and_the_success_address_gets_a_token(client, newsletter, in_acme):
    from django.utils.safestring import SafeString

    from tidings.forms import selectors

    html = selectors.form_embed_html(newsletter.pk, success_url="/m/acme/p/thanks")
    assert isinstance(html, SafeString) and f"/m/acme/form/submit?formId={newsletter.pk}" in html
    assert selectors.form_embed_html(newsletter.pk + 1000) is None
    assert selectors.form_embed_html("1") is None
    token_input = re.search(r'name="mauticform\[tds_ts\]" value="([^"]+)"', html).group(1)
    body = _body(email="seam@reader.example", tds_success="/m/acme/p/thanks", tds_ts=token_input)
    response = client.post(f"{SUBMIT}?formId={newsletter.pk}", body)
    assert response.status_code == 302 and response["Location"].startswith("/m/acme/p/thanks?tds=")
    assert client.post(f"{SUBMIT}?formId={newsletter.pk}", _body(email="s2@reader.example",
                       tds_success="//evil.invalid/x")).status_code == 200  # fmt: skip


def test_a_form_sent_at_once_is_not_sent_before_it_was_made(in_acme, newsletter, monkeypatch):
    """The render time is rounded down: rounded up, a post within 50 ms had a negative age (a robot's, under a least
    fill time of 0)."""
    import time

    from tidings.forms import tokens

    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.06)
    token = tokens.render_token(newsletter.pk)
    assert tokens.rendered_seconds_ago(token, newsletter.pk) >= 0
