"""Membership: rebuilds and incremental refreshes apply exactly the difference, once, and keep manual choices."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tidings.contacts.actions import contact_create, contact_update
from tidings.segments import actions, selectors
from tidings.segments.event_types import SEGMENT_ADDED, SEGMENT_REMOVED
from tidings.segments.models import MembershipStatus, Segment
from tidings.tests.principals import system

LONDON = {"filters": [{"kind": "field", "field": "city", "operator": "equals", "value": "London"}]}


@pytest.fixture
def people(in_acme):
    """Five made-up contacts: ann and bo in London, cy in Paris, dee and eli nowhere."""
    cities = {"ann": "London", "bo": "London", "cy": "Paris", "dee": None, "eli": None}
    return {
        name: contact_create(
            {"email": f"{name}@city.example"} | ({"city": city} if city else {}), principal=system()
        ).pk
        for name, city in cities.items()
    }


def _events(segment_id: int) -> list[tuple[int, int]]:
    """Return (type, contact id) of every membership event of a segment, sorted."""
    from tidings.events.models import Event

    rows = Event.objects.filter(type__in=(SEGMENT_ADDED, SEGMENT_REMOVED), data__segment_id=segment_id)
    return sorted(rows.values_list("type", "contact_id"))


def _members(segment_id: int) -> set[int]:
    return set(selectors.segment_member_ids(segment_id))


def _move(contact_id: int, city: str | None) -> None:
    contact_update(contact_id, {"city": city or ""}, principal=system())


def test_a_rebuild_applies_exactly_the_difference_with_one_event_per_change(people):
    segment = actions.segment_create(principal=system(), name="Londoners", definition=LONDON)
    assert _members(segment.pk) == {people["ann"], people["bo"]}
    assert _events(segment.pk) == sorted([(SEGMENT_ADDED, people["ann"]), (SEGMENT_ADDED, people["bo"])])

    _move(people["bo"], "Paris")
    _move(people["cy"], "London")
    result = actions.segment_rebuild(segment.pk, principal=system())
    assert (result.added, result.removed, result.members) == (1, 1, 2)
    assert _members(segment.pk) == {people["ann"], people["cy"]}
    assert _events(segment.pk) == sorted([(SEGMENT_ADDED, people["ann"]), (SEGMENT_ADDED, people["bo"]),
                                          (SEGMENT_REMOVED, people["bo"]), (SEGMENT_ADDED, people["cy"])])  # fmt: skip

    again = actions.segment_rebuild(segment.pk, principal=system())
    assert (again.added, again.removed) == (0, 0)
    assert len(_events(segment.pk)) == 4
    assert Segment.objects.get(pk=segment.pk).member_count == 2


def test_manual_adds_and_removes_stick_across_rebuilds_and_refreshes(people):
    segment = actions.segment_create(principal=system(), name="Londoners", definition=LONDON)
    assert actions.segment_members_add(segment.pk, [people["dee"]], principal=system()) == 1
    assert actions.segment_members_remove(segment.pk, [people["ann"]], principal=system()) == 1
    assert _members(segment.pk) == {people["bo"], people["dee"]}

    actions.segment_rebuild(segment.pk, principal=system())
    assert _members(segment.pk) == {people["bo"], people["dee"]}
    # Ann leaves London and comes back, Dee moves there: the manual choices still decide.
    _move(people["ann"], "Paris")
    _move(people["dee"], "London")
    assert actions.segment_refresh_contacts([people["ann"], people["dee"]], principal=system()) == {}
    _move(people["ann"], "London")
    _move(people["dee"], None)
    assert actions.segment_refresh_contacts([people["ann"], people["dee"]], principal=system()) == {}
    actions.segment_rebuild(segment.pk, principal=system())
    assert _members(segment.pk) == {people["bo"], people["dee"]}
    statuses = selectors.segment_memberships(segment.pk, [people["ann"], people["dee"]])
    assert statuses == {people["ann"]: MembershipStatus.REMOVED, people["dee"]: MembershipStatus.ADDED}
    # One event each for the manual add and remove, none for the rebuilds and refreshes since.
    manual = [(SEGMENT_ADDED, people["dee"]), (SEGMENT_REMOVED, people["ann"])]
    filtered = [(SEGMENT_ADDED, people["ann"]), (SEGMENT_ADDED, people["bo"])]
    assert _events(segment.pk) == sorted(filtered + manual)


def test_adding_a_member_by_hand_again_writes_no_event(people):
    segment = actions.segment_create(principal=system(), name="Londoners", definition=LONDON)
    assert actions.segment_members_add(segment.pk, [people["ann"], people["dee"]], principal=system()) == 1
    assert actions.segment_members_add(segment.pk, [people["dee"]], principal=system()) == 0
    assert actions.segment_members_remove(segment.pk, [people["cy"]], principal=system()) == 0
    assert _events(segment.pk).count((SEGMENT_ADDED, people["dee"])) == 1
    assert (SEGMENT_REMOVED, people["cy"]) not in _events(segment.pk)


def test_reset_lets_the_filters_decide_again(people):
    segment = actions.segment_create(principal=system(), name="Londoners", definition=LONDON)
    actions.segment_members_add(segment.pk, [people["dee"]], principal=system())
    actions.segment_members_remove(segment.pk, [people["ann"]], principal=system())
    before = len(_events(segment.pk))
    assert actions.segment_members_reset(segment.pk, [people["ann"], people["dee"], people["cy"]],
                                         principal=system()) == 2  # fmt: skip
    assert _members(segment.pk) == {people["ann"], people["bo"]}
    assert selectors.segment_memberships(segment.pk, [people["ann"]]) == {people["ann"]: MembershipStatus.FILTER}
    new = sorted(set(_events(segment.pk)) - {(SEGMENT_ADDED, people["bo"])})
    assert (SEGMENT_ADDED, people["ann"]) in new and (SEGMENT_REMOVED, people["dee"]) in new
    assert len(_events(segment.pk)) == before + 2
    # After the reset the filters rule: Ann leaving London leaves the segment.
    _move(people["ann"], "Paris")
    assert actions.segment_refresh_contacts([people["ann"]], principal=system()) == {segment.pk: (0, 1)}
    assert _members(segment.pk) == {people["bo"]}


def test_the_incremental_refresh_touches_only_the_contacts_it_is_given(people):
    segment = actions.segment_create(principal=system(), name="Londoners", definition=LONDON)
    _move(people["bo"], "Paris")
    _move(people["cy"], "London")
    assert actions.segment_refresh_contacts([people["cy"]], principal=system()) == {segment.pk: (1, 0)}
    assert _members(segment.pk) == {people["ann"], people["bo"], people["cy"]}  # Bo waits for the rebuild
    assert actions.segment_refresh_contacts([people["bo"], people["cy"]], principal=system()) == {segment.pk: (0, 1)}
    assert _members(segment.pk) == {people["ann"], people["cy"]}
    assert _events(segment.pk).count((SEGMENT_REMOVED, people["bo"])) == 1
    assert Segment.objects.get(pk=segment.pk).member_count == 2


def _in(*segments: Segment) -> dict:
    return {"filters": [{"kind": "segment", "operator": "in", "value": [s.pk for s in segments]}]}


def test_segments_named_by_others_are_rebuilt_first(people):
    # Created in the reverse of their dependencies' order, so rebuilding by id would read stale members.
    outer = actions.segment_create(principal=system(), name="Outer", definition={"filters": []})
    middle = actions.segment_create(principal=system(), name="Middle", definition={"filters": []})
    inner = actions.segment_create(principal=system(), name="Inner", definition=LONDON)
    actions.segment_update(middle.pk, principal=system(), definition=_in(inner))
    actions.segment_update(outer.pk, principal=system(), definition=_in(middle))
    assert selectors.rebuild_order(selectors.dependencies()) == [inner.pk, middle.pk, outer.pk]
    _move(people["cy"], "London")
    _move(people["ann"], "Paris")
    results = actions.segments_rebuild_all(principal=system())
    assert [r.segment_id for r in results] == [inner.pk, middle.pk, outer.pk]
    assert _members(outer.pk) == {people["bo"], people["cy"]}


def test_a_segment_cannot_include_itself_directly_or_through_others(people):
    first = actions.segment_create(principal=system(), name="First", definition=LONDON)
    with pytest.raises(ValidationError) as direct:
        actions.segment_update(first.pk, principal=system(), definition=_in(first))
    assert "definition" in direct.value.message_dict
    second = actions.segment_create(principal=system(), name="Second", definition=_in(first))
    third = actions.segment_create(principal=system(), name="Third", definition=_in(second))
    with pytest.raises(ValidationError):
        actions.segment_update(first.pk, principal=system(), definition=_in(third))
    with pytest.raises(ValidationError):
        actions.segment_update(first.pk, principal=system(), definition={"match": "any", "filters": [
            LONDON["filters"][0], {"kind": "group", "filters": [_in(second)["filters"][0]]}]})  # fmt: skip
    assert Segment.objects.get(pk=first.pk).definition["filters"][0]["kind"] == "field"
    assert selectors.rebuild_order(selectors.dependencies()) == [first.pk, second.pk, third.pk]


def test_a_segment_used_by_another_cannot_be_deleted(people):
    used = actions.segment_create(principal=system(), name="Used", definition=LONDON)
    user = actions.segment_create(principal=system(), name="User", definition=_in(used))
    with pytest.raises(ValidationError):
        actions.segment_delete(used.pk, principal=system())
    assert Segment.objects.filter(pk=used.pk).exists()
    actions.segment_update(user.pk, principal=system(), definition=LONDON)
    actions.segment_delete(used.pk, principal=system())
    assert not Segment.objects.filter(pk=used.pk).exists()
    assert _members(used.pk) == set()


def _filter_runs(action) -> int:
    """Run action; return how many of its statements read contacts (each run of a segment's filters does)."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from tidings.tenancy.context import require_workspace

    with CaptureQueriesContext(connections[require_workspace().db_alias]) as queries:
        action()
    return sum('"contacts_contact"' in query["sql"] for query in queries.captured_queries)


def test_a_rebuild_runs_the_filters_at_most_twice_and_writes_each_removal_once(people):
    segment = actions.segment_create(principal=system(), name="Londoners", definition=LONDON)
    actions.segment_members_add(segment.pk, [people["dee"]], principal=system())  # a manual add sticks

    assert _filter_runs(lambda: actions.segment_rebuild(segment.pk, principal=system())) <= 2  # nothing changed

    _move(people["ann"], "Paris")
    _move(people["bo"], "Paris")
    _move(people["cy"], "London")
    result = None

    def rebuild():
        nonlocal result
        result = actions.segment_rebuild(segment.pk, principal=system())

    assert _filter_runs(rebuild) <= 2
    assert (result.added, result.removed, result.members) == (1, 2, 2)
    assert _members(segment.pk) == {people["cy"], people["dee"]}
    events = _events(segment.pk)
    assert events.count((SEGMENT_REMOVED, people["ann"])) == events.count((SEGMENT_REMOVED, people["bo"])) == 1
    assert (SEGMENT_REMOVED, people["dee"]) not in events
    statuses = set(actions.SegmentMembership.objects.filter(segment_id=segment.pk).values_list("status", flat=True))
    assert statuses == {MembershipStatus.FILTER, MembershipStatus.ADDED}  # no mark left behind


def _visitor_of(contact_id: int | None) -> int:
    from tidings.events.actions import visitor_create, visitor_identify

    visitor = visitor_create(principal=system())
    if contact_id is not None:
        visitor_identify(visitor.pk, contact_id, principal=system())
    return visitor.pk


def _hit(**who) -> None:
    from tidings.events.actions import events_record
    from tidings.events.registry import code_for

    row = {"type": code_for("page.hit"), "data": {"url": "https://city.example/pricing"}, **who}
    events_record([row], principal=system())


def _visited(operator: str) -> dict:
    return {"filters": [{"kind": "event", "event": "page.hit", "operator": operator, "min_count": 1,
                         "max_count": None, "within_days": 7}]}  # fmt: skip


def test_the_refresh_sees_an_event_made_only_through_an_identified_visitor(people):
    visited = actions.segment_create(principal=system(), name="Visited", definition=_visited("has"))
    never = actions.segment_create(principal=system(), name="Never visited", definition=_visited("has_not"))
    assert _members(visited.pk) == set()
    assert _members(never.pk) == set(people.values())

    _hit(visitor_id=_visitor_of(people["ann"]))  # Ann's only hit: through the device identified as hers
    _hit(visitor_id=_visitor_of(None))  # an anonymous device: nobody's
    changes = actions.segment_refresh_contacts([people["ann"], people["bo"]], principal=system())
    assert changes == {visited.pk: (1, 0), never.pk: (0, 1)}  # Ann starts matching one, stops matching the other
    assert _members(visited.pk) == {people["ann"]}
    assert _members(never.pk) == set(people.values()) - {people["ann"]}
    assert _events(never.pk).count((SEGMENT_REMOVED, people["ann"])) == 1
    for segment in (visited, never):  # the refresh agrees with a rebuild
        again = actions.segment_rebuild(segment.pk, principal=system())
        assert (again.added, again.removed) == (0, 0)


def test_a_visitor_event_counts_for_its_own_contact_not_the_visitors(people):
    # An event carrying a contact keeps it, whoever the device was later identified as.
    visited = actions.segment_create(principal=system(), name="Visited", definition=_visited("has"))
    _hit(contact_id=people["bo"], visitor_id=_visitor_of(people["ann"]))
    changes = actions.segment_refresh_contacts([people["ann"], people["bo"]], principal=system())
    assert changes == {visited.pk: (1, 0)}
    assert _members(visited.pk) == {people["bo"]}
