"""Rebuilds at the edges: a segment with no filters matches nobody (the spec's empty group); counts are exact."""

from tidings.contacts.actions import contact_create
from tidings.events.models import Event
from tidings.segments import actions, selectors
from tidings.segments.event_types import SEGMENT_ADDED
from tidings.tests.principals import system


def test_a_segment_without_filters_has_no_members_and_emptying_one_removes_them(in_acme):
    p = system()
    ann = contact_create({"email": "ann@empty.example", "city": "London"}, principal=p)
    empty = actions.segment_create(principal=p, name="Nobody yet", definition={"match": "all", "filters": []})
    assert list(selectors.segment_member_ids(empty.pk)) == []
    assert actions.segment_rebuild(empty.pk, principal=p).added == 0

    londoners = actions.segment_create(
        principal=p,
        name="Londoners",
        definition={"filters": [{"kind": "field", "field": "city", "operator": "equals", "value": "London"}]},
    )
    assert list(selectors.segment_member_ids(londoners.pk)) == [ann.pk]
    actions.segment_update(londoners.pk, principal=p, definition={"match": "any", "filters": []})
    assert list(selectors.segment_member_ids(londoners.pk)) == []
    assert [r.members for r in actions.segments_rebuild_all(principal=p)] == [0, 0]


def test_a_rebuild_counts_the_members_it_adds_and_removes(in_acme):
    p = system()
    contact_create({"email": "ann@count.example", "city": "London"}, principal=p)
    londoners = actions.segment_create(
        principal=p,
        name="Londoners",
        definition={"filters": [{"kind": "field", "field": "city", "operator": "equals", "value": "London"}]},
    )
    contact_create({"email": "bo@count.example", "city": "London"}, principal=p)
    contact_create({"email": "cy@count.example", "city": "London"}, principal=p)
    rebuilt = actions.segment_rebuild(londoners.pk, principal=p)
    assert (rebuilt.added, rebuilt.removed, rebuilt.members) == (2, 0, 3)
    added = Event.objects.filter(type=SEGMENT_ADDED, data__segment_id=londoners.pk)
    assert sorted(added.values_list("contact_id", flat=True)) == sorted(selectors.segment_member_ids(londoners.pk))
