"""The send page and the sending settings in Chromium: start a broadcast, pause it, resume, cancel; axe, phone."""

from tidings.web.tests.browser import PHONE, assert_accessible, assert_no_horizontal_overflow, browser_test, visit

pytestmark = browser_test


def _newsletter(acme):
    from tidings.emails.tests.conftest import make_contact, make_email, make_segment
    from tidings.tenancy.context import use_workspace

    with use_workspace(acme):
        readers = [make_contact({"email": f"reader{i}@example.example"}) for i in range(3)]
        return make_email(name="Spring news", segment_ids=[make_segment([r.id for r in readers]).pk])


def test_start_pause_resume_and_cancel_a_broadcast(alice_page, acme):
    mail = _newsletter(acme)
    visit(alice_page, f"/w/acme/emails/{mail.pk}/send/")
    assert "about 3 contacts" in alice_page.inner_text("main")
    assert_accessible(alice_page)
    alice_page.get_by_role("button", name="Start sending").click()
    alice_page.get_by_text("Sending to 3 contacts has started.").wait_for()
    assert alice_page.get_by_role("cell", name="Queued").is_visible()
    assert_accessible(alice_page)
    alice_page.get_by_role("button", name="Pause").click()
    alice_page.get_by_text("Paused.").wait_for()
    assert alice_page.get_by_role("cell", name="Paused").is_visible()
    alice_page.get_by_role("button", name="Resume").click()
    alice_page.get_by_text("Resumed.").wait_for()
    alice_page.get_by_role("button", name="Cancel").click()
    alice_page.get_by_text("Cancelled.").wait_for()
    assert alice_page.get_by_role("cell", name="Cancelled").is_visible()
    assert_accessible(alice_page)
    assert not alice_page.console_problems, list(alice_page.console_problems)


def test_the_sending_settings_save_and_seal_a_dkim_key(alice_page, acme):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        .decode()
    )
    visit(alice_page, "/w/acme/settings/sending/")
    assert_accessible(alice_page)
    alice_page.get_by_label("Sending domains").fill("news.acme.example")
    alice_page.get_by_label("Marketing emails per contact at most").fill("5000")
    alice_page.get_by_role("button", name="Save").click()
    alice_page.locator("#id_cap_count_error").wait_for()
    alice_page.console_problems.clear()  # the refused form's 400
    assert_accessible(alice_page)
    alice_page.get_by_label("Marketing emails per contact at most").fill("2")
    alice_page.get_by_label("DKIM signing domain (d=)").fill("news.acme.example")
    alice_page.get_by_label("DKIM selector (s=)").fill("s2026")
    alice_page.get_by_label("New DKIM private key (PEM)").fill(pem)
    alice_page.get_by_role("button", name="Save").click()
    alice_page.get_by_text("Sending settings saved.").wait_for()
    assert "a key is stored (sealed) for selector “s2026”" in alice_page.inner_text("main")
    assert "PRIVATE KEY" not in alice_page.content()
    assert_accessible(alice_page)


def test_the_sending_pages_fit_a_phone(alice_page, acme):
    mail = _newsletter(acme)
    alice_page.set_viewport_size(PHONE)
    for path in (f"/w/acme/emails/{mail.pk}/send/", "/w/acme/settings/sending/"):
        visit(alice_page, path)
        assert_no_horizontal_overflow(alice_page)
        assert_accessible(alice_page)


def test_the_sending_credentials_are_write_only_and_the_webhook_secret_is_shown(alice_page, acme):
    password = "Pw-browser-9c1e"
    visit(alice_page, "/w/acme/settings/sending/")
    alice_page.get_by_label("SMTP server", exact=True).fill("mail.acme.example")
    alice_page.get_by_label("SMTP password", exact=True).fill(password)
    alice_page.get_by_label("Make a new ESP webhook secret").check()
    alice_page.get_by_role("button", name="Save").click()
    alice_page.get_by_text("Sending settings saved.").wait_for()
    text = alice_page.inner_text("main")
    assert "SMTP password: set" in text and "SMTP user name: not set" in text
    assert password not in alice_page.content()
    assert alice_page.get_by_label("SMTP password", exact=True).input_value() == ""
    assert alice_page.get_by_test_id("webhook-secret").inner_text().startswith("tidings:")
    assert_accessible(alice_page)
