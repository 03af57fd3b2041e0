"""Personal API tokens: creation, storage, permissions, revocation, last use."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tidings.accounts.selectors import principal_for_user
from tidings.api.actions import api_token_create, api_token_revoke, api_token_touch
from tidings.api.models import ApiToken, hash_token_secret
from tidings.audit.actions import audit_outbox_forward
from tidings.audit.models import AuditEntry
from tidings.tests.principals import system


def test_a_new_token_is_shown_once_in_the_tdg_format_and_stored_only_as_a_hash(alice_token):
    token, secret = alice_token
    scheme, prefix, raw = secret.split("_", 2)
    assert (scheme, prefix) == ("tdg", token.prefix)
    assert len(raw) >= 43  # 256 bits, base64url
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.secret_hash == hash_token_secret(raw)
    assert raw not in str(ApiToken.objects.filter(pk=token.pk).values().get())


def test_a_token_defaults_to_every_permission_of_its_creators_role(alice_token):
    from tidings.accounts.permissions import role_permissions

    token, _ = alice_token
    assert set(token.permissions) == role_permissions("owner")


def test_a_marketer_cannot_give_a_token_a_permission_their_role_lacks(acme, dave):
    with pytest.raises(ValidationError) as raised:
        api_token_create(
            workspace=acme,
            user=dave,
            name="Reports",
            permissions=["audit:view"],
            principal=principal_for_user(dave, acme),
        )
    assert "audit:view" in str(raised.value)


def test_an_unknown_permission_is_refused(acme, alice):
    with pytest.raises(ValidationError):
        api_token_create(
            workspace=acme,
            user=alice,
            name="Typo",
            permissions=["contacts:veiw"],
            principal=principal_for_user(alice, acme),
        )


def test_only_members_have_tokens_for_a_workspace(acme, bob):
    with pytest.raises(ValidationError):
        api_token_create(workspace=acme, user=bob, name="Sneaky", principal=system(acme))


def test_a_principal_of_another_workspace_cannot_mint_a_token_here(acme, globex, bob):
    with pytest.raises(PermissionDenied):
        api_token_create(workspace=acme, user=bob, name="Sneaky", principal=principal_for_user(bob, globex))
    assert not ApiToken.objects.filter(workspace=acme).exists()


def test_a_member_without_settings_manage_cannot_revoke_anothers_token(acme, alice_token, dave):
    token, _ = alice_token
    with pytest.raises(PermissionDenied):
        api_token_revoke(token=token, principal=principal_for_user(dave, acme))
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_holder_of_settings_manage_revokes_a_members_token(acme, alice, dave):
    token, _ = api_token_create(workspace=acme, user=dave, name="Dave's", principal=principal_for_user(dave, acme))
    api_token_revoke(token=token, principal=principal_for_user(alice, acme))
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_nobody_creates_a_token_for_someone_else(acme, alice, dave):
    with pytest.raises(ValidationError):
        api_token_create(workspace=acme, user=dave, name="For Dave", principal=principal_for_user(alice, acme))


def test_creating_and_revoking_a_token_is_audited(acme, alice_token):
    token, _ = alice_token
    api_token_revoke(token=token, principal=principal_for_user(token.user, token.workspace))
    audit_outbox_forward()  # token changes are global: their entries reach the chain through the outbox
    actions = list(
        AuditEntry.objects.using("region_eu")
        .filter(workspace_id=acme.pk, target_type="api_token", target_id=str(token.pk))
        .values_list("action", flat=True)
    )
    assert sorted(actions) == ["api_token.created", "api_token.revoked"]


def test_revoking_twice_records_one_revocation(acme, alice_token):
    token, _ = alice_token
    api_token_revoke(token=token, principal=principal_for_user(token.user, token.workspace))
    first = ApiToken.objects.get(pk=token.pk).revoked_at
    api_token_revoke(token=token, principal=principal_for_user(token.user, token.workspace))
    assert ApiToken.objects.get(pk=token.pk).revoked_at == first
    audit_outbox_forward()
    assert AuditEntry.objects.using("region_eu").filter(action="api_token.revoked").count() == 1


def test_last_use_is_written_at_most_once_a_minute(alice_token):
    token, _ = alice_token
    start = timezone.now()
    api_token_touch(token, now=start)
    api_token_touch(token, now=start + timedelta(seconds=30))
    assert ApiToken.objects.get(pk=token.pk).last_used_at == start
    api_token_touch(token, now=start + timedelta(seconds=61))
    assert ApiToken.objects.get(pk=token.pk).last_used_at == start + timedelta(seconds=61)
