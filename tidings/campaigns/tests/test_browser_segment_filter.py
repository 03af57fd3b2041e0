"""The segment builder's "in campaign" filter in Chromium with axe: pick a campaign, the live count follows its
active contacts; "is in none of the campaigns" counts the others."""

from tidings.web.tests.browser import assert_accessible, browser_test, visit

pytestmark = browser_test


def _wait_for_count(page, expected: int) -> None:
    page.wait_for_selector(f'[data-preview-count="{expected}"]')


def test_filter_a_segment_on_a_campaign(alice_page, showcase, acme):
    from tidings.campaigns.tests.conftest import add, publish
    from tidings.contacts.models import Contact
    from tidings.tenancy.context import use_workspace

    with use_workspace(acme):
        ada = Contact.objects.order_by("id").first()
        everyone = Contact.objects.count()
        campaign = publish({"id": 1, "kind": "delay", "mode": "interval", "seconds": 86400}, name="Nurture")
        add(campaign, ada)

    visit(alice_page, "/w/acme/segments/new/")
    alice_page.get_by_role("button", name="Add filter").click()
    alice_page.locator("#seg-filters-0-kind").select_option("campaign")
    alice_page.locator("#seg-filters-0-value").select_option(str(campaign.pk))
    _wait_for_count(alice_page, 1)
    assert_accessible(alice_page)
    alice_page.locator("#seg-filters-0-operator").select_option("not_in")
    _wait_for_count(alice_page, everyone - 1)
    assert_accessible(alice_page)
