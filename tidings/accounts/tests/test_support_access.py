"""Staff support access: requested by staff, approved by the workspace, limited in time, fully audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tidings.accounts import actions
from tidings.accounts.models import SupportGrant, SupportGrantStatus
from tidings.accounts.tests.helpers import audit_actions, audit_entries, principal_of


@pytest.fixture
def carol_client(carol):
    from django.test import Client

    client = Client()  # her own browser: alice_client holds the shared client fixture
    client.force_login(carol)
    return client


@pytest.fixture
def grant(carol, acme, on_commit):
    """carol (staff) asks Acme for 4 hours of read-only access."""
    with on_commit():
        return actions.support_grant_request(
            staff_user=carol, workspace=acme, reason="Ticket 4711: import fails", hours=4
        )


def approve(grant, alice, acme, **options):
    return actions.support_grant_approve(grant=grant, principal=principal_of(alice, acme), **options)


def test_staff_without_a_grant_get_404_on_a_workspace(carol_client, acme):
    assert carol_client.get("/w/acme/").status_code == 404


def test_a_requested_grant_does_not_open_the_workspace(carol_client, grant):
    assert carol_client.get("/w/acme/").status_code == 404


def test_an_approved_grant_opens_the_workspace(carol_client, grant, alice, acme):
    approve(grant, alice, acme)
    response = carol_client.get("/w/acme/")
    assert response.status_code == 200
    assert b"Support access" in response.content


def test_a_read_only_grant_is_refused_a_write(carol_client, grant, alice, acme):
    approve(grant, alice, acme)
    response = carol_client.post("/w/acme/settings/workspace/", {"name": "Changed by staff"})
    assert response.status_code == 403
    acme.refresh_from_db()
    assert acme.name == "Acme"


def test_an_expired_grant_answers_404(carol_client, grant, alice, acme):
    approve(grant, alice, acme)
    SupportGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert carol_client.get("/w/acme/").status_code == 404


def test_a_revoked_grant_answers_404(carol_client, grant, alice, acme, alice_client):
    approve(grant, alice, acme)
    response = alice_client.post(f"/w/acme/settings/support/{grant.pk}/revoke/")
    assert response.status_code == 302
    assert carol_client.get("/w/acme/").status_code == 404


def test_a_declined_grant_answers_404(carol_client, grant, alice_client):
    alice_client.post(f"/w/acme/settings/support/{grant.pk}/decline/")
    grant.refresh_from_db()
    assert grant.status == SupportGrantStatus.DECLINED
    assert carol_client.get("/w/acme/").status_code == 404


def test_every_request_under_a_grant_is_in_the_workspace_audit_log(carol_client, grant, alice, acme):
    approve(grant, alice, acme)
    carol_client.get("/w/acme/")
    carol_client.post("/w/acme/settings/workspace/", {"name": "x"})
    entries = [e for e in audit_entries(acme, "support.request") if e.action == "support.request"]
    logged = [(e.data["method"], e.data["path"], e.data["status"]) for e in entries]
    assert logged == [("POST", "/w/acme/settings/workspace/", 403), ("GET", "/w/acme/", 200)]
    assert all((e.actor_type, e.target_id) == ("staff", str(grant.pk)) for e in entries)


def test_admins_see_staff_requests_on_the_audit_page(carol_client, grant, alice, acme, alice_client):
    approve(grant, alice, acme)
    carol_client.get("/w/acme/")
    page = alice_client.get("/w/acme/settings/audit/", {"action": "support."}).content.decode()
    assert "support.request" in page
    assert "Tidings staff: carol@tidings.example" in page


def test_approval_sets_the_expiry_from_the_approval_time(grant, alice, acme):
    before = timezone.now()
    approve(grant, alice, acme, hours=8, allow_write=True)
    grant.refresh_from_db()
    assert grant.status == SupportGrantStatus.APPROVED
    assert before + timedelta(hours=8) <= grant.expires_at <= timezone.now() + timedelta(hours=8)
    assert grant.allow_write and grant.decided_by == alice


def test_approving_through_the_page(alice_client, grant):
    response = alice_client.post(
        f"/w/acme/settings/support/{grant.pk}/approve/", {f"g{grant.pk}-hours": "2", f"g{grant.pk}-allow_write": ""}
    )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert (grant.status, grant.hours, grant.allow_write) == ("approved", 2, False)


def test_approval_is_capped_at_72_hours(alice_client, grant, alice, acme):
    with pytest.raises(ValidationError):
        approve(grant, alice, acme, hours=73)
    alice_client.post(f"/w/acme/settings/support/{grant.pk}/approve/", {f"g{grant.pk}-hours": "100"})
    grant.refresh_from_db()
    assert grant.status == SupportGrantStatus.REQUESTED


def test_a_request_is_capped_at_72_hours(carol, acme):
    with pytest.raises(ValidationError):
        actions.support_grant_request(staff_user=carol, workspace=acme, reason="x", hours=73)


def test_a_grant_is_decided_only_once(grant, alice, acme):
    approve(grant, alice, acme)
    with pytest.raises(ValidationError):
        approve(grant, alice, acme)
    with pytest.raises(ValidationError):
        actions.support_grant_decline(grant=grant, principal=principal_of(alice, acme))


def test_only_an_approved_grant_can_be_revoked(grant, alice, acme):
    with pytest.raises(ValidationError):
        actions.support_grant_revoke(grant=grant, principal=principal_of(alice, acme))


def test_a_marketer_cannot_decide_on_support_access(grant, dave, acme, client):
    with pytest.raises(PermissionDenied):
        approve(grant, dave, acme)
    client.force_login(dave)
    assert client.get("/w/acme/settings/support/").status_code == 403


def test_the_admin_of_another_workspace_cannot_approve(grant, bob, globex):
    with pytest.raises(PermissionDenied):
        actions.support_grant_approve(grant=grant, principal=principal_of(bob, globex))


def test_only_staff_can_request_access(alice, globex):
    with pytest.raises(PermissionDenied):
        actions.support_grant_request(staff_user=alice, workspace=globex, reason="curious", hours=1)


def test_a_request_emails_the_owners_and_admins(erin, dave, grant, mailoutbox):
    (message,) = mailoutbox
    assert sorted(message.to) == ["alice@acme.example", "erin@acme.example"]
    assert "Ticket 4711" in message.body
    assert "/w/acme/settings/support/" in message.body


def test_every_decision_is_in_the_workspace_chain(grant, alice, acme):
    approve(grant, alice, acme)
    actions.support_grant_revoke(grant=grant, principal=principal_of(alice, acme))
    assert {"support.requested", "support.approved", "support.revoked"} <= set(audit_actions(acme))


def test_the_support_page_lists_the_request_with_its_reason(alice_client, grant):
    page = alice_client.get("/w/acme/settings/support/").content.decode()
    assert "carol@tidings.example" in page and "Ticket 4711" in page
    assert "Waiting for you" in page


def test_staff_page_is_404_for_non_staff(alice_client):
    assert alice_client.get("/staff/support/").status_code == 404


def test_staff_request_access_from_the_staff_page(carol_client, acme, mailoutbox, on_commit):
    with on_commit():
        response = carol_client.post(
            "/staff/support/", {"workspace": "acme", "reason": "Ticket 99", "hours": "12", "allow_write": "on"}
        )
    assert response.status_code == 302
    grant = SupportGrant.objects.get()
    assert (grant.workspace, grant.hours, grant.allow_write, grant.status) == (acme, 12, True, "requested")
    assert len(mailoutbox) == 1


def test_the_staff_page_refuses_an_unknown_workspace(carol_client, db):
    response = carol_client.post("/staff/support/", {"workspace": "nope", "reason": "x", "hours": "1"})
    assert response.status_code == 200
    assert b"no workspace with this slug" in response.content


def test_the_staff_page_links_to_a_workspace_while_the_grant_is_active(carol_client, grant, alice, acme):
    page = carol_client.get("/staff/support/").content.decode()
    assert "Waiting" in page and 'href="/w/acme/"' not in page
    approve(grant, alice, acme)
    page = carol_client.get("/staff/support/").content.decode()
    assert "Active" in page and 'href="/w/acme/">Open workspace' in page


def test_staff_page_query_count_is_pinned(carol_client, carol, acme, globex, django_assert_max_num_queries):
    for number in range(6):
        actions.support_grant_request(
            staff_user=carol, workspace=acme if number % 2 else globex, reason=f"t{number}", hours=1
        )
    with django_assert_max_num_queries(4):
        assert carol_client.get("/staff/support/").status_code == 200


def test_support_page_query_count_is_pinned(alice_client, carol, acme, django_assert_max_num_queries):  # +1: banner
    for number in range(6):
        actions.support_grant_request(staff_user=carol, workspace=acme, reason=f"t{number}", hours=1)
    with django_assert_max_num_queries(7):
        assert alice_client.get("/w/acme/settings/support/").status_code == 200
