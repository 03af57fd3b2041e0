"""The segment builder in Chromium: a nested group, the live count, saving, the members; axe and screenshots."""

from tidings.web.tests.browser import (
    PHONE,
    SHOWCASE_PEOPLE,
    assert_accessible,
    assert_no_horizontal_overflow,
    assert_screenshot,
    browser_test,
    visit,
)

pytestmark = browser_test


def _count(page) -> str:
    return page.locator("[data-preview-count]").get_attribute("data-preview-count")


def _wait_for_count(page, expected: int) -> None:
    page.wait_for_selector(f'[data-preview-count="{expected}"]')


def test_build_a_segment_with_a_nested_group_and_open_its_members(alice_page, showcase):
    visit(alice_page, "/w/acme/segments/")
    assert_accessible(alice_page)
    alice_page.get_by_role("link", name="New segment").first.click()
    alice_page.wait_for_selector("[data-segment-builder]:not([hidden])")
    assert alice_page.locator("[data-segment-json]").is_hidden()
    _wait_for_count(alice_page, 0)

    alice_page.get_by_label("Name").fill("VIPs in London or Milan")
    # Filter 1: has the tag vip (Ada, Chiara, Greta).
    alice_page.get_by_role("button", name="Add filter").click()
    alice_page.locator("#seg-filters-0-kind").select_option("tag")
    alice_page.locator("#seg-filters-0-value").select_option(label="vip")
    _wait_for_count(alice_page, 3)
    # A group: the city is London or Milan (Ada, Chiara).
    alice_page.get_by_role("button", name="Add group").click()
    alice_page.locator("#seg-filters-1-match").select_option("any")
    alice_page.locator("#seg-filters-1-filters-0-field").select_option("city")
    alice_page.locator("#seg-filters-1-filters-0-operator").select_option("equals")
    alice_page.locator("#seg-filters-1-filters-0-value").fill("London")
    alice_page.locator("#seg-filters-1-add").click()
    alice_page.locator("#seg-filters-1-filters-1-field").select_option("city")
    alice_page.locator("#seg-filters-1-filters-1-operator").select_option("equals")
    alice_page.locator("#seg-filters-1-filters-1-value").fill("Milan")
    _wait_for_count(alice_page, 2)
    assert "Ada Quillfeather" in alice_page.locator(".preview-sample").inner_text()
    assert not alice_page.console_problems, list(alice_page.console_problems)
    assert_accessible(alice_page)
    assert_screenshot(alice_page, "segment-builder-1366")

    alice_page.get_by_role("button", name="Create segment").click()
    alice_page.wait_for_url("**/segments/*/")
    rows = alice_page.locator("#members-rows tr")
    assert rows.count() == 2
    assert "Chiara" in alice_page.locator("#segment-members").inner_text()
    assert_accessible(alice_page)
    assert_screenshot(
        alice_page, "segment-members-1366", mask=[alice_page.locator("time"), alice_page.locator(".chart")]
    )


def test_an_error_is_shown_beside_its_filter(alice_page, showcase):
    visit(alice_page, "/w/acme/segments/new/")
    alice_page.get_by_role("button", name="Add filter").click()
    alice_page.locator("#seg-filters-0-field").select_option("points")
    alice_page.locator("#seg-filters-0-operator").select_option("gt")
    alice_page.locator("#seg-filters-0-value").fill("3")
    _wait_for_count(alice_page, 0)
    alice_page.locator("#seg-filters-0-operator").select_option("between")
    alice_page.locator("#seg-filters-0-low").fill("5")
    error = alice_page.locator('.seg-error[data-error-for="filters.0"]')
    error.wait_for(state="visible")
    assert error.inner_text()
    assert_accessible(alice_page)


def test_the_segment_pages_fit_a_phone(alice_page, showcase):
    alice_page.set_viewport_size(PHONE)
    for path in ("/w/acme/segments/", "/w/acme/segments/new/"):
        visit(alice_page, path)
        assert_no_horizontal_overflow(alice_page)


def _wait_for_sample(page, name: str) -> None:
    page.wait_for_selector(f".preview-sample:has-text('{name}')")


def test_activity_data_visit_source_and_consent_filters(alice_page, showcase, acme):
    """Ada visited /pricing from the newsletter on her phone and consented to marketing email; Bram read the blog."""
    from tidings.consent.actions import consent_record
    from tidings.contacts.models import Contact
    from tidings.events.actions import events_record
    from tidings.events.registry import code_for
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system

    with use_workspace(acme):
        ada, bram = Contact.objects.order_by("id")[:2]
        hit, p = code_for("page.hit"), system(acme)
        pricing = {
            "url": "https://acme.example/pricing",
            "utm": "newsletter|email|spring",
            "ctx": "mobile|iOS|Safari|GB",
        }
        blog = {"url": "https://acme.example/blog", "ctx": "desktop|Linux|Firefox|"}
        events_record([{"type": hit, "contact_id": ada.id, "data": pricing},
                       {"type": hit, "contact_id": bram.id, "data": blog}], principal=p)  # fmt: skip
        consent_record(purpose="marketing_email", given=True, method="form", contact_id=ada.id, principal=p)

    visit(alice_page, "/w/acme/segments/new/")
    alice_page.get_by_role("button", name="Add filter").click()
    alice_page.locator("#seg-filters-0-kind").select_option("event")
    alice_page.locator("#seg-filters-0-event").select_option("page.hit")
    _wait_for_count(alice_page, 2)
    alice_page.locator("#seg-filters-0-adddata").click()
    alice_page.locator("#seg-filters-0-data-0-key").select_option("url__contains")
    alice_page.locator("#seg-filters-0-data-0-value").fill("/pricing")
    _wait_for_count(alice_page, 1)
    _wait_for_sample(alice_page, "Ada")
    assert_accessible(alice_page)

    alice_page.locator("#seg-filters-0-kind").select_option("traffic")
    alice_page.locator("#seg-filters-0-attribute").select_option("device")
    alice_page.locator("#seg-filters-0-value").fill("DESKTOP")
    _wait_for_sample(alice_page, "Bram")
    alice_page.locator("#seg-filters-0-attribute").select_option("utm_source")
    alice_page.locator("#seg-filters-0-comparison").select_option("starts_with")
    alice_page.locator("#seg-filters-0-value").fill("news")
    _wait_for_sample(alice_page, "Ada")
    _wait_for_count(alice_page, 1)
    assert_accessible(alice_page)

    alice_page.locator("#seg-filters-0-kind").select_option("consent")
    alice_page.locator("#seg-filters-0-purpose").select_option("tracking")
    _wait_for_count(alice_page, 0)
    alice_page.locator("#seg-filters-0-purpose").select_option("marketing_email")
    _wait_for_count(alice_page, 1)
    alice_page.locator("#seg-filters-0-operator").select_option("has_not")
    _wait_for_count(alice_page, len(SHOWCASE_PEOPLE) - 1)
    assert not alice_page.console_problems, list(alice_page.console_problems)
    assert_accessible(alice_page)
