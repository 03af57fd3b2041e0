"""Keyboard shortcuts: the markup shortcuts.js reads, served on every signed-in page."""

import re

from tidings.navigation import NavItem


def test_a_navigation_entry_carries_its_go_to_key(alice_client, in_acme):
    content = alice_client.get("/w/acme/").content.decode()

    assert re.search(r'<a href="/w/acme/contacts/"[^>]*data-shortcut="c"', content)
    assert re.search(r'<a href="/w/acme/"[^>]*data-shortcut="d"', content)


def test_the_shortcuts_dialog_lists_the_go_to_keys_of_the_navigation(alice_client, in_acme):
    content = alice_client.get("/w/acme/").content.decode()
    dialog = re.search(r'<dialog[^>]*id="shortcuts-dialog".*?</dialog>', content, re.S).group(0)

    assert "<kbd>g</kbd> <kbd>c</kbd></dt><dd>Go to Contacts</dd>" in dialog
    assert "<kbd>g</kbd> <kbd>d</kbd></dt><dd>Go to Dashboard</dd>" in dialog


def test_the_shortcuts_script_is_served_to_members_only(client, alice_client, in_acme):
    assert b"tidings/shortcuts.js" in alice_client.get("/w/acme/").content
    client.logout()
    assert b"tidings/shortcuts.js" not in client.get("/accounts/login/").content


def test_the_contacts_list_marks_its_search_and_its_new_action(alice_client, in_acme):
    content = alice_client.get("/w/acme/contacts/").content.decode()

    assert re.search(r'<input[^>]*name="q"[^>]*data-shortcut-search', content)
    assert re.search(r'<a class="button" href="/w/acme/contacts/new/" data-shortcut-new>', content)


def test_a_shortcut_does_not_change_how_entries_compare():
    assert NavItem("Contacts", "contacts:list", "contacts:view", shortcut="c") == NavItem(
        "Contacts", "contacts:list", "contacts:view"
    )
