"""The consent settings page and the contact's Consents panel in Chromium, checked with axe."""

from tidings.web.tests.browser import PHONE, assert_accessible, assert_no_horizontal_overflow, browser_test, visit

pytestmark = browser_test


def test_add_a_purpose_publish_a_notice_and_see_a_contacts_consents(alice_page, showcase, acme):
    from tidings.consent import actions
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system

    visit(alice_page, "/w/acme/privacy/consent/")
    assert_accessible(alice_page)
    alice_page.get_by_text("Add a purpose").click()
    alice_page.get_by_label("Key", exact=True).fill("event_invites")
    alice_page.get_by_label("Name", exact=True).fill("Event invitations")
    alice_page.get_by_label("Lawful basis").select_option("legitimate_interests")
    alice_page.get_by_role("button", name="Add purpose").click()
    alice_page.get_by_role("cell", name="Event invitations", exact=True).wait_for()
    assert_accessible(alice_page)

    alice_page.get_by_text("Publish a new version").click()
    alice_page.get_by_label("Title", exact=True).fill("Privacy notice 2026")
    alice_page.get_by_label("Web address").fill("https://acme.example/privacy")
    alice_page.get_by_role("button", name="Publish version").click()
    alice_page.get_by_role("link", name="Privacy notice 2026").wait_for()
    assert_accessible(alice_page)

    with use_workspace(acme):
        actions.consent_record(purpose="marketing_email", given=True, contact_id=showcase.id, method="form",
                               source="form:1", principal=system())  # fmt: skip
    visit(alice_page, f"/w/acme/contacts/{showcase.id}/")
    panel = alice_page.locator("#consents")
    assert "given" in panel.inner_text()
    panel.get_by_text("Ledger").click()
    assert "notice v1" in panel.inner_text()
    assert_accessible(alice_page)


def test_the_consent_page_fits_a_phone(alice_page, showcase):
    alice_page.set_viewport_size(PHONE)
    visit(alice_page, "/w/acme/privacy/consent/")
    assert_no_horizontal_overflow(alice_page)
    assert_accessible(alice_page)
