"""The request queue, a request's page and the public request form in Chromium, checked with axe."""

from tidings.web.tests.browser import PHONE, assert_accessible, assert_no_horizontal_overflow, browser_test, visit

pytestmark = browser_test


def _requests(acme):
    from freezegun import freeze_time

    from tidings.contacts.actions import contact_create
    from tidings.subject_requests import actions
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system

    with use_workspace(acme):
        ada = contact_create({"email": "ada@analytical.example", "firstname": "Ada"}, principal=system())
        grace = contact_create({"email": "grace@navy.example", "firstname": "Grace"}, principal=system())
        with freeze_time("2026-01-05"):
            late = actions.request_receive("access", source="operator", contact_id=ada.id, verified=True,
                                           principal=system())  # fmt: skip
        fresh = actions.request_receive("rectification", source="operator", contact_id=grace.id, verified=True,
                                        details="My name is spelt Grace", principal=system())  # fmt: skip
    return late, fresh


def test_a_member_works_through_the_queue(alice_page, acme):
    late, fresh = _requests(acme)
    visit(alice_page, "/w/acme/privacy/requests/")
    assert alice_page.get_by_test_id("overdue-alert").is_visible()
    assert_accessible(alice_page)
    alice_page.get_by_role("link", name=f"#{fresh.pk}").click()
    alice_page.get_by_text("My name is spelt Grace").wait_for()
    assert_accessible(alice_page)
    alice_page.get_by_role("button", name="Approve").click()
    alice_page.get_by_text("The request is updated.").wait_for()
    alice_page.get_by_role("button", name="Corrections made: complete").click()
    alice_page.get_by_text("The request is updated.").wait_for()
    assert alice_page.get_by_test_id("status").inner_text() == "Completed"
    assert_accessible(alice_page)


def test_the_queue_fits_a_phone(alice_page, acme):
    _requests(acme)
    alice_page.set_viewport_size(PHONE)
    visit(alice_page, "/w/acme/privacy/requests/")
    assert_no_horizontal_overflow(alice_page)
    assert_accessible(alice_page)


def test_a_visitor_asks_for_its_data(browser_page, acme):
    visit(browser_page, "/m/acme/privacy/request")
    assert_accessible(browser_page)
    browser_page.get_by_role("button", name="Send my request").click()
    browser_page.get_by_role("alert").wait_for()
    assert_accessible(browser_page)
    browser_page.get_by_label("Your email address").fill("someone@nowhere.example")
    browser_page.get_by_label("Access: a copy of all data held").check()
    browser_page.get_by_role("button", name="Send my request").click()
    browser_page.get_by_role("heading", name="Check your inbox").wait_for()
    assert_accessible(browser_page)
