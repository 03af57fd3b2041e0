"""Signing in and out, the two-factor step, password change and reset, and lockout."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY

from tidings.accounts.tests.helpers import totp_code

PASSWORD = "correct horse battery staple"


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post("/accounts/login/", {"username": email, "password": password, **extra})


def test_alice_signs_in_with_email_and_password(client, alice):
    response = sign_in(client, "alice@acme.example")
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(alice.pk)


def test_email_is_matched_case_insensitively(client, alice):
    sign_in(client, "Alice@ACME.example")
    assert client.session[SESSION_KEY] == str(alice.pk)


def test_wrong_password_shows_an_error_and_signs_nobody_in(client, alice):
    response = sign_in(client, "alice@acme.example", "not the password")
    assert response.status_code == 200
    assert b"do not match an account" in response.content
    assert SESSION_KEY not in client.session


def test_user_with_authenticator_is_asked_for_a_code_before_being_signed_in(client, alice, with_authenticator):
    with_authenticator(alice)
    response = sign_in(client, "alice@acme.example")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/verify/"
    assert SESSION_KEY not in client.session


def test_the_authenticator_code_completes_sign_in_and_verifies_the_session(client, alice, with_authenticator):
    device = with_authenticator(alice)
    sign_in(client, "alice@acme.example", next="/w/acme/")
    response = client.post("/accounts/login/verify/", {"code": totp_code(device, 1)})
    assert response.status_code == 302
    assert response["Location"] == "/w/acme/"
    assert client.session[SESSION_KEY] == str(alice.pk)
    assert client.session["otp_device_id"] == device.persistent_id


def test_a_backup_code_is_accepted_once(client, alice, with_authenticator):
    from tidings.accounts.actions import backup_codes_generate

    with_authenticator(alice)
    code = backup_codes_generate(user=alice)[0]
    sign_in(client, "alice@acme.example")
    assert client.post("/accounts/login/verify/", {"code": code}).status_code == 302
    assert client.session[SESSION_KEY] == str(alice.pk)

    client.post("/accounts/logout/")
    sign_in(client, "alice@acme.example")
    response = client.post("/accounts/login/verify/", {"code": code})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_a_wrong_code_is_refused(client, alice, with_authenticator):
    with_authenticator(alice)
    sign_in(client, "alice@acme.example")
    response = client.post("/accounts/login/verify/", {"code": "000000"})
    assert response.status_code == 200
    assert b"That code is not valid" in response.content
    assert SESSION_KEY not in client.session


def test_five_wrong_codes_send_the_user_back_to_the_password(client, alice, with_authenticator, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own delay would hide the attempt counting
    with_authenticator(alice)
    sign_in(client, "alice@acme.example")
    for _ in range(5):
        response = client.post("/accounts/login/verify/", {"code": "000000"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/accounts/login/verify/")["Location"] == "/accounts/login/"


def test_the_code_step_without_a_password_first_goes_back_to_sign_in(client, alice):
    response = client.get("/accounts/login/verify/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


def test_sign_out_needs_a_post(alice_client):
    assert alice_client.get("/accounts/logout/").status_code == 405
    assert SESSION_KEY in alice_client.session
    response = alice_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert SESSION_KEY not in alice_client.session


def test_alice_changes_her_password(alice_client, alice):
    response = alice_client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a brand new passphrase",
            "new_password2": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a brand new passphrase")
    assert SESSION_KEY in alice_client.session  # the session survives its own password change


def test_password_change_applies_the_validators(alice_client, alice):
    response = alice_client.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password1": "12345", "new_password2": "12345"}
    )
    assert response.status_code == 200
    assert b"too short" in response.content
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_password_change_needs_the_old_password(alice_client, alice):
    alice_client.post(
        "/accounts/password/",
        {"old_password": "guess", "new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase"},
    )
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_password_reset_by_email(client, alice, mailoutbox, settings):
    settings.TIDINGS_BASE_URL = "https://tidings.example"
    response = client.post("/accounts/password/reset/", {"email": "alice@acme.example"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["alice@acme.example"]
    link = re.search(r"https://tidings\.example(/accounts/password/reset/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert b"Choose a new password" in form_page.content
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a brand new passphrase")


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, db, mailoutbox):
    response = client.post("/accounts/password/reset/", {"email": "nobody@nowhere.invalid"})
    assert response.status_code == 302
    assert mailoutbox == []


@pytest.mark.parametrize("attempts_before", [5])
def test_the_sixth_attempt_is_refused_even_with_the_right_password(client, alice, attempts_before):
    for _ in range(attempts_before):
        sign_in(client, "alice@acme.example", "wrong password")
    response = sign_in(client, "alice@acme.example")
    assert response.status_code == 429
    assert SESSION_KEY not in client.session


def test_the_lockout_page_explains_what_happened(client, alice):
    for _ in range(6):
        response = sign_in(client, "alice@acme.example", "wrong password")
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert b"15 seconds" in response.content
    assert b"reset it by email" in response.content


def test_lockout_is_per_account_so_others_still_sign_in(client, alice, bob):
    for _ in range(6):
        sign_in(client, "alice@acme.example", "wrong password")
    response = sign_in(client, "bob@globex.example")
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(bob.pk)


def test_changing_the_case_of_the_address_does_not_buy_more_attempts(client, alice):
    for variant in [
        "alice@acme.example",
        "ALICE@acme.example",
        "Alice@Acme.example",
        "aLiCe@acme.example",
        "alice@ACME.EXAMPLE",
    ]:
        sign_in(client, variant, "wrong password")
    assert sign_in(client, "alice@acme.example").status_code == 429
