"""The audit log page: newest first, filters, keyset pagination with htmx, actors named, permissions."""

from __future__ import annotations

import re

import pytest

from tidings.tests.principals import system


def seqs(response) -> list[int]:
    return [row["entry"].seq for row in response.context["rows"]]


def test_entries_are_listed_newest_first(alice_client, write_entries):
    write_entries(5)
    numbers = seqs(alice_client.get("/w/acme/settings/audit/"))
    assert numbers == sorted(numbers, reverse=True)
    assert len(numbers) >= 5


def test_the_page_shows_actor_action_target_network_and_time(alice_client, alice, acme):
    from tidings.audit.actions import audit_record

    class FakeRequest:
        META = {"REMOTE_ADDR": "203.0.113.77"}
        user = alice

    audit_record(
        "member.poked",
        workspace=acme,
        actor_type="user",
        actor_id=alice.pk,
        target_type="thing",
        target_id=42,
        request=FakeRequest(),
    )
    page = alice_client.get("/w/acme/settings/audit/").content.decode()
    assert "alice@acme.example" in page
    assert "member.poked" in page
    assert "thing #42" in page
    assert "203.0.113.0/24" in page and "203.0.113.77" not in page
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT', page)


def test_filter_by_action_prefix(alice_client, write_entries):
    write_entries(6, action="thing.done")
    response = alice_client.get("/w/acme/settings/audit/", {"action": "thing."})
    actions = {row["entry"].action for row in response.context["rows"]}
    assert actions == {"thing.done"}


def test_filter_by_actor_type(alice_client, alice, write_entries):
    write_entries(4, actor=alice)
    write_entries(4)
    response = alice_client.get("/w/acme/settings/audit/", {"actor": "user"})
    assert {row["entry"].actor_type for row in response.context["rows"]} == {"user"}


def test_pages_are_cut_by_seq_and_load_more_continues(alice_client, write_entries):
    write_entries(120)
    first = alice_client.get("/w/acme/settings/audit/")
    assert len(seqs(first)) == 50
    match = re.search(r'hx-get="(/w/acme/settings/audit/\?[^"]+)"', first.content.decode())
    assert match, "a Load more button"
    second = alice_client.get(match.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true")
    assert b"<html" not in second.content  # htmx gets only the rows
    assert seqs(second)[0] == seqs(first)[-1] - 1
    assert set(seqs(first)).isdisjoint(seqs(second))


def test_load_more_keeps_the_filters(alice_client, write_entries):
    write_entries(130, action="thing.done")
    first = alice_client.get("/w/acme/settings/audit/", {"action": "thing."})
    link = re.search(r'hx-get="([^"]+)"', first.content.decode()).group(1).replace("&amp;", "&")
    assert "action=thing." in link
    second = alice_client.get(link, HTTP_HX_REQUEST="true")
    assert {row["entry"].action for row in second.context["rows"]} == {"thing.done"}


def test_the_last_page_has_no_load_more(alice_client, write_entries):
    write_entries(3)
    assert b"Load more" not in alice_client.get("/w/acme/settings/audit/").content


def test_query_count_does_not_grow_with_entries_or_actors(
    alice_client, make_user, acme, write_entries, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    from tidings.accounts.actions import membership_create

    for number in range(8):
        member = make_user(f"m{number}@acme.example")
        with django_capture_on_commit_callbacks(using="default", execute=True):  # forwards member.added
            membership_create(workspace=acme, user=member, role="marketer", principal=system(acme))
        write_entries(6, actor=member)
    from django.db import connections

    # Global database: session, user, workspace, membership, switcher, the actors (one query for all).
    # 7: one of them reads Tidings' policy versions for the admins' banner (tidings.policies).
    with django_assert_max_num_queries(7), django_assert_max_num_queries(1, connection=connections["region_eu"]):
        response = alice_client.get("/w/acme/settings/audit/")
    assert len(response.context["rows"]) == 50


def test_a_marketer_cannot_browse_the_audit_log(client, make_user, acme):
    from tidings.accounts.actions import membership_create

    dave = make_user("dave@acme.example")
    membership_create(workspace=acme, user=dave, role="marketer", principal=system(acme))
    client.force_login(dave)
    assert client.get("/w/acme/settings/audit/").status_code == 403


def test_globex_entries_never_appear_in_acmes_log(alice_client, globex):
    from tidings.audit.actions import audit_record

    audit_record("globex.secret", workspace=globex, actor_type="system")
    assert b"globex.secret" not in alice_client.get("/w/acme/settings/audit/").content


@pytest.mark.parametrize("before", ["abc", "-5"])
def test_a_malformed_cursor_shows_the_first_page(alice_client, write_entries, before):
    write_entries(3)
    response = alice_client.get("/w/acme/settings/audit/", {"before": before})
    assert response.status_code == 200
