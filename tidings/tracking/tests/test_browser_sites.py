"""The site settings pages in Chromium: register a site, read its snippet, rotate its key in a dialog; axe, phone."""

from tidings.web.tests.browser import PHONE, assert_accessible, assert_no_horizontal_overflow, browser_test, visit

pytestmark = browser_test


def _site():
    from tidings.tenancy.context import use_workspace
    from tidings.tenancy.selectors import workspace_by_slug
    from tidings.tracking.models import Site

    with use_workspace(workspace_by_slug("acme")):
        return Site.objects.get(name="Shop")


def test_register_a_site_read_its_snippet_and_rotate_its_key(alice_page, acme):
    visit(alice_page, "/w/acme/settings/sites/")
    assert "No sites yet" in alice_page.inner_text("main")
    assert_accessible(alice_page)
    alice_page.get_by_role("navigation").get_by_role("link", name="Sites").first.wait_for()

    alice_page.get_by_role("link", name="New site").first.click()
    alice_page.wait_for_url("**/settings/sites/new/")
    alice_page.get_by_label("Name").fill("Shop")
    alice_page.get_by_label("Domains").fill("shop.example\nnot a host!")
    alice_page.get_by_role("button", name="Create site").click()
    alice_page.locator("#id_domains_error").wait_for()
    assert "entry 2 is not a host name" in alice_page.locator("#id_domains_error").inner_text()
    assert_accessible(alice_page)
    alice_page.console_problems.clear()  # the refused form's 400, which Chromium logs as a failed load

    alice_page.get_by_label("Domains").fill("shop.example\n.blog.example")
    alice_page.get_by_label("Unless the visitor objects (opt-out)").check()
    alice_page.get_by_role("button", name="Create site").click()
    alice_page.wait_for_url("**/settings/sites/*/")
    key = _site().public_key
    snippet = alice_page.get_by_label("Snippet for Shop").input_value()
    assert f"'{key}'" in snippet and "/t.js" in snippet and "tidings('pageview')" in snippet
    assert "/m/acme/mtc.js" in alice_page.get_by_label("Mautic snippet for this workspace").input_value()
    assert not alice_page.console_problems, list(alice_page.console_problems)
    assert_accessible(alice_page)

    alice_page.get_by_role("button", name="Rotate key…").click()
    dialog = alice_page.get_by_role("dialog", name="Rotate this site's key?")
    assert "stops working at once" in dialog.inner_text()
    assert_accessible(alice_page)
    dialog.get_by_role("button", name="Rotate key…").click()
    alice_page.locator(".toast").wait_for()
    rotated = _site().public_key
    assert rotated != key and f"'{rotated}'" in alice_page.get_by_label("Snippet for Shop").input_value()


def test_the_site_pages_fit_a_phone(alice_page, acme):
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system
    from tidings.tracking import actions

    with use_workspace(acme):
        site = actions.site_create(name="Shop", domains=["shop.example"], principal=system(acme))
    alice_page.set_viewport_size(PHONE)
    for path in ("/w/acme/settings/sites/", "/w/acme/settings/sites/new/", f"/w/acme/settings/sites/{site.pk}/"):
        visit(alice_page, path)
        assert_no_horizontal_overflow(alice_page)
        assert_accessible(alice_page)
