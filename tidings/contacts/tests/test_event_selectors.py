"""Segments ask the event store for sets of contacts; the answer is a subquery of the same statement."""

import datetime

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tidings.contacts.models import Contact, EventType
from tidings.events import actions as events
from tidings.events.selectors import contact_ids_with_event, last_event_at
from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system

NOW = timezone.now()


def _record(contact, code, count=1, *, days_ago=0, data=None):
    at = NOW - datetime.timedelta(days=days_ago)
    rows = [{"type": code, "contact_id": contact.id, "at": at, "data": data or {}} for _ in range(count)]
    events.events_record(rows, principal=system())


def _ids(selector):
    return set(Contact.objects.filter(id__in=selector).values_list("id", flat=True))


def test_contacts_with_an_event_of_a_type(ada, grace):
    _record(ada, EventType.EMAIL_OPENED, data={"email_id": 1})

    assert _ids(contact_ids_with_event(EventType.EMAIL_OPENED)) == {ada.id}


def test_only_events_in_the_time_range_count(ada, grace):
    _record(ada, EventType.EMAIL_OPENED, days_ago=40)
    _record(grace, EventType.EMAIL_OPENED, days_ago=2)

    assert _ids(contact_ids_with_event(EventType.EMAIL_OPENED, since=NOW - datetime.timedelta(days=30))) == {grace.id}
    assert _ids(contact_ids_with_event(EventType.EMAIL_OPENED, until=NOW - datetime.timedelta(days=30))) == {ada.id}


def test_at_least_and_at_most_n_events(ada, grace):
    _record(ada, EventType.EMAIL_OPENED, 3)
    _record(grace, EventType.EMAIL_OPENED, 1)

    assert _ids(contact_ids_with_event(EventType.EMAIL_OPENED, min_count=2)) == {ada.id}
    assert _ids(contact_ids_with_event(EventType.EMAIL_OPENED, max_count=2)) == {grace.id}


def test_a_data_value_equals(ada, grace):
    _record(ada, EventType.EMAIL_OPENED, data={"email_id": 7})
    _record(grace, EventType.EMAIL_OPENED, data={"email_id": 8})

    assert _ids(contact_ids_with_event(EventType.EMAIL_OPENED, data={"email_id": 7})) == {ada.id}


def test_a_url_equals_or_contains_through_the_dictionary(ada, grace):
    _record(ada, EventType.PAGE_HIT, data={"url": "https://acme.example/pricing?utm_source=x"})
    _record(grace, EventType.PAGE_HIT, data={"url": "https://acme.example/blog/pricing-news"})

    assert _ids(contact_ids_with_event(EventType.PAGE_HIT, data={"url": "https://acme.example/pricing"})) == {ada.id}
    assert _ids(contact_ids_with_event(EventType.PAGE_HIT, data={"url__contains": "pricing"})) == {ada.id, grace.id}


def test_the_selector_composes_into_one_statement(ada, grace):
    _record(ada, EventType.EMAIL_OPENED, 2, data={"email_id": 1})
    _record(ada, EventType.PAGE_HIT, data={"url": "https://acme.example/"})
    selector = contact_ids_with_event(EventType.EMAIL_OPENED, min_count=2, since=NOW - datetime.timedelta(days=1))
    pages = contact_ids_with_event(EventType.PAGE_HIT, data={"url__contains": "acme"})

    with CaptureQueriesContext(connections["region_eu"]) as queries:
        found = list(Contact.objects.filter(id__in=selector).filter(id__in=pages).values_list("id", flat=True))

    assert found == [ada.id]
    assert len(queries) == 1


def test_the_last_event_time_annotates_contacts(ada, grace):
    _record(ada, EventType.EMAIL_OPENED, days_ago=3)
    _record(ada, EventType.EMAIL_OPENED, days_ago=1)

    last = dict(Contact.objects.annotate(last=last_event_at(EventType.EMAIL_OPENED)).values_list("id", "last"))

    assert last == {ada.id: NOW - datetime.timedelta(days=1), grace.id: None}


def test_events_of_globex_never_count_for_acme(ada, globex):
    with use_workspace(globex):
        # Same contact id, another workspace: ids collide across workspaces, the events must not.
        events.events_record([{"type": EventType.EMAIL_OPENED, "contact_id": ada.id}], principal=system())

    assert _ids(contact_ids_with_event(EventType.EMAIL_OPENED)) == set()


def test_events_of_another_workspace_in_the_same_region_never_count(ada, make_user):
    from tidings.accounts.actions import workspace_create

    initech = workspace_create(name="Initech", slug="initech", region="eu", owner=make_user("mia@initech.example"))
    with use_workspace(initech):
        events.events_record([{"type": EventType.EMAIL_OPENED, "contact_id": ada.id}], principal=system())
        visitor = events.visitor_create(principal=system())
        events.events_record([{"type": EventType.PAGE_HIT, "visitor_id": visitor.id}], principal=system())
        events.visitor_identify(visitor.id, ada.id, principal=system())

    assert _ids(contact_ids_with_event([EventType.EMAIL_OPENED, EventType.PAGE_HIT])) == set()
    assert Contact.objects.annotate(last=last_event_at(EventType.PAGE_HIT)).get(pk=ada.id).last is None


def test_an_unknown_type_is_refused():
    from tidings.events.registry import UnknownEventType

    with pytest.raises(UnknownEventType):
        contact_ids_with_event(9999)
