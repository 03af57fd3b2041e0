"""Setting up, using and removing two-factor sign-in, and workspaces that require it."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tidings.accounts.tests.helpers import totp_code


def test_security_page_offers_to_set_up_two_factor(alice_client):
    response = alice_client.get("/accounts/security/")
    assert response.status_code == 200
    assert b"Set up two-factor sign-in" in response.content


def test_set_up_shows_the_qr_code_as_an_svg_image_and_the_secret(alice_client, alice):
    alice_client.post("/accounts/security/two-factor/start/")
    device = TOTPDevice.objects.get(user=alice)
    assert device.confirmed is False
    page = alice_client.get("/accounts/security/").content.decode()
    assert '<img src="data:image/svg+xml' in page
    import base64

    assert base64.b32encode(device.bin_key).decode().rstrip("=") in page
    # an inline QR SVG would need styles the CSP forbids (the kit's icons are <svg class="icon"><use>, no styles)
    assert re.search(r'<svg(?! class="icon)', page) is None


def test_a_code_from_the_app_confirms_the_authenticator_and_verifies_the_session(alice_client, alice, acme):
    from tidings.accounts.tests.helpers import audit_actions

    alice_client.post("/accounts/security/two-factor/start/")
    device = TOTPDevice.objects.get(user=alice)
    response = alice_client.post("/accounts/security/two-factor/confirm/", {"code": totp_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert alice_client.session["otp_device_id"] == device.persistent_id
    assert "user.two_factor_enabled" not in audit_actions(acme)  # a user's own setting: the system chain


def test_a_wrong_code_does_not_confirm(alice_client, alice):
    alice_client.post("/accounts/security/two-factor/start/")
    response = alice_client.post("/accounts/security/two-factor/confirm/", {"code": "000000"})
    assert response.status_code == 400
    assert b"does not match" in response.content
    assert not TOTPDevice.objects.get(user=alice).confirmed


def test_enabling_two_factor_is_audited_in_the_system_chain(alice_client, alice):
    from tidings.audit.models import AuditEntry

    alice_client.post("/accounts/security/two-factor/start/")
    device = TOTPDevice.objects.get(user=alice)
    alice_client.post("/accounts/security/two-factor/confirm/", {"code": totp_code(device)})
    entry = AuditEntry.objects.using("default").filter(workspace_id=0).order_by("-seq").first()
    assert (entry.action, entry.target_id) == ("user.two_factor_enabled", str(alice.pk))


def test_backup_codes_are_shown_once_and_stored_for_verification(alice_client, alice, with_authenticator):
    with_authenticator(alice)
    response = alice_client.post("/accounts/security/two-factor/backup-codes/")
    assert response.status_code == 200
    stored = set(StaticToken.objects.filter(device__user=alice).values_list("token", flat=True))
    assert len(stored) == 10
    assert all(code.encode() in response.content for code in stored)
    assert "no-store" in response["Cache-Control"]
    assert alice_client.get("/accounts/security/two-factor/backup-codes/").status_code == 405
    security_page = alice_client.get("/accounts/security/").content
    assert not any(code.encode() in security_page for code in stored)


def test_new_backup_codes_replace_the_old_ones(alice, with_authenticator):
    from tidings.accounts.actions import backup_codes_generate

    with_authenticator(alice)
    first = backup_codes_generate(user=alice)
    second = backup_codes_generate(user=alice)
    assert set(StaticToken.objects.filter(device__user=alice).values_list("token", flat=True)) == set(second)
    assert not set(first) & set(second)


def test_backup_codes_need_an_authenticator_first(alice):
    from django.core.exceptions import ValidationError

    from tidings.accounts.actions import backup_codes_generate

    with pytest.raises(ValidationError):
        backup_codes_generate(user=alice)


def test_disabling_needs_a_valid_code(alice_client, alice, with_authenticator):
    with_authenticator(alice)
    response = alice_client.post("/accounts/security/two-factor/disable/", {"code": "000000"})
    assert response.status_code == 400
    assert TOTPDevice.objects.filter(user=alice, confirmed=True).exists()


def test_disabling_with_a_valid_code_removes_every_second_factor(alice_client, alice, with_authenticator):
    from tidings.accounts.actions import backup_codes_generate

    device = with_authenticator(alice)
    backup_codes_generate(user=alice)
    response = alice_client.post("/accounts/security/two-factor/disable/", {"code": totp_code(device, 1)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=alice).exists()
    assert not StaticToken.objects.filter(device__user=alice).exists()


@pytest.fixture
def acme_requires_two_factor(acme, alice):
    from tidings.accounts.actions import workspace_settings_update
    from tidings.accounts.tests.helpers import principal_of

    workspace_settings_update(
        workspace=acme, name=acme.name, require_two_factor=True, principal=principal_of(alice, acme)
    )
    return acme


def test_an_unverified_member_is_sent_to_the_two_factor_page(alice_client, acme_requires_two_factor):
    response = alice_client.get("/w/acme/")
    assert response.status_code == 302
    assert response["Location"] == "/w/acme/two-factor-required/"


def test_the_two_factor_page_offers_set_up_to_a_member_without_an_authenticator(alice_client, acme_requires_two_factor):
    response = alice_client.get("/w/acme/two-factor-required/")
    assert response.status_code == 200
    assert b"/accounts/security/?next=/w/acme/" in response.content


def test_setting_up_from_the_two_factor_page_returns_to_the_workspace(alice_client, alice, acme_requires_two_factor):
    alice_client.post("/accounts/security/two-factor/start/", {"next": "/w/acme/"})
    device = TOTPDevice.objects.get(user=alice)
    response = alice_client.post(
        "/accounts/security/two-factor/confirm/", {"code": totp_code(device), "next": "/w/acme/"}
    )
    assert response["Location"] == "/w/acme/"
    assert alice_client.get("/w/acme/").status_code == 200


def test_a_member_with_an_authenticator_verifies_on_the_page_and_continues(
    alice_client, alice, with_authenticator, acme_requires_two_factor
):
    device = with_authenticator(alice)
    response = alice_client.post("/w/acme/two-factor-required/", {"code": totp_code(device, 1), "next": "/w/acme/"})
    assert response.status_code == 302
    assert response["Location"] == "/w/acme/"
    assert alice_client.get("/w/acme/").status_code == 200


def test_a_wrong_code_on_the_two_factor_page_keeps_the_workspace_closed(
    alice_client, alice, with_authenticator, acme_requires_two_factor
):
    with_authenticator(alice)
    response = alice_client.post("/w/acme/two-factor-required/", {"code": "000000"})
    assert response.status_code == 200
    assert b"not valid" in response.content
    assert alice_client.get("/w/acme/").status_code == 302


def test_the_next_address_is_kept_on_this_site(alice_client, alice, with_authenticator, acme_requires_two_factor):
    device = with_authenticator(alice)
    response = alice_client.post(
        "/w/acme/two-factor-required/", {"code": totp_code(device, 1), "next": "https://evil.invalid/"}
    )
    assert response["Location"] == "/w/acme/"


def test_a_workspace_without_the_requirement_opens_without_a_second_factor(alice_client, acme):
    assert alice_client.get("/w/acme/").status_code == 200
