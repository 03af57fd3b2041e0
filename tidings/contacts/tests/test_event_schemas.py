"""Event data is allow-listed per event type: undeclared keys and wrong kinds never reach the table."""

import pytest

from tidings.accounts.permissions import system_principal
from tidings.contacts import actions
from tidings.contacts.events import EVENT_SCHEMAS, EventDataRejected, check_event_data, register_event_schema
from tidings.contacts.models import EventType
from tidings.events.models import Event

NEEDLE = "needle.7f3a@secret.example"


def _workspace(contact):
    from tidings.tenancy.selectors import workspace_by_id

    return workspace_by_id(contact.workspace_id)


def test_every_event_type_declares_a_schema():
    assert set(EventType.values) <= set(EVENT_SCHEMAS)


def test_a_key_outside_the_schema_never_reaches_the_table_through_events_append(ada):
    with pytest.raises(EventDataRejected, match="keys not in its schema: referrer"):
        actions.events_append(
            [{"contact_id": ada.id, "type": EventType.PAGE_HIT, "data": {"page": 1, "referrer": NEEDLE}}],
            principal=system_principal(_workspace(ada), reason="test"),
        )

    assert not Event.objects.filter(type=EventType.PAGE_HIT).exists()


def test_a_key_outside_the_schema_never_reaches_the_table_through_a_model_save(ada):
    with pytest.raises(EventDataRejected):
        Event.objects.create(workspace_id=ada.workspace_id, contact_id=ada.id, type=EventType.DNC_ADDED,
                                    data={"channel": "email", "comment": NEEDLE})  # fmt: skip

    assert not Event.objects.filter(type=EventType.DNC_ADDED).exists()


def test_a_key_outside_the_schema_never_reaches_the_table_through_the_bulk_writer(ada):
    before = Event.objects.filter(type=EventType.CONTACT_IMPORTED).count()

    with pytest.raises(EventDataRejected):
        actions.contacts_bulk_upsert([{"email": "zoe@people.example"}], lawful_basis="consent",
                                     source={"import": 1, "file": NEEDLE},
                                     principal=system_principal(_workspace(ada), reason="test"))  # fmt: skip

    assert Event.objects.filter(type=EventType.CONTACT_IMPORTED).count() == before


def test_a_value_of_the_wrong_kind_is_rejected():
    with pytest.raises(EventDataRejected, match="wrong kind for page"):
        check_event_data(EventType.PAGE_HIT, {"page": NEEDLE})


def test_a_token_value_cannot_carry_an_address_or_a_sentence():
    with pytest.raises(EventDataRejected, match="wrong kind for reason"):
        check_event_data(EventType.DNC_ADDED, {"channel": "email", "reason": NEEDLE})


def test_a_rejection_names_keys_never_values():
    with pytest.raises(EventDataRejected) as caught:
        check_event_data(EventType.PAGE_HIT, {"email": NEEDLE, "page": NEEDLE})

    assert NEEDLE not in str(caught.value)


def test_an_ip_is_truncated_to_its_network():
    assert check_event_data(EventType.PAGE_HIT, {"ip": "203.0.113.77"}) == {"ip": "203.0.113.0/24"}


def test_the_actions_own_events_fit_their_schemas(in_acme, ada, grace):
    principal = system_principal(in_acme, reason="test")
    actions.dnc_add(ada.id, reason="manual", principal=principal)
    actions.dnc_remove(ada.id, principal=principal)
    actions.contact_points_change(ada.id, "plus", 5, principal=principal)
    actions.contact_merge(ada.id, grace.id, principal=principal)

    types = set(Event.objects.filter(contact_id=ada.id).values_list("type", flat=True))
    assert {EventType.DNC_ADDED, EventType.DNC_REMOVED, EventType.POINTS_CHANGED, EventType.CONTACT_MERGED} <= types


def test_a_type_cannot_be_declared_twice_with_other_keys():
    with pytest.raises(ValueError, match="already has another schema"):
        register_event_schema(EventType.TAG_ADDED, tag_id="int")
