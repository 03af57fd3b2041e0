"""The campaign builder in Chromium with axe and the strict CSP: a campaign built with keyboard-usable forms
(segment source -> wait -> send email -> clicked decision -> tag), published, then the list and a journey."""

import pytest

from tidings.web.tests.browser import PHONE, assert_accessible, assert_no_horizontal_overflow, browser_test, visit

pytestmark = browser_test


@pytest.fixture
def material(acme):
    from tidings.campaigns.tests.conftest import make_contact, make_email, make_segment
    from tidings.tenancy.context import use_workspace

    with use_workspace(acme):
        ada = make_contact({"email": "ada@analytical.example", "firstname": "Ada"})
        segment = make_segment([ada.id], name="Readers")
        email = make_email(name="Hello readers", kind="template")
    return {"ada": ada, "segment": segment, "email": email}


def _add_step(page, link: str, kind: str) -> None:
    page.get_by_role("link", name=link).click()
    page.get_by_label("Kind of step").select_option(label=kind)
    page.get_by_role("button", name="Next").click()
    assert_accessible(page)


def test_build_publish_and_follow_a_contact(alice_page, acme, material):
    from tidings.campaigns.models import Campaign
    from tidings.campaigns.tests.conftest import add, run
    from tidings.tenancy.context import use_workspace

    page = alice_page
    visit(page, "/w/acme/campaigns/")
    assert_accessible(page)
    page.get_by_role("link", name="New campaign").first.click()
    page.get_by_label("Name", exact=True).fill("Welcome readers")
    page.get_by_role("button", name="Create campaign").click()
    page.get_by_text("Campaign “Welcome readers” created.").wait_for()
    assert_accessible(page)

    page.get_by_label("Contacts enter from").select_option("segment")
    page.get_by_label("Segment", exact=True).select_option(label="Readers")
    page.get_by_role("button", name="Add source").click()
    page.get_by_text("Joins the segment “Readers”").wait_for()

    _add_step(page, "Add a first step", "Wait")
    page.get_by_label("Wait", exact=True).select_option("interval")
    page.get_by_label("For", exact=True).fill("2")
    page.get_by_label("Unit", exact=True).select_option(label="hours")
    page.get_by_role("button", name="Add step").click()
    page.get_by_role("heading", name="Step 1: Wait 2 hours").wait_for()

    _add_step(page, "Add after step 1", "Send an email")
    page.get_by_label("Email", exact=True).select_option(label="Hello readers")
    page.get_by_role("button", name="Add step").click()
    page.get_by_role("heading", name="Step 2: Send “Hello readers”").wait_for()

    _add_step(page, "Add after step 2", "Decision on behaviour")
    page.get_by_label("The contact has").select_option("clicked_email")
    page.get_by_label("Email", exact=True).select_option(label="Hello readers")
    page.get_by_label("Within").fill("1")
    page.get_by_label("Unit of the wait").select_option(label="days")
    page.get_by_role("button", name="Add step").click()
    page.get_by_text("Step added: Decision on behaviour.").wait_for()

    _add_step(page, "Add on yes of step 3", "Add tags")
    page.get_by_label("Tags").fill("clicked")
    page.get_by_role("button", name="Add step").click()
    page.get_by_role("heading", name="Step 4: Add tags: clicked").wait_for()
    assert_accessible(page)

    page.get_by_role("link", name="Publish").first.click()
    assert_accessible(page)
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("Campaign “Welcome readers” published.").wait_for()

    with use_workspace(acme):
        campaign = Campaign.objects.get(name="Welcome readers")
        assert campaign.status == "published" and campaign.version == 1
        graph = campaign.graph
        steps = {s["id"]: s for s in graph["steps"]}
        assert graph["start"] == 1 and steps[1]["next"] == 2 and steps[2]["next"] == 3 and steps[3]["yes"] == 4
        add(campaign, material["ada"])
        run()

    visit(page, "/w/acme/campaigns/")
    row = page.get_by_role("row", name="Welcome readers")
    assert "published" in row.inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="Welcome readers").click()
    page.get_by_text("1 waiting").first.wait_for()
    page.get_by_role("link", name=f"Journey of contact {material['ada'].id}").click()
    page.get_by_role("cell", name="Step 1: Wait 2 hours").wait_for()
    assert_accessible(page)


def test_the_builder_fits_a_phone(alice_page, acme):
    from tidings.campaigns.tests.conftest import publish
    from tidings.tenancy.context import use_workspace

    with use_workspace(acme):
        campaign = publish({"id": 1, "kind": "condition", "test": "tag", "tag": "vip", "yes": 2, "no": 3},
                           {"id": 2, "kind": "add_tags", "tags": ["a"]}, {"id": 3, "kind": "exit"})  # fmt: skip
    alice_page.set_viewport_size(PHONE)
    visit(alice_page, f"/w/acme/campaigns/{campaign.pk}/")
    assert_no_horizontal_overflow(alice_page)
    assert_accessible(alice_page)
