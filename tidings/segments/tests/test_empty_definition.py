"""A segment with no filter has no member: creating and rebuilding it writes nothing (and does not crash)."""

from tidings.segments import actions, selectors
from tidings.tests.principals import system


def test_a_segment_without_filters_is_created_empty(ada):
    segment = actions.segment_create(principal=system(), name="Nobody", definition={"match": "all", "filters": []})

    result = actions.segment_rebuild(segment.pk, principal=system())

    assert list(selectors.segment_member_ids(segment.pk)) == []
    assert (result.added, result.removed, result.members) == (0, 0, 0)
