"""The form builder in Chromium: add a field with htmx, see the live preview, checked with axe."""

from tidings.web.tests.browser import assert_accessible, browser_test, visit

pytestmark = browser_test


def test_build_a_form_and_preview_it(alice_page, acme):
    visit(alice_page, "/w/acme/forms/")
    assert_accessible(alice_page)
    alice_page.get_by_role("link", name="New form").first.click()
    alice_page.get_by_label("Name", exact=True).fill("Open day")
    alice_page.get_by_label("Published").check()
    alice_page.get_by_role("button", name="Create form").click()
    alice_page.get_by_role("heading", name="Fields").wait_for()
    assert_accessible(alice_page)

    alice_page.get_by_text("Add a field").click()
    add = alice_page.locator("details.add-field form")
    add.get_by_label("Kind").select_option("email")
    add.get_by_label("Label").fill("Your email")
    add.get_by_label("Fills the contact field").select_option("email")
    add.get_by_label("Required").check()
    add.get_by_role("button", name="Add field").click()
    alice_page.locator(".form-preview").get_by_text("Your email").wait_for()
    assert_accessible(alice_page)

    alice_page.get_by_text("Add a field").click()
    add = alice_page.locator("details.add-field form")
    add.get_by_label("Kind").select_option("text")
    add.get_by_label("Label").fill("Your name")
    add.get_by_role("button", name="Add field").click()
    alice_page.locator(".form-preview").get_by_text("Your name").wait_for()
    alice_page.get_by_role("button", name="Move Your name up").click()
    alice_page.get_by_role("button", name="Move Your email up").wait_for()
    labels = alice_page.locator(".form-preview label").all_inner_texts()
    assert labels.index("Your name") < labels.index("Your email *")
    assert_accessible(alice_page)
