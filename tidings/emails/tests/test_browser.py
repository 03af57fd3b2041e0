"""The email list, editor, preview and drag-and-drop builder in Chromium, checked with axe and the strict CSP."""

import pytest

from tidings.web.tests.browser import PHONE, assert_accessible, assert_no_horizontal_overflow, browser_test, visit

pytestmark = browser_test


@pytest.fixture
def welcome_email(acme):
    from tidings.emails.actions import authoring
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system

    with use_workspace(acme):
        return authoring.email_create(principal=system(), name="Welcome", subject="Welcome aboard",
                                      html="<h1>Welcome</h1><p>Hello {contactfield=firstname|there}</p>"
                                      "<img src=x onerror=\"document.title='pwned'\">")  # fmt: skip


def test_create_a_code_email_and_preview_it_with_a_contact(alice_page, acme):
    from tidings.contacts.actions import contact_create
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system

    with use_workspace(acme):
        ada = contact_create({"email": "ada@analytical.example", "firstname": "Ada"}, principal=system())
    visit(alice_page, "/w/acme/emails/")
    assert_accessible(alice_page)
    alice_page.get_by_role("link", name="New email").first.click()
    assert_accessible(alice_page)
    alice_page.get_by_label("Subject").fill("Spring news")
    alice_page.get_by_label("HTML code").check()
    alice_page.get_by_role("button", name="Create email").click()
    alice_page.get_by_text("Email “Spring news” created.").wait_for()
    alice_page.get_by_label("HTML", exact=True).fill("<h1>Spring</h1><p>Hi {contactfield=firstname|there}!</p>")
    alice_page.get_by_role("button", name="Save email").click()
    alice_page.get_by_text("(version 2)").wait_for()
    alice_page.get_by_label("Contact id").fill(str(ada.id))
    alice_page.get_by_role("button", name="Preview", exact=True).click()
    frame = alice_page.frame_locator("iframe.email-preview")
    frame.get_by_text("Hi Ada!").wait_for()
    assert_accessible(alice_page)
    visit(alice_page, "/w/acme/emails/")
    assert alice_page.get_by_role("link", name="Spring news").is_visible()


def test_authored_html_runs_no_script_in_the_preview(alice_page, welcome_email):
    alice_page.goto(f"/w/acme/emails/{welcome_email.pk}/")  # not visit(): the blocked handler is reported
    alice_page.frame_locator("iframe.email-preview").get_by_role("heading", name="Welcome").wait_for()
    assert alice_page.title() != "pwned"
    assert any("sandboxed" in problem for problem in alice_page.console_problems)
    alice_page.console_problems.clear()
    assert alice_page.locator("iframe.email-preview").get_attribute("sandbox") == ""
    assert_accessible(alice_page)


def test_the_editor_fits_a_phone(alice_page, acme):
    from tidings.emails.actions import authoring
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system

    with use_workspace(acme):
        email = authoring.email_create(principal=system(), subject="Hello", html="<h1>Hello</h1>")
    alice_page.set_viewport_size(PHONE)
    visit(alice_page, f"/w/acme/emails/{email.pk}/")
    assert_no_horizontal_overflow(alice_page)
    assert_accessible(alice_page)


def test_the_builder_loads_mjml_adds_a_block_and_saves(alice_page, acme):
    from tidings.emails.actions import authoring
    from tidings.emails.models import Email
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system

    with use_workspace(acme):
        email = authoring.email_create(principal=system(), subject="Newsletter", editor="builder", theme="newsletter")
    visit(alice_page, f"/w/acme/emails/{email.pk}/builder/")
    alice_page.wait_for_function("() => window.tidingsBuilder && window.tidingsBuilder.getHtml().includes('<mjml')")
    frame = alice_page.frame_locator("#gjs iframe.gjs-frame")
    frame.get_by_text("This month's news").wait_for()
    alice_page.evaluate(
        """() => { const wrapper = window.tidingsBuilder.getWrapper();
                   const column = wrapper.findType('mj-column')[0];
                   column.append('<mj-text>Added in the builder {contactfield=firstname|friend}</mj-text>'); }"""
    )
    assert_accessible(alice_page)
    with alice_page.expect_navigation():
        alice_page.get_by_role("button", name="Save email").click()
    alice_page.get_by_text("(version 2)").wait_for()
    assert not alice_page.console_problems, list(alice_page.console_problems)
    with use_workspace(acme):
        saved = Email.objects.get(pk=email.pk)
    assert "Added in the builder" in saved.source and "Added in the builder" in saved.html
    assert saved.version == 2
