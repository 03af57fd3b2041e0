"""Anonymous visitors: their events join the contact they turn out to be, with one update of the visitor row."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tidings.events import actions, selectors
from tidings.events.models import Event, EventString, Visitor
from tidings.events.registry import code_for
from tidings.privacy import registry
from tidings.tests.principals import system

ADA, GRACE = 101, 102  # contact ids: the event store trusts the caller's ids


@pytest.fixture
def page_hit():
    return code_for("page.hit")


def _hits(visitor_id, page_hit, *urls):
    rows = [{"type": page_hit, "visitor_id": visitor_id, "data": {"url": url}} for url in urls]
    actions.events_record(rows, principal=system())


def test_a_visitors_id_is_random_not_a_sequence(in_acme):
    first = actions.visitor_create(principal=system())
    second = actions.visitor_create(principal=system())

    assert abs(second.id - first.id) > 1_000_000


def test_identifying_a_visitor_updates_its_row_and_rewrites_no_event(in_acme, page_hit):
    visitor = actions.visitor_create(principal=system())
    _hits(visitor.id, page_hit, "https://acme.example/a", "https://acme.example/b")

    with CaptureQueriesContext(connections["region_eu"]) as queries:
        actions.visitor_identify(visitor.id, ADA, principal=system())

    assert not [q for q in queries if "events_event" in q["sql"] and q["sql"].startswith("UPDATE")]
    assert set(Event.objects.values_list("contact_id", flat=True)) == {None}
    assert list(selectors.contact_ids_with_event(page_hit, min_count=2)) == [ADA]


def test_a_visitor_identified_as_someone_else_is_not_moved(in_acme):
    visitor = actions.visitor_create(principal=system())
    actions.visitor_identify(visitor.id, ADA, principal=system())

    with pytest.raises(ValueError, match="another contact"):
        actions.visitor_identify(visitor.id, GRACE, principal=system())

    assert Visitor.objects.get(pk=visitor.id).contact_id == ADA


def test_a_visitor_of_another_workspace_cannot_be_identified(in_acme, globex):
    from tidings.tenancy.context import use_workspace

    with use_workspace(globex):
        theirs = actions.visitor_create(principal=system())

    with pytest.raises(Visitor.DoesNotExist):
        actions.visitor_identify(theirs.id, ADA, principal=system())


def test_the_timeline_of_a_contact_includes_its_visitors_events(in_acme, page_hit):
    visitor = actions.visitor_create(principal=system())
    _hits(visitor.id, page_hit, "https://acme.example/before")
    actions.visitor_identify(visitor.id, ADA, principal=system())
    actions.events_record([{"type": page_hit, "contact_id": ADA, "data": {"page": 3}}], principal=system())

    assert selectors.contact_events(ADA).count() == 2


def test_erasing_a_contact_erases_its_visitors_events_and_the_strings_only_they_used(in_acme, page_hit):
    visitor = actions.visitor_create(principal=system())
    _hits(visitor.id, page_hit, "https://acme.example/only-ada", "https://acme.example/shared")
    actions.visitor_identify(visitor.id, ADA, principal=system())
    actions.events_record([{"type": page_hit, "contact_id": GRACE, "data": {"url": "https://acme.example/shared"}}],
                          principal=system())  # fmt: skip

    registry.erase_subject_rows([ADA], other_stores=False)

    assert not Visitor.objects.filter(pk=visitor.id).exists()
    assert list(Event.objects.values_list("contact_id", flat=True)) == [GRACE]
    assert list(EventString.objects.values_list("value", flat=True)) == ["https://acme.example/shared"]


def test_the_export_holds_the_visitors_events_with_their_urls(in_acme, page_hit):
    visitor = actions.visitor_create(principal=system())
    _hits(visitor.id, page_hit, "https://acme.example/pricing")
    actions.visitor_identify(visitor.id, ADA, principal=system())

    package = registry.export_subject(ADA)

    assert [(e["type"], e["data"]) for e in package["events.event"]] == [
        ("page.hit", {"url": "https://acme.example/pricing"})
    ]
