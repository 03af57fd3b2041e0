"""The shell and the key pages in Chromium: accessibility (axe), phone widths, the menu, screenshots.

Run alone: pytest -m browser. TIDINGS_UPDATE_SCREENSHOTS=1 rewrites tidings/web/tests/screenshots/ and
docs/screenshots/ after an intended change of the look.
"""

import pytest

from tidings.web.tests.browser import (
    DESKTOP,
    PHONE,
    assert_accessible,
    assert_no_horizontal_overflow,
    assert_screenshot,
    browser_test,
    visit,
)

pytestmark = browser_test

# name -> path of the key pages (showcase data: contact 1 is Ada Quillfeather)
KEY_PAGES = {
    "dashboard": "/w/acme/",
    "contacts": "/w/acme/contacts/",
    "contact": "/w/acme/contacts/1/",
    "import": "/w/acme/contacts/import/",
    "fields": "/w/acme/settings/fields/",
    "settings": "/w/acme/settings/workspace/",
    "tokens": "/w/acme/settings/api-tokens/",
    "members": "/w/acme/settings/members/",
}


@pytest.mark.parametrize("name", KEY_PAGES)
def test_key_page_has_no_serious_accessibility_violation(alice_page, showcase, name):
    visit(alice_page, KEY_PAGES[name])
    assert_accessible(alice_page)


@pytest.mark.parametrize("name", KEY_PAGES)
def test_key_page_fits_a_phone_without_sideways_scrolling(alice_page, showcase, name):
    alice_page.set_viewport_size(PHONE)
    visit(alice_page, KEY_PAGES[name])
    assert_no_horizontal_overflow(alice_page)


def test_the_phone_layout_passes_axe_with_the_menu_open(alice_page, showcase):
    alice_page.set_viewport_size(PHONE)
    visit(alice_page, KEY_PAGES["contact"])
    alice_page.get_by_role("button", name="Menu").click()
    assert_accessible(alice_page)


def test_the_menu_button_opens_the_sidebar_on_a_phone(alice_page, showcase):
    alice_page.set_viewport_size(PHONE)
    visit(alice_page, KEY_PAGES["dashboard"])
    sidebar = alice_page.get_by_role("navigation", name="Main")
    assert not sidebar.is_visible()
    alice_page.get_by_role("button", name="Menu").click()
    assert sidebar.is_visible()
    assert alice_page.get_by_role("button", name="Menu").get_attribute("aria-expanded") == "true"
    sidebar.get_by_role("link", name="Companies").click()
    alice_page.wait_for_url("**/companies/")


def test_escape_closes_the_phone_menu(alice_page, showcase):
    alice_page.set_viewport_size(PHONE)
    visit(alice_page, KEY_PAGES["dashboard"])
    alice_page.get_by_role("button", name="Menu").click()
    alice_page.keyboard.press("Escape")
    assert not alice_page.get_by_role("navigation", name="Main").is_visible()


def test_the_navigation_leaves_the_first_screen_to_the_page_on_a_phone(alice_page, showcase):
    alice_page.set_viewport_size(PHONE)
    visit(alice_page, KEY_PAGES["contacts"])
    heading = alice_page.get_by_role("heading", level=1).bounding_box()
    assert heading is not None and heading["y"] < 150


def test_the_top_bar_is_one_line_on_a_phone(alice_page, showcase):
    alice_page.set_viewport_size(PHONE)
    visit(alice_page, KEY_PAGES["contacts"])
    topbar = alice_page.locator(".topbar").bounding_box()
    assert topbar is not None and topbar["height"] <= 56


def test_the_sidebar_collapses_to_icons_and_stays_collapsed(alice_page, showcase):
    visit(alice_page, KEY_PAGES["dashboard"])
    sidebar = alice_page.get_by_role("navigation", name="Main")
    wide = sidebar.bounding_box()["width"]
    alice_page.get_by_role("button", name="Collapse menu").click()
    visit(alice_page, KEY_PAGES["contacts"])
    assert sidebar.bounding_box()["width"] < wide / 2
    assert sidebar.get_by_role("link", name="Contacts").is_visible()  # the icon, named by its hidden label


def test_link_buttons_are_not_white_on_white(alice_page, showcase):
    visit(alice_page, KEY_PAGES["contact"])
    colors = alice_page.eval_on_selector_all(
        "main button.link", "buttons => buttons.map(b => getComputedStyle(b).color)"
    )
    assert colors and "rgb(255, 255, 255)" not in colors


@pytest.mark.parametrize("name", ["dashboard", "contacts", "contact", "import", "fields", "settings", "tokens"])
def test_key_page_looks_as_recorded(alice_page, showcase, name):
    for label, viewport in (("1366", DESKTOP), ("390", PHONE)):
        alice_page.set_viewport_size(viewport)
        visit(alice_page, KEY_PAGES[name])
        # "… ago" changes with the day the test runs, and its length moved the layout ("9 months" fits a row that
        # "8 months, 4 weeks" wraps): one text of a fixed length, then hidden; the absolute time next to it stays.
        alice_page.evaluate("document.querySelectorAll('.ago').forEach(e => { e.textContent = '· some weeks ago'; })")
        assert_screenshot(alice_page, f"{name}-{label}", mask=[alice_page.locator(".ago")])


def test_the_kit_page_passes_axe(alice_page, showcase):
    visit(alice_page, "/w/acme/ui/")
    assert_accessible(alice_page)


def test_the_kit_page_looks_as_recorded(alice_page, showcase):
    visit(alice_page, "/w/acme/ui/")
    assert_screenshot(alice_page, "kit-1366")


@pytest.mark.parametrize("name", ["contact", "tokens"])
def test_dark_mode_keeps_contrast(alice_page, showcase, name):
    alice_page.emulate_media(color_scheme="dark")
    visit(alice_page, KEY_PAGES[name])
    assert alice_page.evaluate("() => getComputedStyle(document.body).backgroundColor") != "rgb(246, 247, 249)"
    assert_accessible(alice_page)


def test_the_kit_page_passes_axe_in_dark_mode(alice_page, showcase):
    alice_page.emulate_media(color_scheme="dark")
    visit(alice_page, "/w/acme/ui/")
    assert_accessible(alice_page)


def test_the_sign_in_page_passes_axe_and_fits_a_phone(browser_page):
    browser_page.set_viewport_size(PHONE)
    visit(browser_page, "/accounts/login/")
    assert_accessible(browser_page)
    assert_no_horizontal_overflow(browser_page)
