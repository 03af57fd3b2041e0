"""Keyboard use in Chromium: autocomplete comboboxes and the shortcuts Mautic users expect."""

from tidings.web.tests.browser import assert_accessible, browser_test, visit

pytestmark = browser_test


def _focused(page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


# Comboboxes


def test_typing_a_country_opens_a_listbox_the_arrow_keys_move_through(alice_page, showcase):
    visit(alice_page, f"/w/acme/contacts/{showcase.id}/edit/")
    country = alice_page.get_by_role("combobox", name="Country")
    country.fill("")
    country.press_sequentially("ger")
    alice_page.get_by_role("option", name="Germany (DE)").wait_for()
    assert country.get_attribute("aria-expanded") == "true"
    country.press("ArrowDown")
    active = country.get_attribute("aria-activedescendant")
    assert alice_page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    assert_accessible(alice_page)


def test_enter_picks_the_active_option_and_closes_the_list(alice_page, showcase):
    visit(alice_page, f"/w/acme/contacts/{showcase.id}/edit/")
    country = alice_page.get_by_role("combobox", name="Country")
    country.fill("")
    country.press_sequentially("germ")
    alice_page.get_by_role("option", name="Germany (DE)").wait_for()
    country.press("ArrowDown")
    country.press("Enter")
    assert country.input_value() == "DE"
    assert country.get_attribute("aria-expanded") == "false"
    assert alice_page.url.endswith("/edit/"), "Enter picked the option, it did not submit the form"


def test_escape_closes_the_list_and_keeps_the_text(alice_page, showcase):
    visit(alice_page, "/w/acme/contacts/")
    tag = alice_page.locator("#bulk-tag")
    tag.press_sequentially("news")
    alice_page.get_by_role("option", name="newsletter").wait_for()
    tag.press("Escape")
    assert tag.get_attribute("aria-expanded") == "false"
    assert tag.input_value() == "news"


def _dave(acme):
    """Add Dave Okafor to Acme as a marketer: a member an owner input can name."""
    from tidings.accounts.actions import membership_create, user_create
    from tidings.tests.principals import system

    dave = user_create(email="dave@acme.example", password=None, first_name="Dave", last_name="Okafor")
    membership_create(workspace=acme, user=dave, role="marketer", principal=system(acme))
    return dave


def test_typing_part_of_a_members_name_picks_the_contacts_owner(alice_page, showcase, acme):
    from tidings.contacts import selectors
    from tidings.tenancy.context import use_workspace

    dave = _dave(acme)
    visit(alice_page, f"/w/acme/contacts/{showcase.id}/edit/")
    owner = alice_page.get_by_role("combobox", name="Owner")
    owner.press_sequentially("okaf")
    alice_page.get_by_role("option", name="Dave Okafor <dave@acme.example>").wait_for()
    assert_accessible(alice_page)
    owner.press("ArrowDown")
    owner.press("Enter")
    assert owner.input_value() == "Dave Okafor <dave@acme.example>"
    alice_page.get_by_role("button", name="Save").click()
    alice_page.wait_for_url(f"**/contacts/{showcase.id}/")
    with use_workspace(acme):
        assert selectors.contact_get(showcase.id).fields["owner"] == dave.pk


def test_the_owner_filter_offers_nobody_and_members(alice_page, showcase, acme):
    _dave(acme)
    visit(alice_page, "/w/acme/contacts/")
    owner = alice_page.get_by_role("combobox", name="Owner")
    owner.press_sequentially("no")
    alice_page.get_by_role("option", name="Nobody").wait_for()
    owner.press("ArrowDown")
    owner.press("Enter")
    assert owner.input_value() == "Nobody"
    owner.fill("")
    owner.press_sequentially("dave")
    alice_page.get_by_role("option", name="Dave Okafor <dave@acme.example>").click()
    alice_page.get_by_role("search", name="Search and filter contacts").get_by_role("button", name="Apply").click()
    alice_page.wait_for_url("**/contacts/?*owner=*")
    assert alice_page.get_by_role("combobox", name="Owner").input_value() == "Dave Okafor <dave@acme.example>"
    assert_accessible(alice_page)


# Shortcuts


def test_slash_focuses_the_search_of_the_contacts_list(alice_page, showcase):
    visit(alice_page, "/w/acme/contacts/")
    alice_page.locator("body").press("/")
    assert _focused(alice_page) == "id_q"


def test_n_opens_a_new_contact(alice_page, showcase):
    visit(alice_page, "/w/acme/contacts/")
    alice_page.locator("body").press("n")
    alice_page.wait_for_url("**/contacts/new/")


def test_g_then_c_goes_to_contacts_and_g_then_d_to_the_dashboard(alice_page, showcase):
    visit(alice_page, "/w/acme/companies/")
    alice_page.keyboard.press("g")
    alice_page.keyboard.press("c")
    alice_page.wait_for_url("**/w/acme/contacts/")
    alice_page.keyboard.press("g")
    alice_page.keyboard.press("d")
    alice_page.wait_for_url("**/w/acme/")


def test_question_mark_shows_the_shortcuts_dialog(alice_page, showcase):
    visit(alice_page, "/w/acme/contacts/")
    alice_page.keyboard.press("?")
    dialog = alice_page.get_by_role("dialog", name="Keyboard shortcuts")
    dialog.wait_for()
    assert_accessible(alice_page)
    alice_page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")


def test_shortcuts_wait_while_typing_in_a_field(alice_page, showcase):
    visit(alice_page, "/w/acme/contacts/")
    search = alice_page.locator("#id_q")
    search.press_sequentially("n/g c")
    assert search.input_value() == "n/g c"
    assert alice_page.url.endswith("/w/acme/contacts/")
