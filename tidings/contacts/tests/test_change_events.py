"""Each contacts action that changes tags, notes, fields or company links writes its event (for the timeline)."""

import pytest

from tidings.accounts.selectors import principal_for_user
from tidings.contacts import actions, selectors
from tidings.contacts.events import fields_token
from tidings.contacts.models import EventType, Tag
from tidings.events.selectors import contact_events
from tidings.tests.principals import system


@pytest.fixture
def as_alice(alice, acme):
    return principal_for_user(alice, acme)


def _events(contact, code) -> list[dict]:
    return list(contact_events(contact.id, [code]).values_list("data", flat=True))


def test_adding_a_tag_writes_tag_added_with_the_member(ada, as_alice, alice):
    actions.contact_tags_change(ada.id, ["vip"], principal=as_alice)

    vip = Tag.objects.get(name="vip")
    assert {"tag_id": vip.id, "by": alice.id} in _events(ada, EventType.TAG_ADDED)


def test_a_tag_already_there_writes_nothing(ada):
    actions.contact_tags_change(ada.id, ["mathematics"], principal=system())

    assert len(_events(ada, EventType.TAG_ADDED)) == 1  # the one of ada's creation


def test_removing_a_tag_writes_tag_removed(ada):
    actions.contact_tags_change(ada.id, ["-mathematics"], principal=system())

    assert _events(ada, EventType.TAG_REMOVED) == [{"tag_id": Tag.objects.get(name="mathematics").id}]


def test_removing_a_tag_the_contact_lacks_writes_nothing(ada):
    actions.tag_create("unused", principal=system())
    actions.contact_tags_change(ada.id, ["-unused"], principal=system())

    assert _events(ada, EventType.TAG_REMOVED) == []


def test_tagging_several_contacts_writes_one_event_each(ada, grace):
    actions.contacts_tag([ada.id, grace.id], ["vip"], principal=system())

    vip = {"tag_id": Tag.objects.get(name="vip").id}
    assert vip in _events(ada, EventType.TAG_ADDED) and vip in _events(grace, EventType.TAG_ADDED)


def test_adding_a_note_writes_note_added_with_its_author(ada, as_alice, alice):
    note = actions.note_add(ada.id, "Prefers calls in the morning.", principal=as_alice)

    assert _events(ada, EventType.NOTE_ADDED) == [{"note_id": note.id, "by": alice.id}]


def test_updating_fields_writes_their_aliases_and_no_value(ada, as_alice, alice):
    actions.contact_update(ada.id, {"city": "Paris", "lastname": "Brightquill"}, principal=as_alice)

    assert _events(ada, EventType.FIELDS_CHANGED) == [{"fields": "city:lastname", "count": 2, "by": alice.id}]


def test_an_update_that_changes_nothing_writes_no_event(ada):
    actions.contact_update(ada.id, {"city": "London"}, principal=system())

    assert _events(ada, EventType.FIELDS_CHANGED) == []


def test_an_upsert_into_an_existing_contact_writes_fields_changed(ada):
    actions.contact_upsert({"email": "ada@analytical.example", "city": "Cambridge"}, principal=system())

    assert _events(ada, EventType.FIELDS_CHANGED) == [{"fields": "city", "count": 1}]


def test_linking_a_company_writes_company_linked(ada, as_alice, alice):
    company = actions.company_create({"companyname": "Lumen Studios"}, principal=as_alice)

    actions.company_link(ada.id, company.id, principal=as_alice)
    actions.company_link(ada.id, company.id, principal=as_alice)  # already linked: no second event

    assert _events(ada, EventType.COMPANY_LINKED) == [{"company_id": company.id, "by": alice.id}]


def test_unlinking_a_company_writes_company_unlinked(ada):
    company = actions.company_create({"companyname": "Lumen Studios"}, principal=system())
    actions.company_link(ada.id, company.id, principal=system())

    actions.company_unlink(ada.id, company.id, principal=system())

    assert _events(ada, EventType.COMPANY_UNLINKED) == [{"company_id": company.id}]


def test_the_fields_token_keeps_whole_aliases_that_fit_and_counts_all():
    aliases = [f"custom_field_number_{i:02d}" for i in range(5)]

    token, count = fields_token(aliases)

    assert token == "custom_field_number_00:custom_field_number_01"  # a third would pass 64 characters
    assert count == 5


def test_a_timeline_without_describe_leaves_the_sentences_out(ada):
    # The APIs read the timeline too: they get the data, not the page's sentences (and pay no name lookups).
    assert {event.text for event in selectors.timeline(ada.id).items} == {""}
