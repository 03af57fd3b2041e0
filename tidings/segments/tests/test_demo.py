"""The demo workspace gets segments built from its contacts, once."""

from tidings.contacts.demo import seed_demo_contacts
from tidings.demo import SEEDERS
from tidings.segments import selectors
from tidings.segments.demo import seed_demo_segments


def test_demo_segments_are_built_with_members_and_seeded_once(in_acme):
    seed_demo_contacts(in_acme)
    seed_demo_segments(in_acme)
    segments = list(selectors.segments_list())
    assert [s.name for s in segments] == ["Engaged this month", "Lyon and Leipzig", "Warm trials"]
    for segment in segments:
        assert segment.member_count == selectors.segment_member_ids(segment.pk).count() > 0
    seed_demo_segments(in_acme)
    assert selectors.segments_list().count() == 3


def test_segments_seed_after_contacts():
    assert SEEDERS.index(seed_demo_segments) > SEEDERS.index(seed_demo_contacts)
