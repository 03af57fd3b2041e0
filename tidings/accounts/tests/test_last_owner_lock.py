"""The last-owner invariant holds under concurrency: the check runs under a lock on the workspace."""

from __future__ import annotations

import threading
import time

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
    real_count, counted, arrived = actions._owner_count, threading.Condition(), []

    def other_is_waiting_for_a_lock() -> bool:
        with connections["default"].cursor() as cursor:
            # PostgreSQL reads pg_stat_activity once per transaction and keeps that copy: without clearing it, a
            # thread that looked before the other began to wait saw "nobody waits" until its 60 s deadline.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid())"
            )
            return cursor.fetchone()[0]

    def count_then_wait(workspace_id):
        result = real_count(workspace_id)
        # Without a lock both threads get here and then both go on to write. With it the other one is
        # stuck waiting for the lock (pg_stat_activity shows it), so this one goes on alone.
        deadline = time.monotonic() + 60
        with counted:
            arrived.append(workspace_id)
            counted.notify_all()
            while len(arrived) < 2 and not other_is_waiting_for_a_lock() and time.monotonic() < deadline:
                counted.wait(0.05)
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
