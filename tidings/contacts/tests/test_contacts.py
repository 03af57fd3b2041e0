"""Contacts: create, upsert, update, delete, merge, tags, notes, Do-Not-Contact, companies."""

import pytest
from django.core.exceptions import ValidationError

from tidings.contacts import actions, selectors
from tidings.contacts.models import Contact, EventType
from tidings.events.models import Event
from tidings.privacy import vault
from tidings.tests.principals import system


def test_upsert_updates_the_contact_with_the_same_email(ada):
    contact, created = actions.contact_upsert(
        {"email": "ADA@analytical.example", "position": "Analyst"}, principal=system()
    )
    assert (contact.id, created) == (ada.id, False)
    view = selectors.contact_get(ada.id)
    assert view.get("position") == "Analyst" and view.get("firstname") == "Ada", "blanks never overwrite"


def test_upsert_creates_a_contact_for_a_new_email(ada):
    contact, created = actions.contact_upsert(
        {"email": "charles@cogsworth.example", "firstname": "Charles"}, principal=system()
    )
    assert created and contact.id != ada.id


def test_create_refuses_a_second_contact_with_the_same_email(ada):
    with pytest.raises(ValidationError) as refused:
        actions.contact_create({"email": "ada@analytical.example"}, principal=system())
    assert "email" in refused.value.message_dict


def test_update_refuses_another_contacts_email(ada, grace):
    with pytest.raises(ValidationError):
        actions.contact_update(grace.id, {"email": "ada@analytical.example"}, principal=system())


def test_invalid_values_are_reported_by_field(in_acme):
    with pytest.raises(ValidationError) as refused:
        actions.contact_create({"email": "not-an-address", "points": "many", "nosuchfield": "x"}, principal=system())
    assert set(refused.value.message_dict) == {"email", "points", "nosuchfield"}


def test_an_empty_value_clears_a_field(ada):
    actions.contact_update(ada.id, {"city": "", "lastname": None}, principal=system())
    view = selectors.contact_get(ada.id)
    assert view.get("city") is None and view.get("lastname") is None
    assert not selectors.contact_search("quillfeather").items, "the cleared name is no longer searchable"


def test_a_contact_becomes_identified_with_its_first_identifying_value(in_acme):
    visitor = actions.contact_create({"city": "Paris"}, principal=system())
    assert selectors.contact_get(visitor.id).is_anonymous
    actions.contact_update(visitor.id, {"email": "visitor@paris.example"}, principal=system())
    assert not selectors.contact_get(visitor.id).is_anonymous
    types = [e.code for e in selectors.timeline(visitor.id).items]
    assert EventType.CONTACT_IDENTIFIED in types


def test_tags_follow_mautics_minus_convention(ada):
    actions.contact_tags_change(ada.id, ["poetry", "-mathematics"], principal=system())
    assert selectors.contact_tags(ada.id) == ["poetry"]
    contact, _ = actions.contact_upsert(
        {"email": "ada@analytical.example"}, tags=["-poetry", "engines"], principal=system()
    )
    assert selectors.contact_tags(ada.id) == ["engines"]


def test_notes_are_encrypted_and_read_back(ada):
    note = actions.note_add(ada.id, "Called about the engine", type="call", principal=system())
    actions.note_edit(note.id, text="Called twice about the engine", principal=system())
    [view] = selectors.contact_notes(ada.id)
    assert (view.text, view.type) == ("Called twice about the engine", "call")
    actions.note_delete(note.id, principal=system())
    assert selectors.contact_notes(ada.id) == []


def test_do_not_contact_is_one_record_per_channel(ada):
    actions.dnc_add(ada.id, channel="email", reason="bounced", principal=system())
    actions.dnc_add(ada.id, channel="email", reason="unsubscribed", comment="clicked unsubscribe", principal=system())
    [record] = selectors.contact_dnc(ada.id)
    assert (record.channel, record.reason) == ("email", "unsubscribed")
    assert actions.dnc_remove(ada.id, channel="email", principal=system()) is True
    assert actions.dnc_remove(ada.id, channel="email", principal=system()) is False


def test_a_contact_has_one_primary_company_whose_name_it_carries(ada):
    engines = actions.company_create({"companyname": "Analytical Engines", "companycity": "London"}, principal=system())
    society = actions.company_create({"companyname": "Royal Society"}, principal=system())
    actions.company_link(ada.id, engines.id, principal=system())
    actions.company_link(ada.id, society.id, is_primary=True, principal=system())
    links = selectors.contact_companies(ada.id)
    assert [(link.company.name, link.is_primary) for link in links] == [
        ("Royal Society", True),
        ("Analytical Engines", False),
    ]
    assert selectors.contact_get(ada.id).get("company") == "Royal Society"
    actions.company_unlink(ada.id, society.id, principal=system())
    assert selectors.contact_get(ada.id).get("company") == "Analytical Engines"


def test_delete_shreds_the_contact(ada):
    actions.contact_delete(ada.id, principal=system())
    with pytest.raises(Contact.DoesNotExist):
        selectors.contact_get(ada.id)
    with pytest.raises(vault.KeyShredded):
        vault.keyring().data_key(ada.id)


def test_merge_keeps_everything_of_both_contacts(ada, in_acme):
    twin = actions.contact_create(
        {"email": "countess@quillfeather.example", "phone": "+44 20 7946 0000", "lastname": "King"},
        tags=["poetry"],
        principal=system(),
    )
    actions.contact_update(twin.id, {"points": 5}, principal=system())
    actions.contact_update(ada.id, {"points": 10}, principal=system())
    actions.note_add(twin.id, "Signs as A.A.L.", principal=system())
    actions.dnc_add(twin.id, channel="sms", reason="manual", principal=system())
    company = actions.company_create({"companyname": "Analytical Engines"}, principal=system())
    actions.company_link(twin.id, company.id, principal=system())
    actions.events_append(
        [{"contact_id": twin.id, "type": EventType.EMAIL_OPENED, "data": {"email_id": 3}}], principal=system()
    )

    winner = actions.contact_merge(ada.id, twin.id, principal=system())

    view = selectors.contact_get(winner.id)
    assert view.email == "ada@analytical.example" and view.get("lastname") == "Quillfeather", "the winner's values win"
    assert view.get("phone") == "+44 20 7946 0000", "empty fields take the loser's values"
    assert view.get("points") == 15
    assert set(view.tags) == {"mathematics", "poetry"}
    assert [n.text for n in selectors.contact_notes(ada.id)] == ["Signs as A.A.L."]
    assert [d.channel for d in selectors.contact_dnc(ada.id)] == ["sms"]
    assert [link.company.id for link in selectors.contact_companies(ada.id)] == [company.id]
    types = {e.code for e in selectors.timeline(ada.id, limit=50).items}
    assert {EventType.EMAIL_OPENED, EventType.CONTACT_MERGED} <= types
    with pytest.raises(Contact.DoesNotExist):
        selectors.contact_get(twin.id)
    assert [v.id for v in selectors.contact_search("phone:+442079460000").items] == [ada.id]


def test_merge_is_audited_with_both_ids(ada, grace):
    from tidings.audit.models import AuditEntry

    actions.contact_merge(ada.id, grace.id, principal=system())
    entry = AuditEntry.objects.using("region_eu").get(action="contact.merged")
    assert entry.target_id == str(ada.id) and entry.data["loser_id"] == grace.id


def test_every_write_is_audited_without_personal_data(ada):
    from tidings.audit.models import AuditEntry

    actions.contact_update(ada.id, {"firstname": "Augusta"}, principal=system())
    entries = AuditEntry.objects.using("region_eu").filter(action__startswith="contact.")
    assert entries.filter(action="contact.updated").exists()
    assert all("augusta" not in str(e.data).lower() and "ada@" not in str(e.data) for e in entries)


def test_events_truncate_ips_and_refuse_personal_fields(ada):
    actions.events_append(
        [{"contact_id": ada.id, "type": EventType.PAGE_HIT, "data": {"ip": "203.0.113.77"}}], principal=system()
    )
    assert Event.objects.get(type=EventType.PAGE_HIT).data == {"ip": "203.0.113.0/24"}
    with pytest.raises(ValueError):
        actions.events_append(
            [{"contact_id": ada.id, "type": EventType.PAGE_HIT, "data": {"email": "x@y.example"}}], principal=system()
        )


def test_events_older_than_the_cutoff_are_purged_in_batches(ada):
    import datetime

    from django.utils import timezone

    old = timezone.now() - datetime.timedelta(days=400)
    actions.events_append(
        [{"contact_id": ada.id, "type": EventType.PAGE_HIT, "at": old} for _ in range(25)]
        + [{"contact_id": ada.id, "type": EventType.PAGE_HIT}],
        principal=system(),
    )
    deleted = actions.events_purge_before(
        timezone.now() - datetime.timedelta(days=365), batch_size=10, principal=system()
    )
    assert deleted == 25
    assert Event.objects.filter(type=EventType.PAGE_HIT).count() == 1


def test_timeline_pages_newest_first(ada):
    import datetime

    from django.utils import timezone

    start = timezone.now() - datetime.timedelta(hours=1)
    actions.events_append(
        [
            {"contact_id": ada.id, "type": EventType.PAGE_HIT, "at": start + datetime.timedelta(minutes=i)}
            for i in range(5)
        ],
        principal=system(),
    )
    first = selectors.timeline(ada.id, limit=3)
    second = selectors.timeline(ada.id, before=first.next_cursor, limit=3)
    seen = [e.id for e in first.items + second.items]
    assert len(seen) == len(set(seen)) == 6  # five hits and contact.created
    ats = [e.at for e in first.items + second.items]
    assert ats == sorted(ats, reverse=True)
