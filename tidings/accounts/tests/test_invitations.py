"""Inviting people by email: hashed single-use tokens, who may accept, and the audit trail."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ValidationError
from django.utils import timezone

from tidings.accounts.models import Invitation, Membership
from tidings.accounts.tests.helpers import audit_entries, principal_of

NEW_PASSWORD = "a long enough passphrase"


@pytest.fixture
def invite(acme, alice, on_commit, mailoutbox, settings):
    """Have alice invite someone through the Members page; return the link's path."""
    settings.TIDINGS_BASE_URL = "https://tidings.example"

    def send(email="dora@acme.example", role="marketer", client=None):
        from django.test import Client

        if client is None:
            client = Client()
            client.force_login(alice)
        with on_commit():
            response = client.post("/w/acme/settings/members/invite/", {"email": email, "role": role})
        assert response.status_code == 302, response.content
        return re.search(r"https://tidings\.example(/accounts/invitations/\S+/)", mailoutbox[-1].body).group(1)

    return send


def token_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]


def test_the_invitation_email_links_to_the_invitation(invite, mailoutbox):
    path = invite()
    assert mailoutbox[-1].to == ["dora@acme.example"]
    assert "Acme" in mailoutbox[-1].subject
    assert path.startswith("/accounts/invitations/")


def test_the_token_is_stored_only_as_its_sha256(invite):
    token = token_of(invite())
    invitation = Invitation.objects.get()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(list(Invitation.objects.values()), default=str)
    assert len(token) >= 40


def test_an_invitation_is_valid_for_seven_days(invite):
    invite()
    invitation = Invitation.objects.get()
    assert timedelta(days=6, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=7)


def test_inviting_is_audited_with_ids_only(invite, acme):
    invite()
    (entry,) = audit_entries(acme, "member.invited")
    assert entry.target_type == "invitation"
    assert entry.data == {"role": "marketer"}
    assert "dora" not in json.dumps(entry.data)


def test_a_new_person_sets_a_name_and_password_and_joins(invite, client, acme):
    path = invite()
    page = client.get(path)
    assert b"Create your account" in page.content
    response = client.post(
        path, {"first_name": "Dora", "last_name": "Example", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/w/acme/"
    membership = Membership.objects.get(workspace=acme, user__email="dora@acme.example")
    assert membership.role == "marketer"
    assert membership.user.first_name == "Dora"
    assert client.session[SESSION_KEY] == str(membership.user.pk)


def test_joining_is_audited_in_the_workspace_chain(invite, client, acme):
    path = invite()
    client.post(path, {"first_name": "Dora", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    (entry,) = audit_entries(acme, "member.joined")
    dora = Membership.objects.get(workspace=acme, user__email="dora@acme.example").user
    assert (entry.actor_type, entry.actor_id) == ("user", dora.pk)
    assert entry.data == {"user_id": dora.pk, "role": "marketer"}


def test_the_password_validators_apply_to_a_new_person(invite, client):
    path = invite()
    response = client.post(path, {"first_name": "Dora", "password1": "password", "password2": "password"})
    assert response.status_code == 200
    assert b"too common" in response.content
    assert not Membership.objects.filter(user__email="dora@acme.example").exists()


def test_an_invitation_works_only_once(invite, client):
    path = invite()
    client.post(path, {"first_name": "Dora", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    client.post("/accounts/logout/")
    response = client.get(path)
    assert response.status_code == 410
    assert b"used already" in response.content


def test_an_expired_invitation_is_refused(invite, client):
    path = invite()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.post(path, {"first_name": "Dora", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 410
    assert b"expired" in response.content
    assert not Membership.objects.filter(user__email="dora@acme.example").exists()


def test_an_unknown_token_is_not_found(client, db):
    assert client.get("/accounts/invitations/not-a-real-token/").status_code == 404


def test_an_existing_user_must_sign_in_first(invite, client, make_user):
    make_user("dora@acme.example")
    path = invite()
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/accounts/invitations/")


def test_an_existing_user_signed_in_as_someone_else_is_refused(invite, client, make_user, bob):
    make_user("dora@acme.example")
    path = invite()
    client.force_login(bob)
    response = client.post(path)
    assert response.status_code == 403
    assert not Membership.objects.filter(workspace__slug="acme", user=bob).exists()


def test_an_existing_user_signed_in_as_the_invited_address_joins(invite, client, make_user, acme):
    dora = make_user("dora@acme.example")
    path = invite(role="analyst")
    client.force_login(dora)
    assert b"Join Acme" in client.get(path).content
    response = client.post(path)
    assert response["Location"] == "/w/acme/"
    assert Membership.objects.get(workspace=acme, user=dora).role == "analyst"


def test_a_revoked_invitation_stops_working_and_is_audited(invite, alice_client, client, acme):
    path = invite()
    invitation = Invitation.objects.get()
    response = alice_client.post(f"/w/acme/settings/invitations/{invitation.pk}/revoke/")
    assert response.status_code == 302
    assert client.get(path).status_code == 410
    (entry,) = audit_entries(acme, "invitation.revoked")
    assert entry.target_id == str(invitation.pk)


def test_a_marketer_cannot_invite(invite, client, dave, mailoutbox):
    client.force_login(dave)
    response = client.post("/w/acme/settings/members/invite/", {"email": "eve@acme.example", "role": "marketer"})
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_an_admin_cannot_invite_an_owner(erin, acme):
    from tidings.accounts.actions import invitation_create

    with pytest.raises(ValidationError):
        invitation_create(workspace=acme, email="eve@acme.example", role="owner", principal=principal_of(erin, acme))


def test_an_owner_can_invite_an_owner(invite):
    invite(role="owner")
    assert Invitation.objects.get().role == "owner"


def test_inviting_a_current_member_is_refused(alice_client, erin):
    response = alice_client.post("/w/acme/settings/members/invite/", {"email": "erin@acme.example", "role": "admin"})
    assert response.status_code == 400
    assert b"already a member" in response.content
