"""Audit entries of global-database changes go through an outbox in the change's own transaction.

Members, roles, grants and workspace settings live in the global database, their audit chain in
the workspace's region database. The entry is written to the global outbox with the change, so it
exists exactly when the change committed, and joins the chain once the transaction commits.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from tidings.accounts.actions import membership_change_role
from tidings.accounts.models import Membership
from tidings.accounts.tests.helpers import principal_of
from tidings.audit.models import AuditEntry, AuditOutbox
from tidings.audit.selectors import verify_chains
from tidings.audit.tasks import forward_audit_outbox


class RolledBack(Exception):
    pass


def role_changes(workspace) -> list[AuditEntry]:
    return list(AuditEntry.objects.using("region_eu").filter(workspace_id=workspace.id, action="member.role_changed"))


@pytest.fixture
def daves_membership(dave, acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(using="default", execute=True):
        forward_audit_outbox.call()  # the set-up's own entries (member.added) are not under test
    return Membership.objects.get(user=dave, workspace=acme)


def test_a_rolled_back_role_change_leaves_no_audit_entry(alice, acme, daves_membership):
    with pytest.raises(RolledBack), transaction.atomic(using="default"):
        membership_change_role(membership=daves_membership, role="analyst", principal=principal_of(alice, acme))
        raise RolledBack  # something later in the same transaction fails

    forward_audit_outbox.call()
    assert Membership.objects.get(pk=daves_membership.pk).role == "marketer"
    assert role_changes(acme) == []


def test_a_committed_role_change_leaves_exactly_one_entry(
    alice, acme, daves_membership, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(using="default", execute=True):
        membership_change_role(membership=daves_membership, role="analyst", principal=principal_of(alice, acme))
    forward_audit_outbox.call()  # the periodic job finds nothing left to add

    (entry,) = role_changes(acme)
    assert entry.data == {"role": "analyst", "previous_role": "marketer"}
    assert not AuditOutbox.objects.exists()
    assert list(verify_chains()) == []


def test_the_entry_joins_the_chain_only_when_the_change_commits(
    alice, acme, daves_membership, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(using="default") as callbacks:
        membership_change_role(membership=daves_membership, role="analyst", principal=principal_of(alice, acme))
        assert role_changes(acme) == []
        assert AuditOutbox.objects.filter(action="member.role_changed").count() == 1
    for callback in callbacks:
        callback()
    assert len(role_changes(acme)) == 1


def test_leftovers_in_the_outbox_are_forwarded_once(alice, acme, daves_membership):
    """A crash after the commit, before the forward, leaves the entry in the outbox: the job adds it once."""
    membership_change_role(membership=daves_membership, role="analyst", principal=principal_of(alice, acme))
    assert role_changes(acme) == []  # the commit hook never ran (the crash)

    assert forward_audit_outbox.call() == 1
    assert forward_audit_outbox.call() == 0
    assert len(role_changes(acme)) == 1
    assert not AuditOutbox.objects.exists()


def test_a_crash_between_the_chain_and_the_outbox_does_not_duplicate(alice, acme, daves_membership):
    """The chain committed the entry but the outbox row survived: forwarding again adds nothing."""
    from tidings.audit.actions import _append

    membership_change_role(membership=daves_membership, role="analyst", principal=principal_of(alice, acme))
    row = AuditOutbox.objects.get(action="member.role_changed")
    fields = {name: getattr(row, name) for name in ("at", "actor_type", "actor_id", "action", "data")}
    _append(acme.id, "region_eu", fields, outbox_id=row.pk)  # what the forwarder did before the crash

    assert forward_audit_outbox.call() == 0
    assert len(role_changes(acme)) == 1
    assert not AuditOutbox.objects.exists()


def test_a_failed_forward_keeps_the_change_and_the_entry_for_later(
    alice, acme, daves_membership, django_capture_on_commit_callbacks, monkeypatch
):
    from tidings.audit import actions

    def region_down(*args, **kwargs):
        raise ConnectionError("region database unreachable")

    with monkeypatch.context() as patched:
        patched.setattr(actions, "_append", region_down)
        with django_capture_on_commit_callbacks(using="default", execute=True):
            membership_change_role(membership=daves_membership, role="analyst", principal=principal_of(alice, acme))

    assert Membership.objects.get(pk=daves_membership.pk).role == "analyst"
    assert AuditOutbox.objects.filter(action="member.role_changed").count() == 1
    forward_audit_outbox.call()
    assert len(role_changes(acme)) == 1


def test_a_rolled_back_api_token_leaves_no_audit_entry(alice, acme, daves_membership):
    from tidings.api.actions import api_token_create

    with pytest.raises(RolledBack), transaction.atomic(using="default"):
        api_token_create(workspace=acme, user=alice, name="Rolled back", principal=principal_of(alice, acme))
        raise RolledBack

    forward_audit_outbox.call()
    assert not AuditEntry.objects.using("region_eu").filter(workspace_id=acme.id, action="api_token.created").exists()


def test_a_new_workspaces_entry_joins_its_chain_on_commit(make_user, django_capture_on_commit_callbacks):
    from tidings.accounts.actions import workspace_create

    with django_capture_on_commit_callbacks(using="default", execute=True):
        initech = workspace_create(
            name="Initech", slug="initech", region="eu", owner=make_user("mallory@initech.example")
        )

    actions = list(
        AuditEntry.objects.using("region_eu")
        .filter(workspace_id=initech.id)
        .order_by("seq")
        .values_list("action", flat=True)
    )
    # Its own entries first in order; what apps do on workspace_created (standard consent purposes) may
    # land between them when the commit callbacks run late, as here.
    own = [action for action in actions if action in ("workspace.created", "member.added")]
    assert own == ["workspace.created", "member.added"]
    assert list(verify_chains()) == []
