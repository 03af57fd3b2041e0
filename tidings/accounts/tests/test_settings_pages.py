"""Workspace settings: members and roles, the role table, and the workspace's own settings."""

from __future__ import annotations

import pytest

from tidings.accounts.models import Membership
from tidings.accounts.tests.helpers import audit_entries


def membership(user, workspace):
    return Membership.objects.get(user=user, workspace=workspace)


def test_members_page_lists_members_and_open_invitations(alice_client, acme, dave, erin):
    from tidings.accounts.actions import invitation_create
    from tidings.accounts.tests.helpers import principal_of

    invitation_create(workspace=acme, email="frank@acme.example", role="analyst", principal=principal_of(erin, acme))
    page = alice_client.get("/w/acme/settings/members/").content.decode()
    for address in ("alice@acme.example", "dave@acme.example", "erin@acme.example", "frank@acme.example"):
        assert address in page


def test_members_page_query_count_does_not_grow_with_members(alice_client, add_member, django_assert_max_num_queries):
    for number in range(12):
        add_member(f"member{number}@acme.example", "marketer")
    with django_assert_max_num_queries(9):  # 8th: every member's sign-in pause, in one query; 9th: policy banner
        response = alice_client.get("/w/acme/settings/members/")
    assert response.status_code == 200


def test_a_marketer_cannot_open_members(client, dave):
    client.force_login(dave)
    assert client.get("/w/acme/settings/members/").status_code == 403


def test_alice_changes_daves_role_and_it_is_audited(alice_client, dave, acme):
    response = alice_client.post(f"/w/acme/settings/members/{membership(dave, acme).pk}/role/", {"role": "analyst"})
    assert response.status_code == 302
    assert membership(dave, acme).role == "analyst"
    (entry,) = audit_entries(acme, "member.role_changed")
    assert entry.data == {"role": "analyst", "previous_role": "marketer"}
    assert entry.target_id == str(dave.pk)


def test_only_an_owner_grants_the_owner_role(client, erin, dave, acme):
    client.force_login(erin)
    client.post(f"/w/acme/settings/members/{membership(dave, acme).pk}/role/", {"role": "owner"})
    assert membership(dave, acme).role == "marketer"


def test_an_owner_grants_the_owner_role(alice_client, dave, acme):
    alice_client.post(f"/w/acme/settings/members/{membership(dave, acme).pk}/role/", {"role": "owner"})
    assert membership(dave, acme).role == "owner"


def test_the_last_owner_cannot_be_demoted(alice_client, alice, acme):
    response = alice_client.post(
        f"/w/acme/settings/members/{membership(alice, acme).pk}/role/", {"role": "admin"}, follow=True
    )
    assert membership(alice, acme).role == "owner"
    assert b"last owner cannot be demoted" in response.content


def test_the_last_owner_cannot_be_removed(alice_client, alice, acme):
    alice_client.post(f"/w/acme/settings/members/{membership(alice, acme).pk}/remove/", {"confirmed": "1"})
    assert Membership.objects.filter(user=alice, workspace=acme).exists()


def test_an_owner_can_step_down_once_there_is_another_owner(alice_client, alice, dave, acme):
    alice_client.post(f"/w/acme/settings/members/{membership(dave, acme).pk}/role/", {"role": "owner"})
    alice_client.post(f"/w/acme/settings/members/{membership(alice, acme).pk}/role/", {"role": "admin"})
    assert membership(alice, acme).role == "admin"


def test_an_admin_cannot_remove_an_owner(client, erin, alice, acme):
    client.force_login(erin)
    client.post(f"/w/acme/settings/members/{membership(alice, acme).pk}/remove/", {"confirmed": "1"})
    assert Membership.objects.filter(user=alice, workspace=acme).exists()


def test_removing_a_member_asks_for_confirmation_first(alice_client, dave, acme):
    """Without JavaScript the dialog cannot ask, so the page does: the member stays until confirmed."""
    response = alice_client.post(f"/w/acme/settings/members/{membership(dave, acme).pk}/remove/")
    assert response.status_code == 200 and b"Remove this member?" in response.content
    assert Membership.objects.filter(user=dave, workspace=acme).exists()


def test_removing_a_member_ends_their_access_and_is_audited(alice_client, client, dave, acme):
    alice_client.post(f"/w/acme/settings/members/{membership(dave, acme).pk}/remove/", {"confirmed": "1"})
    assert not Membership.objects.filter(user=dave, workspace=acme).exists()
    (entry,) = audit_entries(acme, "member.removed")
    assert entry.target_id == str(dave.pk)
    client.force_login(dave)
    assert client.get("/w/acme/").status_code == 404


def test_roles_page_shows_every_permission_for_every_role(client, dave):
    from tidings.accounts.permissions import PERMISSIONS

    client.force_login(dave)
    page = client.get("/w/acme/settings/roles/").content.decode()
    assert all(name in page for name in PERMISSIONS)
    for label in ("Owner", "Admin", "Marketer", "Analyst"):
        assert label in page


def test_roles_page_marks_what_an_analyst_may_not_do(alice_client):
    response = alice_client.get("/w/acme/settings/roles/")
    table = response.context["table"]
    roles = [role.value for role in response.context["roles"]]
    contacts_view = next(row for row in table if row["name"] == "contacts:view")
    assert contacts_view["cells"][roles.index("analyst")] is False
    assert contacts_view["cells"][roles.index("owner")] is True


def test_alice_renames_the_workspace_and_requires_two_factor(alice_client, acme):
    response = alice_client.post("/w/acme/settings/workspace/", {"name": "Acme Europe", "require_two_factor": "on"})
    assert response.status_code == 302
    acme.refresh_from_db()
    assert (acme.name, acme.require_two_factor) == ("Acme Europe", True)
    (entry,) = audit_entries(acme, "workspace.settings_changed")
    assert entry.data == {"fields": ["name", "require_two_factor"], "require_two_factor": True}


def test_a_marketer_cannot_change_workspace_settings(client, dave, acme):
    client.force_login(dave)
    assert client.post("/w/acme/settings/workspace/", {"name": "Mine"}).status_code == 403
    acme.refresh_from_db()
    assert acme.name == "Acme"


def test_the_workspace_page_warns_an_admin_without_two_factor(alice_client):
    assert b"not set up two-factor sign-in yourself" in alice_client.get("/w/acme/settings/workspace/").content


@pytest.mark.parametrize(
    ("role", "visible", "hidden"),
    [
        ("owner", ["Members", "Workspace", "Support access", "Audit log"], []),
        ("marketer", ["Roles"], ["Members", "Support access", "Audit log"]),
    ],
)
def test_settings_navigation_shows_what_the_role_may_open(client, add_member, role, visible, hidden):
    user = add_member(f"{role}@acme.example", role)
    client.force_login(user)
    response = client.get("/w/acme/")
    labels = [item["label"] for item in response.context["nav_settings"]]
    assert all(label in labels for label in visible)
    assert not any(label in labels for label in hidden)
