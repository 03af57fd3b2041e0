"""The public download /m/<slug>/asset/<id>:<alias>: safe headers, 404 for what is not Acme's to give, and
a download event only with a lawful basis (a counted anonymous download otherwise)."""

from __future__ import annotations

import pytest

from tidings.assets import actions, selectors
from tidings.assets.tests.conftest import PDF, PNG, upload
from tidings.tests.principals import system


def url(asset, slug="acme", tail=""):
    return f"/m/{slug}/asset/{asset.pk}:{asset.alias}{tail}"


def downloads_recorded(asset):
    from tidings.events.models import Event
    from tidings.events.registry import code_for

    return list(Event.objects.filter(type=code_for("asset.download")).values_list("contact_id", "visitor_id"))


def test_a_download_is_an_attachment_with_safe_headers(client, guide):
    response = client.get(url(guide))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="pricing.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert selectors.asset_get(guide.pk).download_count == 1


def test_stream_shows_a_pdf_inline_in_a_sandbox(client, guide):
    response = client.get(url(guide, tail="?stream=1"))
    assert response["Content-Disposition"].startswith("inline")
    assert response["Content-Security-Policy"].startswith("sandbox")


def test_an_office_file_is_never_inline(client, in_acme, private_var):
    from tidings.assets.tests.conftest import docx_bytes

    asset = actions.asset_create(principal=system(), title="Offer", file=upload(docx_bytes(), "offer.docx"),
                                 filename="offer.docx")  # fmt: skip
    response = client.get(url(asset, tail="?stream=1"))
    assert response["Content-Disposition"].startswith("attachment")


def test_a_name_with_quotes_and_accents_stays_inside_the_header(client, in_acme, private_var):
    asset = actions.asset_create(
        principal=system(), title="Logo", file=upload(PNG), filename='lo"go\r\nX-Evil: 1 é.png'
    )
    disposition = client.get(url(asset))["Content-Disposition"]
    assert "\n" not in disposition and "\r" not in disposition
    assert "filename*=utf-8''" in disposition


def test_a_remote_asset_redirects(client, in_acme):
    asset = actions.asset_create(principal=system(), title="Brochure", remote_url="https://files.example/b.pdf")
    response = client.get(url(asset))
    assert response.status_code == 302 and response["Location"] == "https://files.example/b.pdf"
    assert response["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("tail", ["wrong-alias", ""])
def test_a_wrong_alias_is_not_found_but_the_id_alone_works(client, guide, tail):
    response = client.get(f"/m/acme/asset/{guide.pk}:{tail}" if tail else f"/m/acme/asset/{guide.pk}")
    assert response.status_code == (404 if tail else 200)


def test_an_unpublished_asset_is_not_found(client, guide):
    actions.asset_update(guide.pk, principal=system(), is_published=False)
    assert client.get(url(guide)).status_code == 404
    assert selectors.asset_get(guide.pk).download_count == 0


def test_another_workspace_cannot_serve_acmes_asset(client, guide, globex):
    assert client.get(url(guide, slug="globex")).status_code == 404
    assert client.get(url(guide, slug="no-such-workspace")).status_code == 404


def test_a_head_request_counts_nothing(client, guide):
    assert client.head(url(guide)).status_code == 200
    assert selectors.asset_get(guide.pk).download_count == 0


def test_a_post_is_refused(client, guide):
    assert client.post(url(guide)).status_code == 405


def test_downloads_are_rate_limited_per_address(client, guide, settings, fresh_rate_limits):
    settings.TIDINGS_API_RATE_LIMIT = 2
    statuses = [client.get(url(guide)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


# ----------------------------------------------------------------------------------------------
# The event: only with a lawful basis


def test_an_anonymous_download_is_counted_without_an_event(client, guide):
    client.get(url(guide))
    assert downloads_recorded(guide) == [] and selectors.asset_get(guide.pk).download_count == 1


@pytest.fixture
def device(in_acme):
    """Return make(consent) -> a visitor of Acme (with its tracking decision, if any) and its _tdv token."""
    from tidings.consent import actions as consent_actions
    from tidings.events.actions import visitor_create
    from tidings.tracking.collect.decide import visitor_token

    def make(consent: bool | None):
        visitor = visitor_create(principal=system())
        if consent is not None:
            consent_actions.consent_record(purpose="tracking", given=consent, method="tracker", source="test",
                                           visitor_id=visitor.pk, principal=system())  # fmt: skip
        return visitor.pk, visitor_token(in_acme.pk, visitor.pk)

    return make


def test_a_consented_device_records_the_download(client, guide, device):
    visitor_id, token = device(True)
    client.cookies["_tdv"] = token
    client.get(url(guide))
    assert downloads_recorded(guide) == [(None, visitor_id)]


@pytest.mark.parametrize("consent", [None, False])
def test_a_device_without_consent_records_nothing(client, guide, device, consent):
    _visitor_id, token = device(consent)
    client.cookies["_tdv"] = token
    client.get(url(guide))
    assert downloads_recorded(guide) == [] and selectors.asset_get(guide.pk).download_count == 1


def test_a_forged_device_token_records_nothing(client, guide, device):
    visitor_id, _token = device(True)
    client.cookies["_tdv"] = f"{visitor_id}.forged"
    client.get(url(guide))
    assert downloads_recorded(guide) == []


@pytest.mark.parametrize("header", [{"HTTP_SEC_GPC": "1"}, {"HTTP_DNT": "1"}])
def test_a_privacy_signal_records_nothing_even_with_consent(client, guide, device, header, ada, in_acme):
    from tidings.tracking.identify import click_token

    _visitor_id, token = device(True)
    client.cookies["_tdv"] = token
    client.get(url(guide, tail=f"?tdt={click_token(ada.id, workspace=in_acme)}"), **header)
    assert downloads_recorded(guide) == []


def test_a_legitimate_interest_site_covering_the_page_profiles_a_device_that_did_not_object(client, guide, device):
    from tidings.tracking import actions as tracking_actions

    tracking_actions.site_create(name="Shop", domains=["shop.example"], consent_mode="legitimate_interest",
                                 principal=system())  # fmt: skip
    visitor_id, token = device(None)
    client.cookies["_tdv"] = token
    client.get(url(guide), HTTP_REFERER="https://shop.example/guides")
    assert downloads_recorded(guide) == [(None, visitor_id)]


def test_a_click_token_records_the_download_for_its_contact(client, guide, ada, in_acme):
    from tidings.tracking.identify import click_token

    client.get(url(guide, tail=f"?ct={click_token(ada.id, workspace=in_acme)}"))
    assert downloads_recorded(guide) == [(ada.id, None)]


def test_a_contact_who_objected_to_tracking_is_not_recorded_by_click(client, guide, ada, in_acme):
    from tidings.consent import actions as consent_actions
    from tidings.tracking.identify import click_token

    consent_actions.consent_record(purpose="tracking", given=False, method="form", source="test", contact_id=ada.id,
                                   principal=system())  # fmt: skip
    client.get(url(guide, tail=f"?tdt={click_token(ada.id, workspace=in_acme)}"))
    assert downloads_recorded(guide) == []


def test_another_workspaces_click_token_records_nothing(client, guide, globex):
    from tidings.tracking.identify import click_token

    client.get(url(guide, tail=f"?tdt={click_token(1, workspace=globex)}"))
    assert downloads_recorded(guide) == []


# ----------------------------------------------------------------------------------------------
# The form gate (needs the forms app of issue 11)


def test_a_gated_asset_shows_its_form_and_then_downloads_with_a_token(client, guide, monkeypatch):
    form_selectors = pytest.importorskip("tidings.forms.selectors")
    from django.utils.safestring import SafeString

    monkeypatch.setattr(form_selectors, "form_embed_html", lambda form_id, success_url=None:
                        SafeString(f'<form data-success="{success_url}"></form>'))  # fmt: skip
    monkeypatch.setattr(form_selectors, "submission_token_valid", lambda token, form_id, max_age=3600: token == "ok")
    actions.asset_update(guide.pk, principal=system(), form_id=7)
    gate = client.get(url(guide))
    assert gate.status_code == 200 and selectors.download_url(guide).encode() in gate.content
    assert selectors.asset_get(guide.pk).download_count == 0
    assert client.get(url(guide, tail="?tds=forged")).status_code == 200  # the gate again
    response = client.get(url(guide, tail="?tds=ok"))
    assert response["Content-Disposition"].startswith("attachment")
