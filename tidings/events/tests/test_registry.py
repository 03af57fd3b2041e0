"""Each domain declares its event types in its own code range; the store refuses codes nobody declared."""

import pytest

from tidings.events import registry, store
from tidings.events.models import Event
from tidings.events.registry import INT, URL, Retention, UnknownEventType


@pytest.fixture
def fresh_registry(monkeypatch):
    """An empty registry for the test (the real one is filled by the domains' ready())."""
    monkeypatch.setattr(registry, "_RANGES", {})
    monkeypatch.setattr(registry, "_TYPES", {})
    monkeypatch.setattr(registry, "_NAMES", {})


def test_a_domain_declares_its_types_with_schema_retention_and_personal_flag(fresh_registry):
    registry.reserve_codes("forms", range(30, 40))

    spec = registry.register_event_type("forms", 30, "form.submitted", form_id=INT, page_url=URL, personal=True)

    assert registry.event_type(30) == spec
    assert (spec.retention, spec.personal, spec.dictionary_keys) == (Retention.BEHAVIOUR, True, {"page_url": URL})
    assert registry.code_for("form.submitted") == 30


def test_a_code_outside_the_domains_range_is_refused(fresh_registry):
    registry.reserve_codes("forms", range(30, 40))

    with pytest.raises(ValueError, match="outside the codes reserved by forms"):
        registry.register_event_type("forms", 41, "form.viewed")


def test_two_domains_cannot_reserve_overlapping_ranges(fresh_registry):
    registry.reserve_codes("emails", range(40, 50))

    with pytest.raises(ValueError, match="overlap a range of emails"):
        registry.reserve_codes("sms", range(45, 55))


def test_a_name_cannot_be_taken_by_a_second_code(fresh_registry):
    registry.reserve_codes("emails", range(40, 50))
    registry.register_event_type("emails", 40, "email.sent")

    with pytest.raises(ValueError, match="taken by another code"):
        registry.register_event_type("emails", 41, "email.sent")


def test_the_contacts_domain_registered_its_types_from_its_app():
    assert registry.event_type(registry.code_for("contact.created")).domain == "contacts"
    assert registry.event_type(registry.code_for("consent.given")).retention == Retention.RECORD


def test_the_type_column_is_bound_to_no_domains_choices():
    assert not Event._meta.get_field("type").choices


def test_an_unknown_type_code_is_refused_at_write_and_nothing_is_written(in_acme):
    with pytest.raises(UnknownEventType):
        store.write([{"type": 9999, "contact_id": 1}])

    assert not Event.objects.exists()
