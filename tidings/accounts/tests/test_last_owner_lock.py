"""The last-owner invariant holds under concurrency: the check runs under a lock on the workspace."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from tidings.accounts import actions
from tidings.accounts.models import Membership
from tidings.accounts.tests.helpers import principal_of


@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.parametrize("change", ["demote", "remove"])
def test_two_owners_demoting_each_other_at_once_leave_one_owner(acme, alice, make_user, change):
    """Each owner acts on the other at the same moment: exactly one succeeds, one owner remains."""
    if connections["default"].vendor != "postgresql":
        pytest.skip("SQLite serialises writers: the race cannot happen there")
    oscar = make_user("oscar@acme.example")
    actions.membership_create(workspace=acme, user=oscar, role="owner", principal=principal_of(alice, acme))
    moves = [
        (principal_of(alice, acme), Membership.objects.get(workspace=acme, user=oscar)),
        (principal_of(oscar, acme), Membership.objects.get(workspace=acme, user=alice)),
    ]
    real_count, both_counted = actions._owner_count, threading.Barrier(2, timeout=120)

    def count_then_wait(workspace_id):
        result = real_count(workspace_id)
        # Without a lock both saw two owners here and now both go on to write; with it the other
        # is waiting for the lock, the barrier breaks and this one goes on alone.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_counted.wait()
        return result

    outcomes = []  # "done" or "refused", one per thread

    def act(principal, membership):
        try:
            if change == "demote":
                actions.membership_change_role(membership=membership, role="admin", principal=principal)
            else:
                actions.membership_remove(membership=membership, principal=principal)
            outcomes.append("done")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    actions._owner_count = count_then_wait
    try:
        threads = [threading.Thread(target=act, args=move) for move in moves]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        actions._owner_count = real_count

    assert sorted(outcomes) == ["done", "refused"]
    assert Membership.objects.filter(workspace=acme, role="owner").count() == 1
