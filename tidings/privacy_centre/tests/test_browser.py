"""The privacy centre's pages in Chromium, checked with axe: retention, records, recipients, a policy banner."""

from tidings.web.tests.browser import PHONE, assert_accessible, assert_no_horizontal_overflow, browser_test, visit

pytestmark = browser_test


def test_change_a_retention_period(alice_page):
    visit(alice_page, "/w/acme/privacy/retention/")
    assert_accessible(alice_page)
    alice_page.get_by_text("Change the periods").click()
    alice_page.get_by_label("Raw tracking events (days)").fill("90")
    alice_page.get_by_role("button", name="Save periods").click()
    alice_page.get_by_role("cell", name="90 days").wait_for()
    assert_accessible(alice_page)


def test_add_a_recipient_and_read_the_records(alice_page):
    visit(alice_page, "/w/acme/privacy/recipients/")
    assert_accessible(alice_page)
    alice_page.get_by_text("Add a recipient").click()
    alice_page.get_by_role("textbox", name="Name").fill("Northwind CRM")
    alice_page.get_by_role("combobox", name="Kind").select_option("integration")
    alice_page.get_by_role("combobox", name="Country").select_option("US")
    alice_page.get_by_role("combobox", name="Safeguard").select_option("scc")
    alice_page.get_by_role("checkbox", name="Marketing email").check()
    alice_page.get_by_role("button", name="Add recipient").click()
    alice_page.get_by_role("cell", name="Northwind CRM", exact=True).wait_for()
    assert_accessible(alice_page)
    visit(alice_page, "/w/acme/privacy/records/")
    assert "Northwind CRM" in alice_page.content()
    assert_accessible(alice_page)


def test_a_new_tidings_policy_shows_a_banner_and_its_changes(alice_page, carol):
    from tidings.policies.actions import policy_publish

    policy_publish(staff_user=carol, kind="terms", title="Terms", text="One.\nTwo.\n")
    policy_publish(staff_user=carol, kind="terms", title="Terms", text="One.\nThree.\n")
    visit(alice_page, "/w/acme/")
    alice_page.get_by_role("link", name="See what changed").first.click()
    alice_page.get_by_text("Removed:").wait_for()
    assert_accessible(alice_page)
    alice_page.get_by_role("button", name="I have read the changes").click()
    alice_page.get_by_role("heading", name="Tidings policies").wait_for()
    assert_accessible(alice_page)


def test_the_retention_page_fits_a_phone(alice_page):
    alice_page.set_viewport_size(PHONE)
    visit(alice_page, "/w/acme/privacy/retention/")
    assert_no_horizontal_overflow(alice_page)
    assert_accessible(alice_page)
