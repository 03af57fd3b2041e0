"""Bugs the oracle found in the filter engine, each pinned by a small test of its own."""

from __future__ import annotations

import datetime

from tidings.segments import actions, selectors
from tidings.tests.principals import system

UTC = datetime.UTC


def _contact(values, **kwargs):
    from tidings.contacts.actions import contact_create

    return contact_create(values, principal=system(), **kwargs)


def test_a_segment_with_no_filter_is_created_and_rebuilt_empty(in_acme, ada):
    segment = actions.segment_create(principal=system(), name="Nobody yet", definition={"filters": []})
    result = actions.segment_rebuild(segment.pk, principal=system())
    assert (result.added, result.members) == (0, 0)


def test_an_empty_group_inside_all_makes_the_segment_empty(in_acme, ada):
    definition = {"match": "all", "filters": [
        {"kind": "field", "field": "city", "operator": "equals", "value": "London"},
        {"kind": "group", "match": "any", "filters": []},
    ]}  # fmt: skip
    segment = actions.segment_create(principal=system(), name="Never", definition=definition)
    assert list(selectors.segment_member_ids(segment.pk)) == []
    anyone = {"match": "any", "filters": definition["filters"]}
    actions.segment_update(segment.pk, principal=system(), definition=anyone)
    assert list(selectors.segment_member_ids(segment.pk)) == [ada.pk]


def test_a_rebuild_counts_the_members_it_added(in_acme, ada, grace):
    definition = {"filters": [{"kind": "field", "field": "email", "operator": "not_empty"}]}
    segment = actions.segment_create(principal=system(), name="Everyone", definition=definition)
    actions.segment_members_remove(segment.pk, [ada.pk, grace.pk], principal=system())
    actions.segment_members_reset(segment.pk, [ada.pk, grace.pk], principal=system())
    from tidings.segments.models import SegmentMembership

    SegmentMembership.objects.filter(segment_id=segment.pk).delete()
    result = actions.segment_rebuild(segment.pk, principal=system())
    assert (result.added, result.removed, result.members) == (2, 0, 2)
