"""The audit log's targets linked through the resolver registry, one entry in detail, date filters,
and staff support page views marked apart (issue 8)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from tidings.audit.actions import audit_record
from tidings.audit.models import AuditEntry
from tidings.audit.targets import register_target, target_url, to_page
from tidings.tests.principals import system


def _record(acme, action="thing.done", target_type="", target_id="", data=None, actor_type="system"):
    audit_record(action, workspace=acme, actor_type=actor_type, actor_id=None, target_type=target_type,
                 target_id=target_id, data=data or {})  # fmt: skip
    return AuditEntry.objects.using("region_eu").filter(workspace_id=acme.pk).order_by("-seq").first()


def test_a_contact_target_links_to_the_contact_page(alice_client, acme, ada):
    _record(acme, "contact.updated", "contact", ada.id)

    page = alice_client.get("/w/acme/settings/audit/").content.decode()

    assert f'href="/w/acme/contacts/{ada.id}/">contact #{ada.id}</a>' in page


def test_registered_resolvers_link_companies_imports_members_and_tokens():
    assert target_url("acme", "company", "7") == "/w/acme/companies/7/"
    assert target_url("acme", "contact_import", "3") == "/w/acme/contacts/imports/3/"
    assert target_url("acme", "user", "5") == "/w/acme/settings/members/"
    assert target_url("acme", "api_token", "9") == "/w/acme/settings/api-tokens/"
    assert target_url("acme", "contact_field", "2").startswith("/w/acme/settings/fields/")


def test_a_target_nobody_registered_or_a_malformed_id_is_text_only():
    assert target_url("acme", "thing", "42") is None
    assert target_url("acme", "contact", "42; drop") is None
    assert target_url("acme", "contact", "") is None


def test_an_app_registers_its_own_target_type():
    register_target("test_gadget", to_page("audit:log", "#gadgets"))

    assert target_url("acme", "test_gadget", "1") == "/w/acme/settings/audit/#gadgets"


def test_an_entry_opens_in_detail_with_its_data_and_chain(alice_client, acme):
    entry = _record(acme, "thing.done", "thing", "42", data={"rows": 12})

    response = alice_client.get(f"/w/acme/settings/audit/{entry.seq}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "thing.done" in page and "<code>rows</code>" in page and ">12<" in page and entry.hash in page


def test_an_entry_number_not_in_the_workspace_is_404(alice_client, acme):
    entry = _record(acme)

    response = alice_client.get(f"/w/acme/settings/audit/{entry.seq + 10_000}/")

    assert response.status_code == 404


def test_a_marketer_cannot_open_an_entry(client, make_user, acme):
    from tidings.accounts.actions import membership_create

    entry = _record(acme)
    dave = make_user("dave@acme.example")
    membership_create(workspace=acme, user=dave, role="marketer", principal=system(acme))
    client.force_login(dave)

    assert client.get(f"/w/acme/settings/audit/{entry.seq}/").status_code == 403


def test_the_log_filters_by_dates_both_ends_included(alice_client, acme):
    old = _record(acme, "thing.old")
    AuditEntry.objects.using("region_eu").filter(pk=old.pk).update(at=timezone.now() - datetime.timedelta(days=10))
    _record(acme, "thing.new")
    today = timezone.now().date()

    recent = alice_client.get("/w/acme/settings/audit/", {"since": today.isoformat(), "until": today.isoformat()})
    earlier = alice_client.get("/w/acme/settings/audit/", {"until": (today - datetime.timedelta(days=5)).isoformat()})

    assert "thing.old" not in {row["entry"].action for row in recent.context["rows"]}
    assert "thing.new" in {row["entry"].action for row in recent.context["rows"]}
    assert {row["entry"].action for row in earlier.context["rows"]} == {"thing.old"}


def test_an_end_date_before_the_start_is_an_error_not_a_filter(alice_client, acme):
    _record(acme, "thing.new")

    response = alice_client.get("/w/acme/settings/audit/", {"since": "2026-05-02", "until": "2026-05-01"})

    assert "comes before" in response.content.decode()
    assert response.context["rows"]


def test_staff_page_views_are_marked_apart(alice_client, acme):
    _record(acme, "support.request", "support_grant", "1", data={"method": "GET", "path": "/w/acme/contacts/",
                                                                 "status": 200}, actor_type="staff")  # fmt: skip
    _record(acme, "contact.updated")

    response = alice_client.get("/w/acme/settings/audit/")

    marked = [row["entry"].action for row in response.context["rows"] if row["support_view"]]
    assert marked == ["support.request"]
    assert 'class="support-view"' in response.content.decode() and "Staff page view" in response.content.decode()
