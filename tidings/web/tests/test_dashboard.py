"""The dashboard and the shell every page shares: figures, recent activity, navigation, forms."""

from __future__ import annotations

import re

import pytest

from tidings.tests.principals import system


@pytest.fixture
def marketer_client(client, make_user, acme):
    from tidings.accounts.actions import membership_create

    dave = make_user("dave@acme.example")
    membership_create(workspace=acme, user=dave, role="marketer", principal=system(acme))
    client.force_login(dave)
    return client


def test_dashboard_shows_members_region_and_two_factor_status(alice_client, acme):
    response = alice_client.get("/w/acme/")
    page = response.content.decode()
    assert response.context["member_count"] == 1
    assert "European Union" in page
    assert "Not required" in page
    assert 'href="/accounts/security/">not set up' in page


def test_dashboard_shows_the_five_newest_audit_entries_to_auditors(alice_client, acme):
    from tidings.audit.actions import audit_record

    for number in range(8):
        audit_record(f"thing.step{number}", workspace=acme, actor_type="system")
    response = alice_client.get("/w/acme/")
    actions = [row["entry"].action for row in response.context["audit_rows"]]
    assert actions == [f"thing.step{number}" for number in (7, 6, 5, 4, 3)]
    assert b"Full audit log" in response.content


def test_dashboard_hides_the_audit_entries_without_audit_view(marketer_client):
    response = marketer_client.get("/w/acme/")
    assert "audit_rows" not in response.context
    assert b"Recent activity" not in response.content


def test_dashboard_query_count_is_pinned(alice_client, acme, django_assert_max_num_queries):
    from django.db import connections

    # In the region: the recent audit entries, one query per contacts widget (seven) and the top tags' names.
    # One of them reads Tidings' policy versions for the admins' banner (tidings.policies).
    with django_assert_max_num_queries(9), django_assert_max_num_queries(9, connection=connections["region_eu"]):
        assert alice_client.get("/w/acme/").status_code == 200


def test_the_current_page_is_marked_in_the_navigation(alice_client):
    page = alice_client.get("/w/acme/settings/members/").content.decode()
    assert re.search(
        r'<a href="/w/acme/settings/members/" aria-current="page">[^<]*<svg.*?</svg>'
        r'<span class="nav-label">Members</span></a>',
        page,
    )
    assert '<a href="/w/acme/" aria-current="page">' not in page
    assert '<a href="/w/acme/" aria-current="true">Acme' in page  # the switcher marks the workspace


def test_home_offers_a_choice_to_a_member_of_several_workspaces(client, alice, globex):
    from tidings.accounts.actions import membership_create

    membership_create(workspace=globex, user=alice, role="analyst", principal=system(globex))
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert 'href="/w/acme/"' in page and 'href="/w/globex/"' in page


PAGES = [
    "/w/acme/",
    "/w/acme/settings/members/",
    "/w/acme/settings/workspace/",
    "/w/acme/settings/support/",
    "/w/acme/settings/audit/",
    "/w/acme/settings/roles/",
    "/accounts/security/",
    "/accounts/password/",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_post_form_carries_a_csrf_token(alice_client, acme, carol, path):
    from tidings.accounts.actions import invitation_create, support_grant_request
    from tidings.accounts.selectors import principal_for_user

    invitation_create(
        workspace=acme,
        email="x@acme.example",
        role="analyst",
        principal=principal_for_user(acme.memberships.get().user, acme),
    )
    support_grant_request(staff_user=carol, workspace=acme, reason="r", hours=1)
    page = alice_client.get(path).content.decode()
    forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", page, flags=re.S | re.I)
    assert forms, f"{path} has no POST form"
    assert all('name="csrfmiddlewaretoken"' in form for form in forms)


@pytest.mark.parametrize("path", PAGES)
def test_every_input_has_a_label(alice_client, acme, path):
    page = alice_client.get(path).content.decode()
    ids = re.findall(r'<(?:input|select|textarea)(?![^>]*type="(?:hidden|submit)")[^>]*\bid="([^"]+)"', page)
    for element_id in ids:
        assert f'for="{element_id}"' in page, f"{path}: #{element_id} has no label"


@pytest.mark.parametrize("path", PAGES)
def test_no_page_uses_inline_styles_or_scripts(alice_client, acme, path):
    page = alice_client.get(path).content.decode()
    assert " style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)


def test_pages_turn_off_htmx_inline_indicator_styles(alice_client, acme):
    """htmx injects a <style> element unless told not to, and the CSP refuses inline styles."""
    response = alice_client.get(f"/w/{acme.slug}/")
    assert b'"includeIndicatorStyles": false' in response.content
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
