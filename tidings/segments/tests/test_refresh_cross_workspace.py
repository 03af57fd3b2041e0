"""The refresh of one workspace never touches another's memberships (an attacker workspace in the same region)."""

from __future__ import annotations

import pytest

from tidings.contacts.actions import contact_create, contact_update
from tidings.events.models import Event
from tidings.segments import actions, tasks
from tidings.segments.models import Segment, SegmentMembership
from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system

LONDONERS = {"filters": [{"kind": "field", "field": "city", "operator": "equals", "value": "London"}]}


@pytest.fixture
def initech(make_user):
    """Mallory's workspace, in Acme's region (EU): same database, same id sequences."""
    from tidings.accounts.actions import workspace_create

    return workspace_create(name="Initech", slug="initech", region="eu", owner=make_user("mallory@initech.example"))


def fingerprint(workspace) -> tuple:
    """What another workspace's refresh must never change: memberships, their events, the segments' counts."""
    with use_workspace(workspace):
        return (
            sorted(SegmentMembership.objects.values_list("segment_id", "contact_id", "status", "created_at")),
            sorted(Event.objects.values_list("id", "type", "contact_id")),
            sorted(Segment.objects.values_list("id", "member_count", "rebuilt_at")),
        )


def test_the_refresh_of_one_workspace_never_touches_another(acme, initech):
    with use_workspace(acme):
        acme_segment = actions.segment_create(principal=system(), name="Londoners", definition=LONDONERS)
        ada = contact_create({"email": "ada@analytical.example", "city": "London"}, principal=system())
        tasks.refresh_changed_contacts.call()
        tasks.refresh_changed_contacts.call()  # reads past the segment.added events of the first run
        assert set(SegmentMembership.objects.values_list("contact_id", flat=True)) == {ada.pk}
    with use_workspace(initech):
        initech_segment = actions.segment_create(principal=system(), name="Londoners", definition=LONDONERS)
        mallory = contact_create({"email": "mallory@initech.example", "city": "Paris"}, principal=system())
    acme_before = fingerprint(acme)

    with use_workspace(initech):
        contact_update(mallory.pk, {"city": "London"}, principal=system())
        # Naming Acme's contacts and segment from Initech changes nothing anywhere.
        assert actions.segment_refresh_contacts([ada.pk], principal=system()) == {}
        with pytest.raises(Exception):  # noqa: B017 (DoesNotExist of a segment not in this workspace)
            actions.segment_rebuild(acme_segment.pk, principal=system())
    tasks.refresh_changed_contacts.call()
    tasks.refresh_changed_contacts.call()

    assert fingerprint(acme) == acme_before
    with use_workspace(initech):
        assert sorted(SegmentMembership.objects.values_list("segment_id", "contact_id")) == [
            (initech_segment.pk, mallory.pk)
        ]
    # And the other way round: Acme's change reaches Acme only.
    initech_before = fingerprint(initech)
    with use_workspace(acme):
        contact_update(ada.pk, {"city": "Paris"}, principal=system())
    tasks.refresh_changed_contacts.call()
    tasks.refresh_changed_contacts.call()
    assert fingerprint(initech) == initech_before
    with use_workspace(acme):
        assert not SegmentMembership.objects.exists()
