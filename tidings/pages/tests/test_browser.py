"""The landing-page editor, a public landing page and the preference centre in Chromium, checked with axe."""

from tidings.web.tests.browser import PHONE, assert_accessible, assert_no_horizontal_overflow, browser_test, visit

pytestmark = browser_test


def test_create_preview_and_publish_a_page(alice_page, acme):
    visit(alice_page, "/w/acme/pages/")
    assert_accessible(alice_page)
    alice_page.get_by_role("link", name="New page").first.click()
    alice_page.get_by_label("Title", exact=True).fill("Spring sale")
    alice_page.get_by_label("Content (HTML)").fill('<h1>Spring sale</h1><p onclick="x()">All must go.</p>')
    alice_page.get_by_role("button", name="Preview without saving").click()
    frame = alice_page.frame_locator("iframe.page-preview")
    frame.get_by_role("heading", name="Spring sale").wait_for()
    assert_accessible(alice_page)
    alice_page.get_by_label("Published", exact=True).check()
    alice_page.get_by_role("button", name="Create page").click()
    alice_page.get_by_text("Page “Spring sale” created.").wait_for()
    assert_accessible(alice_page)
    visit(alice_page, "/m/acme/p/spring-sale")
    assert alice_page.get_by_role("heading", name="Spring sale").is_visible()
    assert "onclick" not in alice_page.content()
    assert_accessible(alice_page)


def test_the_editor_fits_a_phone(alice_page, acme):
    from tidings.pages import actions
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system

    with use_workspace(acme):
        page = actions.page_create(principal=system(), title="Spring sale", content="<h1>Spring</h1>")
    alice_page.set_viewport_size(PHONE)
    visit(alice_page, f"/w/acme/pages/{page.pk}/")
    assert_no_horizontal_overflow(alice_page)
    assert_accessible(alice_page)


def test_a_contact_changes_its_preferences_and_asks_for_its_data(browser_page, acme):
    from tidings.contacts.actions import contact_create
    from tidings.pages.selectors import preference_token
    from tidings.segments import actions as segments
    from tidings.segments.selectors import segment_member_ids
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system

    with use_workspace(acme):
        ada = contact_create({"email": "ada@analytical.example", "firstname": "Ada"}, principal=system())
        newsletter = segments.segment_create(principal=system(), name="Monthly newsletter",
                                             description="Once a month.", in_preference_centre=True)  # fmt: skip
        link = f"/m/acme/preferences/{preference_token(ada.id)}"
    visit(browser_page, link)
    assert_accessible(browser_page)
    assert "ada@analytical.example" not in browser_page.content()
    browser_page.get_by_label("Monthly newsletter").check()
    browser_page.get_by_label("Marketing email").check()
    browser_page.get_by_role("button", name="Save my preferences").click()
    browser_page.get_by_text("Your preferences are saved.").wait_for()
    assert browser_page.get_by_label("Monthly newsletter").is_checked()
    assert_accessible(browser_page)
    browser_page.get_by_role("button", name="Erase my data").click()
    browser_page.get_by_text("Your request to erase your data was received").wait_for()
    assert_accessible(browser_page)
    browser_page.set_viewport_size(PHONE)
    assert_no_horizontal_overflow(browser_page)
    with use_workspace(acme):
        assert ada.id in set(segment_member_ids(newsletter.pk))


def test_a_bad_link_shows_the_same_not_found_page(browser_page, acme):
    response = browser_page.goto("/m/acme/preferences/forged")  # visit() counts Chromium's 404 line as an error
    assert response is not None and response.status == 404
    assert browser_page.get_by_role("heading", name="Page not found").is_visible()
    assert_accessible(browser_page)
