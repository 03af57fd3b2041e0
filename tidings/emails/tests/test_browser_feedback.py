"""Feedback's pages in Chromium with axe: a contact unsubscribes from a message's link; a member reads an
email's stats and suppresses then releases an address; the phone layout."""

from tidings.web.tests.browser import PHONE, assert_accessible, assert_no_horizontal_overflow, browser_test, visit

pytestmark = browser_test


def _sent(acme):
    from tidings.contacts.actions import contact_create
    from tidings.emails.tests.conftest import allow_tracking, make_sent
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system

    with use_workspace(acme):
        ada = contact_create({"email": "ada@analytical.example", "firstname": "Ada"}, principal=system())
        grace = contact_create({"email": "grace@hopper.example", "firstname": "Grace"}, principal=system())
        allow_tracking(ada)
        return make_sent(ada, grace)


def test_a_contact_unsubscribes_from_the_messages_link(browser_page, acme):
    from tidings.contacts.selectors import contact_dnc
    from tidings.tenancy.context import use_workspace

    sent = _sent(acme)
    visit(browser_page, f"/m/acme/e/u/{sent.token(sent.ada)}")
    assert_accessible(browser_page)
    assert "ada@analytical.example" not in browser_page.content()
    with use_workspace(acme):
        assert contact_dnc(sent.ada.id) == []  # opening the page changed nothing
    browser_page.get_by_role("button", name="Unsubscribe from all email").click()
    browser_page.get_by_text("You are unsubscribed.").wait_for()
    assert browser_page.get_by_role("link", name="your preferences").is_visible()
    assert_accessible(browser_page)
    browser_page.set_viewport_size(PHONE)
    assert_no_horizontal_overflow(browser_page)
    with use_workspace(acme):
        assert [row.reason for row in contact_dnc(sent.ada.id)] == ["unsubscribed"]


def test_a_member_reads_the_stats_and_manages_the_suppression_list(alice_page, acme, live_server):
    sent = _sent(acme)
    alice_page.request.get(live_server.url + f"/m/acme/e/o/{sent.token(sent.ada)}.gif")
    visit(alice_page, f"/w/acme/emails/{sent.email.pk}/stats/")
    assert "Opens by day" in alice_page.inner_text("main")
    assert_accessible(alice_page)
    alice_page.get_by_role("link", name="Suppression list").click()
    alice_page.wait_for_url("**/emails/suppressions/")
    assert "No address is suppressed." in alice_page.inner_text("main")
    assert_accessible(alice_page)
    alice_page.get_by_label("Email address").fill("carol@made-up.example")
    alice_page.get_by_role("button", name="Suppress").click()
    alice_page.get_by_text("The address is suppressed").wait_for()
    assert "carol@made-up.example" not in alice_page.inner_text("main")
    assert "Added by a member" in alice_page.inner_text("main")
    assert_accessible(alice_page)
    alice_page.get_by_role("button", name="Remove…").click()
    alice_page.get_by_role("dialog").get_by_role("button", name="Remove…").click()
    alice_page.get_by_text("The address is off the suppression list.").wait_for()
    assert_accessible(alice_page)
    alice_page.set_viewport_size(PHONE)
    for path in (f"/w/acme/emails/{sent.email.pk}/stats/", "/w/acme/emails/suppressions/"):
        visit(alice_page, path)
        assert_no_horizontal_overflow(alice_page)
        assert_accessible(alice_page)
