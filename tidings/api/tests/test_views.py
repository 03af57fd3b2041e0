"""The API tokens settings page."""

import re

from tidings.accounts.selectors import principal_for_user
from tidings.api.actions import api_token_create
from tidings.api.models import ApiToken


def _secret_in(response) -> str | None:
    found = re.search(rb'data-testid="new-secret">([^<]+)<', response.content)
    return found.group(1).decode() if found else None


def test_a_member_creates_a_token_and_sees_its_secret_once(dave_client, acme, client, bearer):
    response = dave_client.post(
        f"/w/{acme.slug}/settings/api-tokens/", {"name": "Newsletter tool", "permissions": ["contacts:view"]}
    )
    secret = _secret_in(response)
    assert secret and secret.startswith("tdg_")
    token = ApiToken.objects.get(name="Newsletter tool")
    assert token.permissions == ["contacts:view"]
    assert _secret_in(dave_client.get(f"/w/{acme.slug}/settings/api-tokens/")) is None
    assert client.get("/api/v1/me", **bearer(secret)).status_code == 200


def test_the_form_offers_only_the_members_own_permissions(dave_client, acme):
    page = dave_client.get(f"/w/{acme.slug}/settings/api-tokens/").content.decode()
    assert 'value="contacts:view"' in page
    assert 'value="audit:view"' not in page
    refused = dave_client.post(f"/w/{acme.slug}/settings/api-tokens/", {"name": "Wide", "permissions": ["audit:view"]})
    assert refused.status_code == 200 and _secret_in(refused) is None
    assert not ApiToken.objects.filter(name="Wide").exists()


def test_a_member_sees_only_their_tokens_and_an_admin_sees_all(dave_client, alice_client, alice_token, acme, dave):
    api_token_create(workspace=acme, user=dave, name="Dave's sync", principal=principal_for_user(dave, acme))
    alices = alice_token[0].display_prefix
    dave_page = dave_client.get(f"/w/{acme.slug}/settings/api-tokens/").content.decode()
    assert "Dave&#x27;s sync" in dave_page and alices not in dave_page
    alice_page = alice_client.get(f"/w/{acme.slug}/settings/api-tokens/").content.decode()
    assert "Dave&#x27;s sync" in alice_page and alices in alice_page


def test_a_member_cannot_revoke_someone_elses_token(dave_client, alice_token, acme):
    response = dave_client.post(f"/w/{acme.slug}/settings/api-tokens/{alice_token[0].pk}/revoke/")
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=alice_token[0].pk).revoked_at is None


def test_a_settings_manager_revokes_any_token_of_the_workspace(alice_client, acme, dave):
    token, _ = api_token_create(workspace=acme, user=dave, name="Dave's sync", principal=principal_for_user(dave, acme))
    response = alice_client.post(f"/w/{acme.slug}/settings/api-tokens/{token.pk}/revoke/", {"confirmed": "1"})
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_revoking_without_confirmation_asks_first(alice_client, alice_token, acme):
    """Without JavaScript the dialog cannot ask, so the page does: nothing is revoked yet."""
    response = alice_client.post(f"/w/{acme.slug}/settings/api-tokens/{alice_token[0].pk}/revoke/")
    assert response.status_code == 200
    assert b"Revoke this token?" in response.content and b'name="confirmed" value="1"' in response.content
    assert ApiToken.objects.get(pk=alice_token[0].pk).revoked_at is None


def test_the_form_ticks_no_permission_and_suggests_an_expiry(alice_client, acme):
    page = alice_client.get(f"/w/{acme.slug}/settings/api-tokens/").content.decode()
    assert 'name="permissions"' in page and "checked" not in page
    assert '<option value="90" selected>' in page


def test_a_token_without_a_ticked_permission_is_refused_with_a_form_error(alice_client, acme):
    response = alice_client.post(f"/w/{acme.slug}/settings/api-tokens/", {"name": "Nothing", "expires": "90"})
    assert b"Tick at least one permission." in response.content
    assert not ApiToken.objects.filter(name="Nothing").exists()


def test_a_token_created_with_the_suggested_expiry_expires_in_90_days(alice_client, acme):
    from datetime import timedelta

    from django.utils import timezone

    alice_client.post(
        f"/w/{acme.slug}/settings/api-tokens/", {"name": "Sync", "permissions": ["contacts:view"], "expires": "90"}
    )
    token = ApiToken.objects.get(name="Sync")
    assert timezone.now() + timedelta(days=89) < token.expires_at <= timezone.now() + timedelta(days=90)


def test_the_settings_navigation_links_the_token_page(dave_client, acme):
    page = dave_client.get(f"/w/{acme.slug}/").content.decode()
    assert f"/w/{acme.slug}/settings/api-tokens/" in page
    assert f"/w/{acme.slug}/settings/oauth-apps/" not in page  # dave lacks settings:manage
