"""Forms and destructive actions in Chromium: inline errors that keep the place, tokens, confirm dialogs, toasts."""

from tidings.web.tests.browser import browser_test, visit

pytestmark = browser_test


def _in_viewport(page, selector: str) -> bool:
    return page.eval_on_selector(
        selector, "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"
    )


def test_an_empty_note_shows_its_error_in_place_without_reloading(alice_page, showcase):
    visit(alice_page, f"/w/acme/contacts/{showcase.id}/")
    alice_page.evaluate("() => { window.notReloaded = true; }")
    alice_page.get_by_role("button", name="Add note").click()
    error = alice_page.get_by_text("Write the note first.")
    error.wait_for()
    assert alice_page.evaluate("() => window.notReloaded === true")
    assert _in_viewport(alice_page, "#notes .errorlist")


def test_a_note_added_with_htmx_appears_in_the_panel(alice_page, showcase):
    visit(alice_page, f"/w/acme/contacts/{showcase.id}/")
    alice_page.get_by_label("Text").fill("Sent the brochure.")
    alice_page.get_by_role("button", name="Add note").click()
    alice_page.locator("#notes").get_by_text("Sent the brochure.").wait_for()


def test_a_refused_new_field_keeps_its_error_in_view(alice_page, showcase):
    visit(alice_page, "/w/acme/settings/fields/")
    alice_page.get_by_role("button", name="Create field").click()
    alice_page.locator("section[aria-labelledby=new-field] .errorlist").first.wait_for()
    assert _in_viewport(alice_page, "section[aria-labelledby=new-field] .errorlist")


def test_ticking_three_permissions_gives_a_token_with_exactly_those(alice_page, showcase):
    from tidings.api.models import ApiToken

    visit(alice_page, "/w/acme/settings/api-tokens/")
    alice_page.get_by_label("Name").fill("Newsletter sync")
    for permission in ("workspace:view", "contacts:view", "contacts:edit"):
        alice_page.locator(f"input[name=permissions][value='{permission}']").check()
    alice_page.get_by_role("button", name="Create token").click()
    alice_page.get_by_test_id("new-secret").wait_for()
    token = ApiToken.objects.get(name="Newsletter sync")
    assert sorted(token.permissions) == ["contacts:edit", "contacts:view", "workspace:view"]
    assert token.expires_at is not None  # the suggested 90 days


def test_the_copy_button_copies_the_new_token(alice_page, showcase):
    alice_page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    visit(alice_page, "/w/acme/settings/api-tokens/")
    alice_page.get_by_label("Name").fill("Copied")
    alice_page.locator("input[name=permissions][value='contacts:view']").check()
    alice_page.get_by_role("button", name="Create token").click()
    secret = alice_page.get_by_test_id("new-secret").inner_text()
    alice_page.get_by_role("button", name="Copy").click()
    alice_page.get_by_role("button", name="Copied").wait_for()
    assert alice_page.evaluate("() => navigator.clipboard.readText()") == secret


def _token(alice, acme):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    token, _ = api_token_create(
        workspace=acme, user=alice, name="CRM sync", permissions=["contacts:view"],
        principal=principal_for_user(alice, acme),
    )  # fmt: skip
    return token


def test_cancelling_the_revoke_dialog_keeps_the_token(alice_page, showcase, alice, acme):
    token = _token(alice, acme)
    visit(alice_page, "/w/acme/settings/api-tokens/")
    alice_page.get_by_role("button", name="Revoke").click()
    dialog = alice_page.get_by_role("dialog", name="Revoke this token?")
    assert dialog.is_visible()
    dialog.get_by_role("button", name="Cancel").click()
    assert not dialog.is_visible()
    token.refresh_from_db()
    assert token.revoked_at is None


def test_confirming_the_revoke_dialog_revokes_and_says_so_in_a_toast(alice_page, showcase, alice, acme):
    token = _token(alice, acme)
    visit(alice_page, "/w/acme/settings/api-tokens/")
    alice_page.get_by_role("button", name="Revoke").click()
    alice_page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    alice_page.locator(".toast").get_by_text("is revoked").wait_for()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_removing_a_member_asks_in_a_dialog_first(alice_page, showcase, acme, make_user):
    from tidings.accounts.actions import membership_create
    from tidings.accounts.models import Membership
    from tidings.tests.principals import system

    dave = make_user("dave@acme.example")
    membership_create(workspace=acme, user=dave, role="marketer", principal=system(acme))
    visit(alice_page, "/w/acme/settings/members/")
    alice_page.get_by_role("button", name="Remove dave@acme.example").click()
    dialog = alice_page.get_by_role("dialog", name="Remove this member?")
    assert "dave@acme.example will lose access" in dialog.inner_text()
    dialog.get_by_role("button", name="Remove member").click()
    alice_page.locator(".toast").wait_for()
    assert not Membership.objects.filter(user=dave, workspace=acme).exists()


def test_the_kit_page_shows_django_messages_as_toasts(alice_page, showcase):
    visit(alice_page, "/w/acme/ui/")
    alice_page.get_by_role("button", name="Show one toast of each level").click()
    toasts = alice_page.locator(".toasts .toast")
    toasts.first.wait_for()
    assert toasts.count() == 4
    alice_page.locator(".toast.error").get_by_role("button", name="Dismiss").click()
    assert toasts.count() == 3
