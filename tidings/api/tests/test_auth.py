"""One authentication module for both APIs: tokens, OAuth2, Basic; revoked, expired and unknown refused."""

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from tidings.accounts.selectors import principal_for_user
from tidings.api.actions import api_token_create, api_token_revoke
from tidings.api.auth import principal_from_request
from tidings.api.models import ApiToken


def _me(client, headers):
    return client.get("/api/v1/me", **headers)


def test_a_bearer_token_acts_as_its_user_in_its_workspace(client, alice_token, bearer, acme):
    response = _me(client, bearer(alice_token[1]))
    assert response.status_code == 200
    body = response.json()
    assert body["via"] == "token"
    assert body["user"]["email"] == "alice@acme.example"
    assert body["workspace"]["slug"] == acme.slug
    assert body["region"] == "eu"


def test_using_a_token_records_its_last_use(client, alice_token, bearer):
    _me(client, bearer(alice_token[1]))
    assert ApiToken.objects.get(pk=alice_token[0].pk).last_used_at is not None


def test_a_revoked_token_is_refused(client, alice_token, bearer):
    api_token_revoke(token=alice_token[0], principal=principal_for_user(alice_token[0].user, alice_token[0].workspace))
    response = _me(client, bearer(alice_token[1]))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_an_expired_token_is_refused(client, alice_token, bearer):
    ApiToken.objects.filter(pk=alice_token[0].pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _me(client, bearer(alice_token[1])).status_code == 401


def test_a_token_with_a_wrong_secret_is_refused(client, alice_token, bearer):
    tampered = alice_token[1][:-4] + "AAAA"
    assert _me(client, bearer(tampered)).status_code == 401


def test_a_made_up_token_is_refused(client, bearer, acme):
    assert _me(client, bearer("tdg_000000000000_" + "x" * 43)).status_code == 401


def test_a_demotion_narrows_what_an_existing_token_can_do(client, alice_token, bearer, acme, alice):
    from tidings.accounts.models import Membership

    assert client.get("/api/v1/audit", **bearer(alice_token[1])).status_code == 200
    Membership.objects.filter(workspace=acme, user=alice).update(role="analyst")
    response = client.get("/api/v1/audit", **bearer(alice_token[1]))
    assert response.status_code == 403
    assert "audit:view" not in _me(client, bearer(alice_token[1])).json()["permissions"]


def test_a_token_stops_working_when_its_user_leaves_the_workspace(client, alice_token, bearer, acme, alice):
    from tidings.accounts.models import Membership

    Membership.objects.filter(workspace=acme, user=alice).delete()
    assert _me(client, bearer(alice_token[1])).status_code == 401


def test_basic_auth_with_email_and_password_acts_as_the_member(client, basic, alice):
    response = _me(client, basic("alice@acme.example", "correct horse battery staple"))
    assert response.status_code == 200
    assert response.json()["via"] == "member"


def test_basic_auth_with_a_wrong_password_is_refused(client, basic, alice):
    assert _me(client, basic("alice@acme.example", "wrong horse")).status_code == 401


def test_basic_auth_is_locked_out_after_five_failures_even_with_the_right_password(client, basic, alice):
    failures = [_me(client, basic("alice@acme.example", "wrong horse")).status_code for _ in range(5)]
    assert failures == [401, 401, 401, 401, 429]  # the fifth failure locks the pair out
    response = _me(client, basic("alice@acme.example", "correct horse battery staple"))
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"


def test_basic_auth_takes_an_api_token_as_the_password_with_any_username(client, basic, alice_token):
    response = _me(client, basic("anything", alice_token[1]))
    assert response.status_code == 200
    assert response.json()["via"] == "token"


def test_staff_with_an_approved_support_grant_get_nothing_through_the_api(client, basic, acme, carol):
    from tidings.accounts.models import SupportGrant

    SupportGrant.objects.create(
        workspace=acme,
        staff_user=carol,
        reason="Ticket 42",
        status="approved",
        expires_at=timezone.now() + timedelta(hours=2),
    )
    headers = basic("carol@tidings.example", "correct horse battery staple")
    assert _me(client, headers).status_code == 401
    assert client.get(f"/m/{acme.slug}/api/users/self", **headers).status_code == 404


def test_principal_from_request_is_none_without_credentials_and_for_bad_ones(alice_token):
    factory = RequestFactory()
    assert principal_from_request(factory.get("/api/v1/me")) is None
    assert principal_from_request(factory.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer tdg_nope_nope")) is None
    principal = principal_from_request(factory.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {alice_token[1]}"))
    assert principal.via == "token" and principal.credential_id == alice_token[0].pk


def test_an_unknown_scheme_is_refused(client, acme):
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION="Digest abc").status_code == 401


@pytest.mark.parametrize("permissions", [["workspace:view"]])
def test_a_narrow_token_cannot_reach_beyond_its_permissions(client, bearer, acme, alice, permissions):
    _, secret = api_token_create(
        workspace=acme, user=alice, name="Narrow", permissions=permissions, principal=principal_for_user(alice, acme)
    )
    assert client.get("/api/v1/audit", **bearer(secret)).status_code == 403
