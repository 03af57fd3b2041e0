"""The demo seeder fills the demo workspace's contacts pages, once."""

from tidings.contacts import selectors
from tidings.contacts.demo import DEMO_CONTACTS, seed_demo_contacts


def test_the_demo_workspace_gets_contacts_companies_notes_and_events(in_acme):
    seed_demo_contacts(in_acme)
    seed_demo_contacts(in_acme)  # run again: nothing is added

    first = selectors.contacts_page(order="id", limit=1).items[0]
    assert selectors.contacts_count() == DEMO_CONTACTS
    assert len(selectors.companies_page().items) == 5
    assert selectors.contacts_count(search="is:identified") == DEMO_CONTACTS
    assert selectors.contact_notes(first.id)
    assert len(selectors.timeline(first.id).items) >= 2
    assert first.email.endswith(".example")


def test_the_seeder_is_registered(settings):
    from tidings.demo import SEEDERS

    assert seed_demo_contacts in SEEDERS
