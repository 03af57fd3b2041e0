"""Growing sign-in pauses instead of a 30-minute lock, their audit, and an admin's unlock.

The clock is frozen (freezegun) and moved by hand: no test sleeps or measures time.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import PermissionDenied

from tidings.accounts.tests.helpers import audit_entries, frozen_clock, principal_of

PASSWORD = "correct horse battery staple"
OFFICE = "198.51.100.7"  # one address shared by everyone behind the office's NAT


@pytest.fixture
def clock():
    """Freeze time at now; tests move it with clock.tick(seconds)."""
    with frozen_clock() as frozen:
        yield frozen


def sign_in(client, email, password=PASSWORD, address=OFFICE):
    return client.post("/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=address)


def fail(client, email, times, address=OFFICE):
    return [sign_in(client, email, "wrong password", address) for _ in range(times)][-1]


def system_entries(action):
    from tidings.audit.models import SYSTEM_CHAIN, AuditEntry

    return list(AuditEntry.objects.using("default").filter(workspace_id=SYSTEM_CHAIN, action=action).order_by("seq"))


# Growing delays


def test_the_fifth_failure_pauses_sign_in_for_fifteen_seconds_and_says_so(client, alice, clock):
    response = fail(client, "alice@acme.example", 5)
    assert response.status_code == 429
    assert response["Retry-After"] == "15"
    assert b"paused for 15 seconds" in response.content


def test_the_right_password_works_again_once_the_pause_is_over(client, alice, clock):
    fail(client, "alice@acme.example", 5)
    clock.tick(16)
    response = sign_in(client, "alice@acme.example")
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(alice.pk)


def test_each_failure_after_a_pause_doubles_the_next_pause(client, alice, clock):
    pauses = []
    fail(client, "alice@acme.example", 4)
    for _ in range(5):
        response = sign_in(client, "alice@acme.example", "wrong password")
        pauses.append(int(response["Retry-After"]))
        clock.tick(pauses[-1] + 1)
    assert pauses == [15, 30, 60, 120, 240]


def test_the_pause_grows_to_fifteen_minutes_and_no_further(client, alice, clock):
    fail(client, "alice@acme.example", 4)
    for _ in range(12):
        response = sign_in(client, "alice@acme.example", "wrong password")
        clock.tick(int(response["Retry-After"]) + 1)
    assert response["Retry-After"] == "900"
    assert b"paused for 15 minutes" in response.content


def test_attempts_during_a_pause_are_refused_without_lengthening_it(client, alice, clock):
    fail(client, "alice@acme.example", 5)
    clock.tick(10)
    refused = sign_in(client, "alice@acme.example")  # even the right password waits
    assert refused.status_code == 429
    assert refused["Retry-After"] == "5"
    fail(client, "alice@acme.example", 3)
    clock.tick(6)
    assert sign_in(client, "alice@acme.example").status_code == 302


def test_a_successful_sign_in_forgets_the_failures(client, alice, clock):
    fail(client, "alice@acme.example", 4)
    assert sign_in(client, "alice@acme.example").status_code == 302
    client.logout()
    response = fail(client, "alice@acme.example", 4)
    assert response.status_code == 200  # four fresh failures: no pause yet


def test_a_successful_sign_in_leaves_no_clear_text_record_behind(client, alice, clock):
    from axes.models import AccessAttempt, AccessLog

    fail(client, "alice@acme.example", 2)
    assert sign_in(client, "alice@acme.example").status_code == 302

    assert not AccessLog.objects.exists()  # no log of who signed in from where, in clear, kept forever
    assert not AccessAttempt.objects.exists()  # and the failures before it are forgotten


def test_failures_are_forgotten_after_a_day_without_one(client, alice, clock):
    fail(client, "alice@acme.example", 5)
    clock.tick(24 * 60 * 60 + 1)
    response = fail(client, "alice@acme.example", 4)
    assert response.status_code == 200


def test_a_pause_holds_one_address_only_so_other_networks_still_sign_in(client, alice, clock):
    fail(client, "alice@acme.example", 5)
    response = sign_in(client, "alice@acme.example", address="203.0.113.20")
    assert response.status_code == 302


def test_a_pause_holds_one_account_only_so_colleagues_on_the_same_network_still_sign_in(client, alice, bob, clock):
    fail(client, "alice@acme.example", 5)
    assert sign_in(client, "bob@globex.example").status_code == 302


def test_a_forged_x_forwarded_for_buys_no_fresh_attempts_by_default(client, alice, clock):
    for n in range(5):
        response = client.post(
            "/accounts/login/",
            {"username": "alice@acme.example", "password": "wrong password"},
            REMOTE_ADDR=OFFICE,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    assert response.status_code == 429


def test_behind_a_trusted_proxy_each_client_address_has_its_own_count(client, alice, clock, settings):
    settings.TIDINGS_BEHIND_PROXY = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for _ in range(5):
        client.post(
            "/accounts/login/",
            {"username": "alice@acme.example", "password": "wrong password"},
            HTTP_X_FORWARDED_FOR=OFFICE,
            **proxy,
        )
    elsewhere = client.post(
        "/accounts/login/",
        {"username": "alice@acme.example", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.20",
        **proxy,
    )
    assert elsewhere.status_code == 302


# Audit of pauses


def test_a_new_pause_is_audited_in_the_system_chain_with_ids_only(client, alice, clock):
    fail(client, "alice@acme.example", 5)
    [entry] = system_entries("user.sign_in_paused")
    assert (entry.target_type, entry.target_id) == ("user", str(alice.pk))
    assert entry.data == {"failures": 5, "pause_seconds": 15, "surface": "ui", "known_account": True}
    assert entry.ip_prefix == "198.51.100.0/24"
    stored = json.dumps(entry.data) + entry.target_id + entry.ip_prefix
    assert "alice" not in stored and OFFICE not in stored


def test_attempts_refused_during_a_pause_add_no_audit_entry(client, alice, clock):
    fail(client, "alice@acme.example", 8)
    assert len(system_entries("user.sign_in_paused")) == 1


def test_every_new_pause_is_audited_with_its_length(client, alice, clock):
    fail(client, "alice@acme.example", 5)
    clock.tick(16)
    fail(client, "alice@acme.example", 1)
    assert [entry.data["pause_seconds"] for entry in system_entries("user.sign_in_paused")] == [15, 30]


def test_a_pause_for_an_address_that_is_no_account_is_audited_without_naming_it(client, db, clock):
    fail(client, "nobody@nowhere.invalid", 5)
    [entry] = system_entries("user.sign_in_paused")
    assert entry.target_id == ""
    assert entry.data["known_account"] is False
    assert "nowhere" not in json.dumps(entry.data)


# An admin's unlock


def _members_url(workspace, membership=None, tail=""):
    base = f"/w/{workspace.slug}/settings/members/"
    return base if membership is None else f"{base}{membership.pk}/{tail}"


@pytest.fixture
def paused_dave(client, dave, clock):
    """Dave's sign-ins from the office are paused after five wrong passwords; return his membership."""
    from tidings.accounts.models import Membership

    fail(client, "dave@acme.example", 5)
    return Membership.objects.get(user=dave)


def test_the_members_page_shows_a_paused_member_with_an_unlock_button(alice_client, acme, paused_dave):
    response = alice_client.get(_members_url(acme))
    assert response.status_code == 200
    assert b"Sign-in paused" in response.content
    assert _members_url(acme, paused_dave, "unlock/").encode() in response.content


def test_the_members_page_offers_no_unlock_when_nobody_failed(alice_client, acme, dave):
    response = alice_client.get(_members_url(acme))
    assert b"/unlock/" not in response.content


def test_an_admin_unlocks_a_paused_member_who_then_signs_in(client, alice, acme, dave, paused_dave):
    admin = type(client)()
    admin.force_login(alice)
    response = admin.post(_members_url(acme, paused_dave, "unlock/"))
    assert response.status_code == 302
    assert sign_in(client, "dave@acme.example").status_code == 302
    assert client.session[SESSION_KEY] == str(dave.pk)


def test_an_unlock_is_audited_in_the_workspace_chain_with_ids_only(alice_client, alice, acme, dave, paused_dave):
    alice_client.post(_members_url(acme, paused_dave, "unlock/"), REMOTE_ADDR="203.0.113.9")
    [entry] = audit_entries(acme, "member.sign_in_unlocked")
    assert (entry.actor_type, entry.actor_id) == ("user", alice.pk)
    assert (entry.target_type, entry.target_id) == ("user", str(dave.pk))
    assert entry.data == {"attempt_rows_cleared": 1}
    assert entry.ip_prefix == "203.0.113.0/24"


def test_the_unlock_action_refuses_a_member_without_members_manage(acme, dave, erin, paused_dave):
    from tidings.accounts.actions import member_sign_in_unlock

    with pytest.raises(PermissionDenied):
        member_sign_in_unlock(membership=paused_dave, principal=principal_of(dave, acme))


def test_the_unlock_action_lets_an_admin_with_members_manage_unlock(acme, erin, paused_dave):
    from tidings.accounts.actions import member_sign_in_unlock
    from tidings.accounts.selectors import sign_in_pauses_of

    assert member_sign_in_unlock(membership=paused_dave, principal=principal_of(erin, acme)) == 1
    assert sign_in_pauses_of([paused_dave]) == {}


def test_the_unlock_action_refuses_a_principal_of_another_workspace(globex, bob, paused_dave):
    from tidings.accounts.actions import member_sign_in_unlock

    with pytest.raises(PermissionDenied):
        member_sign_in_unlock(membership=paused_dave, principal=principal_of(bob, globex))


def test_a_marketer_gets_403_from_the_unlock_route(client, acme, dave, paused_dave):
    client.force_login(dave)
    assert client.post(_members_url(acme, paused_dave, "unlock/")).status_code == 403


def test_an_admin_of_another_workspace_gets_404_from_the_unlock_route(client, bob, globex, paused_dave):
    client.force_login(bob)
    response = client.post(_members_url(globex, paused_dave, "unlock/"))
    assert response.status_code == 404


def test_unlocking_a_member_with_no_failures_says_so_and_audits_nothing(alice_client, acme, dave):
    from tidings.accounts.models import Membership

    membership = Membership.objects.get(user=dave)
    response = alice_client.post(_members_url(acme, membership, "unlock/"), follow=True)
    assert b"No failed sign-ins are recorded" in response.content
    assert audit_entries(acme, "member.sign_in_unlocked") == []
