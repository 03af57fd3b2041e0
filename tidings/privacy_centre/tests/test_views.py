"""The privacy centre's pages: retention, records of processing (page and downloads), recipients and transfers."""

from __future__ import annotations

import datetime
import json

import pytest

from tidings.privacy_centre import actions
from tidings.privacy_centre.models import Recipient, RetentionRule
from tidings.tests.principals import system

BASE = "/w/acme/privacy/"


@pytest.fixture
def mia_client(acme, client):
    """A client signed in as mia, a marketer in Acme: she does not see the privacy centre."""
    from tidings.accounts.actions import membership_create, user_create

    mia = user_create(email="mia@acme.example", password="correct horse battery staple")
    membership_create(workspace=acme, user=mia, role="marketer", principal=system(acme))
    client.force_login(mia)
    return client


def test_the_retention_page_shows_each_class_and_saves_periods(alice_client, in_acme):
    body = alice_client.get(BASE + "retention/").content.decode()
    for text in ("Raw tracking events", "Audit log", "hash chain", "daily count of the deleted events"):
        assert text in body
    response = alice_client.post(BASE + "retention/", {"tracking_events": "90", "inactive_contacts": "1095",
                                                       "email_events": "", "anonymous_visitors": "396",
                                                       "form_submissions": "1095"})  # fmt: skip
    assert response.status_code == 302
    saved = dict(RetentionRule.objects.values_list("data_class", "days"))
    assert saved == {"tracking_events": 90, "inactive_contacts": 1095, "email_events": None}
    assert 'href="/w/acme/privacy/retention/"' in alice_client.get("/w/acme/").content.decode()


def test_an_admin_runs_retention_now_for_this_workspace_through_the_task_queue(
    alice_client, in_acme, globex, settings, django_capture_on_commit_callbacks
):
    from tidings.audit.models import AuditEntry
    from tidings.events.models import Event
    from tidings.events.registry import code_for
    from tidings.tenancy.context import use_workspace

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    old = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    Event.objects.create(type=code_for("page.hit"), at=old, visitor_id=1, data={})
    with use_workspace(globex):
        Event.objects.create(type=code_for("page.hit"), at=old, visitor_id=1, data={})
    asked = alice_client.post(BASE + "retention/run/")
    assert asked.status_code == 200 and "Run retention now?" in asked.content.decode()  # confirm first
    assert Event.objects.filter(type=code_for("page.hit")).count() == 1
    with django_capture_on_commit_callbacks(using="region_eu", execute=True):
        response = alice_client.post(BASE + "retention/run/", {"confirmed": "1"})
    assert response.status_code == 302
    assert not Event.objects.filter(type=code_for("page.hit")).exists()
    with use_workspace(globex):
        assert Event.objects.filter(type=code_for("page.hit")).count() == 1, "Globex's run is its own"
    actions_done = list(AuditEntry.objects.filter(workspace_id=in_acme.id).values_list("action", "actor_type"))
    assert ("privacy.retention_run_requested", "user") in actions_done
    assert any(action == "privacy.retention_enforced" for action, _ in actions_done)
    assert 'action="/w/acme/privacy/retention/run/"' in alice_client.get(BASE + "retention/").content.decode()


def test_an_invalid_period_is_shown_next_to_its_field(alice_client, in_acme):
    response = alice_client.post(BASE + "retention/", {"tracking_events": "0"})
    assert response.status_code == 400 and "errorlist" in response.content.decode()
    assert not RetentionRule.objects.exists()


def test_a_marketer_sees_none_of_the_privacy_centre(mia_client, in_acme):
    for path in ("retention/", "records/", "records.json", "records.csv", "recipients/"):
        assert mia_client.get(BASE + path).status_code == 403
    assert mia_client.post(BASE + "retention/", {"tracking_events": "1"}).status_code == 403
    assert mia_client.post(BASE + "retention/run/", {"confirmed": "1"}).status_code == 403


def test_records_of_processing_page_and_downloads(alice_client, in_acme):
    actions.recipient_create(principal=system(), name="Northwind CRM", kind="integration", country="US",
                             safeguard="scc", purposes=["marketing_email"])  # fmt: skip
    page = alice_client.get(BASE + "records/").content.decode()
    assert "Records of processing" in page and "Northwind CRM" in page and "Standard contractual clauses" in page
    downloaded = alice_client.get(BASE + "records.json")
    assert downloaded["Content-Disposition"].startswith("attachment")
    assert json.loads(downloaded.content)["recipients"][0]["name"] == "Northwind CRM"
    csv_text = alice_client.get(BASE + "records.csv").content.decode()
    assert csv_text.startswith("section,name,field,value") and "Northwind CRM" in csv_text


def test_add_edit_and_remove_a_recipient(alice_client, in_acme):
    posted = {"name": "Hook", "kind": "webhook", "country": "FR", "safeguard": "none_needed",
              "purposes": ["tracking"], "categories": ["user.behavior"], "active": "on"}  # fmt: skip
    response = alice_client.post(BASE + "recipients/new/", posted)
    assert response.status_code == 302
    hook = Recipient.objects.get(name="Hook")
    assert (hook.purposes, hook.categories) == (["tracking"], ["user.behavior"])
    page = alice_client.get(f"{BASE}recipients/{hook.pk}/")
    assert page.status_code == 200 and 'value="Hook"' in page.content.decode()
    alice_client.post(f"{BASE}recipients/{hook.pk}/", {"name": "Hook 2", "kind": "webhook", "country": "FR",
                                                        "safeguard": "none_needed"})  # fmt: skip
    assert Recipient.objects.get(pk=hook.pk).name == "Hook 2"
    unconfirmed = alice_client.post(f"{BASE}recipients/{hook.pk}/delete/")
    assert unconfirmed.status_code == 200 and Recipient.objects.filter(pk=hook.pk).exists()
    alice_client.post(f"{BASE}recipients/{hook.pk}/delete/", {"confirmed": "1"})
    assert not Recipient.objects.filter(pk=hook.pk).exists()


def test_the_transfer_log_shows_counts_never_people(alice_client, in_acme, ada):
    crm = actions.recipient_create(principal=system(), name="Northwind CRM", kind="integration", country="DE",
                                   purposes=["marketing_email"])  # fmt: skip
    actions.transfer_contacts(crm.pk, [ada.id], purpose="marketing_email", categories=[], use="integration:crm",
                              principal=system())  # fmt: skip
    body = alice_client.get(BASE + "recipients/").content.decode()
    assert "integration:crm" in body and "analytical.example" not in body and "Ada" not in body
