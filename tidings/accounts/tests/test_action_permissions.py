"""The accounts actions check their own permission: a member without members:manage adds nobody."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tidings.accounts.actions import membership_create
from tidings.accounts.models import Membership
from tidings.accounts.tests.helpers import audit_entries, principal_of


def test_a_member_without_members_manage_cannot_add_a_member(acme, dave, make_user):
    frank = make_user("frank@acme.example")

    with pytest.raises(PermissionDenied):
        membership_create(workspace=acme, user=frank, role="marketer", principal=principal_of(dave, acme))

    assert not Membership.objects.filter(workspace=acme, user=frank).exists()


def test_an_admin_adds_a_member_but_only_an_owner_grants_the_owner_role(acme, erin, make_user):
    frank, grace = make_user("frank@acme.example"), make_user("grace@acme.example")

    membership_create(workspace=acme, user=frank, role="marketer", principal=principal_of(erin, acme))
    with pytest.raises(ValidationError):
        membership_create(workspace=acme, user=grace, role="owner", principal=principal_of(erin, acme))

    assert Membership.objects.get(workspace=acme, user=frank).role == "marketer"
    assert not Membership.objects.filter(workspace=acme, user=grace).exists()


def test_an_owner_of_another_workspace_cannot_add_members_here(acme, globex, bob, make_user):
    frank = make_user("frank@acme.example")

    with pytest.raises(PermissionDenied):
        membership_create(workspace=acme, user=frank, role="owner", principal=principal_of(bob, globex))

    assert not Membership.objects.filter(workspace=acme, user=frank).exists()


def test_a_new_workspaces_first_owner_is_added_by_the_system(acme, alice):
    (added,) = audit_entries(acme, "member.added")

    assert (added.actor_type, added.actor_id, added.target_id) == ("system", None, str(alice.pk))
