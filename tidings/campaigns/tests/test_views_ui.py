"""The campaign pages: list with counts, create, the tree builder's changes, publish/unpublish/delete, journeys.

alice owns Acme; arun is an analyst there (campaigns:view only).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.campaigns.models import Campaign, CampaignStatus
from tidings.campaigns.tests.conftest import add, make_email, make_segment, publish, run


@pytest.fixture
def arun_client(client, acme, make_user):
    from tidings.accounts.actions import membership_create

    user = make_user("arun@acme.example")
    membership_create(workspace=acme, user=user, role="analyst", principal=_system(acme))
    client.force_login(user)
    return client


def _system(workspace):
    from tidings.tests.principals import system as make

    return make(workspace)


def _errors(response) -> list[bytes]:
    return re.findall(rb'errorlist[^>]*>(.{0,300})', response.content) + re.findall(rb"form-errors[^>]*>(.{0,300})",
                                                                                  response.content)  # fmt: skip


def _campaign(client, name="Welcome") -> Campaign:
    response = client.post("/w/acme/campaigns/new/", {"name": name})
    assert response.status_code == 302, _errors(response)
    return Campaign.objects.get(name=name)


def _add(client, campaign, kind, after=None, edge="next", **data):
    url = f"/w/acme/campaigns/{campaign.pk}/steps/new/"
    query = {"kind": kind, "edge": edge, **({"after": str(after)} if after else {})}
    assert client.get(url, query).status_code == 200
    response = client.post(url, {**query, **data})
    assert response.status_code == 302, _errors(response)
    campaign.refresh_from_db()
    return max(s["id"] for s in campaign.graph["steps"])


def test_build_a_campaign_as_a_tree_and_publish_it(alice_client, in_acme, readers):
    email = make_email(name="Hello", kind="template")
    segment = make_segment([c.id for c in readers])
    campaign = _campaign(alice_client)
    url = f"/w/acme/campaigns/{campaign.pk}/"
    assert alice_client.post(url + "sources/", {"kind": "segment", "segment_id": str(segment.pk)}).status_code == 302
    wait = _add(alice_client, campaign, "delay", mode="interval", amount="2", unit="3600")
    send = _add(alice_client, campaign, "send_email", after=wait, email_id=str(email.pk))
    decide = _add(alice_client, campaign, "decision", after=send, event="clicked_email", email_id=str(email.pk),
                  window_amount="1", window_unit="86400")  # fmt: skip
    tag = _add(alice_client, campaign, "add_tags", after=decide, edge="yes", tags="clicked, fan")
    campaign.refresh_from_db()
    steps = {s["id"]: s for s in campaign.graph["steps"]}
    assert campaign.graph["start"] == wait and steps[wait]["seconds"] == 7200 and steps[wait]["next"] == send
    assert steps[decide]["yes"] == tag and steps[decide]["window_seconds"] == 86400
    assert steps[tag]["tags"] == ["clicked", "fan"]
    page = alice_client.get(url)
    assert page.status_code == 200 and b"Wait 2 hours" in page.content
    assert "Send “Hello”".encode() in page.content
    assert b"0 waiting" in page.content and b"Add on no" in page.content
    assert alice_client.get(url + "publish/").status_code == 200
    assert alice_client.post(url + "publish/", {}).status_code == 302
    campaign.refresh_from_db()
    assert (campaign.status, campaign.version) == (CampaignStatus.PUBLISHED, 1)
    listing = alice_client.get("/w/acme/campaigns/")
    assert b"Welcome" in listing.content and b"published" in listing.content


def test_a_step_refused_by_the_graph_check_shows_the_error_at_its_field(alice_client, in_acme):
    campaign = _campaign(alice_client)
    url = f"/w/acme/campaigns/{campaign.pk}/steps/new/"
    response = alice_client.post(url, {"kind": "send_email", "edge": "next"})
    assert response.status_code == 400 and b"choose the email to send" in response.content
    response = alice_client.post(url, {"kind": "delay", "edge": "next", "mode": "interval"})
    assert response.status_code == 400 and b"whole number" in response.content
    campaign.refresh_from_db()
    assert campaign.graph["steps"] == []


def test_edit_and_remove_steps_reconnect_the_tree(alice_client, in_acme):
    campaign = _campaign(alice_client)
    first = _add(alice_client, campaign, "add_tags", tags="a")
    second = _add(alice_client, campaign, "add_tags", after=first, tags="b")
    third = _add(alice_client, campaign, "add_tags", after=second, tags="c")
    url = f"/w/acme/campaigns/{campaign.pk}/steps/{second}/"
    assert alice_client.get(url).status_code == 200
    assert alice_client.post(url, {"tags": "bee"}).status_code == 302
    ask = alice_client.post(url + "remove/", {})
    assert ask.status_code == 200 and b"Remove this step?" in ask.content  # the confirmation without JavaScript
    assert alice_client.post(url + "remove/", {"confirmed": "1"}).status_code == 302
    campaign.refresh_from_db()
    steps = {s["id"]: s for s in campaign.graph["steps"]}
    assert second not in steps and steps[first]["next"] == third


def test_a_deleted_email_is_shown_at_its_step(alice_client, in_acme):
    email = make_email(name="Gone soon", kind="template")
    campaign = _campaign(alice_client)
    step = _add(alice_client, campaign, "send_email", email_id=str(email.pk))
    email.delete()
    page = alice_client.get(f"/w/acme/campaigns/{campaign.pk}/")
    assert b"a template email of this workspace" in page.content and b"has-error" in page.content
    assert b"a template email of this workspace" in alice_client.get(
        f"/w/acme/campaigns/{campaign.pk}/steps/{step}/").content  # fmt: skip


def test_publish_moves_contacts_waiting_at_a_removed_step(alice_client, in_acme, readers):
    ada, _ = readers
    campaign = publish({"id": 1, "kind": "delay", "mode": "interval", "seconds": 3600, "next": 2},
                       {"id": 2, "kind": "add_tags", "tags": ["x"]})  # fmt: skip
    add(campaign, ada)
    run()
    url = f"/w/acme/campaigns/{campaign.pk}/"
    assert alice_client.post(url + "steps/1/remove/", {"confirmed": "1"}).status_code == 302
    page = alice_client.get(url + "publish/")
    assert b"waiting at step 1" in page.content
    assert alice_client.post(url + "publish/", {"move_1": "2"}).status_code == 302
    from tidings.campaigns.models import StepRun

    assert StepRun.objects.filter(campaign_id=campaign.pk, contact_id=ada.id, status="pending").get().step == 2


def test_unpublish_and_delete_ask_first(alice_client, in_acme):
    campaign = publish({"id": 1, "kind": "add_tags", "tags": ["x"]})
    url = f"/w/acme/campaigns/{campaign.pk}/"
    assert b"Unpublish" in alice_client.post(url + "unpublish/", {}).content
    assert Campaign.objects.get().status == CampaignStatus.PUBLISHED
    assert alice_client.post(url + "unpublish/", {"confirmed": "1"}).status_code == 302
    assert Campaign.objects.get().status == CampaignStatus.UNPUBLISHED
    assert alice_client.post(url + "delete/", {}).status_code == 200 and Campaign.objects.exists()
    assert alice_client.post(url + "delete/", {"confirmed": "1"}).status_code == 302
    assert not Campaign.objects.exists()


def test_the_settings_form_sets_and_clears_the_steps_per_minute_throttle(alice_client, in_acme):
    campaign = _campaign(alice_client)
    url = f"/w/acme/campaigns/{campaign.pk}/"
    assert b"max_steps_per_minute" in alice_client.get(url).content
    saved = alice_client.post(url + "rename/", {"name": "Welcome", "max_steps_per_minute": "30"})
    assert saved.status_code == 302, _errors(saved)
    assert Campaign.objects.get().max_steps_per_minute == 30
    refused = alice_client.post(url + "rename/", {"name": "Welcome", "max_steps_per_minute": "0"})
    assert refused.status_code == 400 and Campaign.objects.get().max_steps_per_minute == 30
    assert alice_client.post(url + "rename/", {"name": "Welcome", "max_steps_per_minute": ""}).status_code == 302
    assert Campaign.objects.get().max_steps_per_minute is None


def test_list_counts_contacts_and_the_journey_shows_each_step(alice_client, in_acme, readers):
    ada, grace = readers
    campaign = publish({"id": 1, "kind": "add_tags", "tags": ["x"], "next": 2},
                       {"id": 2, "kind": "delay", "mode": "interval", "seconds": 3600})  # fmt: skip
    add(campaign, ada, grace)
    run()
    listing = alice_client.get("/w/acme/campaigns/")
    assert re.search(rb'class="numeric">2</td>\s*<td class="numeric">2<', listing.content)
    page = alice_client.get(f"/w/acme/campaigns/{campaign.pk}/")
    assert b"2 done" in page.content and b"2 waiting" in page.content
    journey = alice_client.get(f"/w/acme/campaigns/{campaign.pk}/contacts/{ada.id}/")
    assert journey.status_code == 200 and b"Add tags: x" in journey.content and b"Wait 1 hour" in journey.content
    contact_page = alice_client.get(f"/w/acme/contacts/{ada.id}/")
    assert f"/w/acme/campaigns/{campaign.pk}/contacts/{ada.id}/".encode() in contact_page.content
    assert alice_client.get(f"/w/acme/campaigns/{campaign.pk}/contacts/999999/").status_code == 404


def test_an_analyst_reads_but_cannot_change(arun_client, in_acme):
    campaign = publish({"id": 1, "kind": "add_tags", "tags": ["x"]})
    url = f"/w/acme/campaigns/{campaign.pk}/"
    assert arun_client.get("/w/acme/campaigns/").status_code == 200
    page = arun_client.get(url)
    assert page.status_code == 200 and b"Add after" not in page.content
    assert arun_client.get(url + "steps/1/").status_code == 200
    for path, data in (("steps/1/", {"tags": "y"}), ("publish/", {}), ("unpublish/", {"confirmed": "1"}),
                       ("delete/", {"confirmed": "1"}), ("sources/", {"kind": "manual"}),
                       ("steps/1/remove/", {"confirmed": "1"}), ("entry/", {"mode": "once"})):  # fmt: skip
        assert arun_client.post(url + path, data).status_code == 403, path
    assert arun_client.get("/w/acme/campaigns/new/").status_code == 403
    assert Campaign.objects.get().graph["steps"][0]["tags"] == ["x"]


TEXT = st.text(max_size=30)
KEYS = ["kind", "edge", "after", "email_id", "tags", "segment_id", "operator", "delta", "event",
                     "window_amount", "window_unit", "test", "field", "field_operator", "value", "mode", "amount",
                     "unit", "until", "offset_days", "hour", "start_hour", "end_hour", "weekdays", "timezone",
                     "channel", "url_contains", "name"]  # fmt: skip
VALUES = ["delay", "decision", "condition", "send_email", "interval", "window", "1", "-1", "0", "99999999999999999999",
          "field", "yes", "no"]  # fmt: skip
FIELDS = st.dictionaries(st.sampled_from(KEYS), st.one_of(TEXT, st.sampled_from(VALUES)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=FIELDS, source=st.fixed_dictionaries({"kind": st.one_of(TEXT, st.sampled_from(["segment", "form"])),
                                                   "segment_id": TEXT, "form_id": TEXT}))  # fmt: skip
def test_any_form_input_answers_without_a_server_error(alice_client, in_acme, data, source):
    campaign = Campaign.objects.first() or publish({"id": 1, "kind": "add_tags", "tags": ["x"]})
    url = f"/w/acme/campaigns/{campaign.pk}/"
    for path in ("steps/new/", "steps/1/"):
        assert alice_client.post(url + path, data).status_code < 500
        assert alice_client.get(url + "steps/new/", data).status_code < 500
    assert alice_client.post(url + "sources/", source).status_code < 500
    entry = {"mode": data.get("mode", "repeat"), "min_gap_hours": data.get("hour", "")}
    assert alice_client.post(url + "entry/", entry).status_code < 500
    assert alice_client.post(url + "publish/", {"move_1": data.get("after", "")}).status_code < 500
    assert alice_client.post("/w/acme/campaigns/new/", {"name": data.get("name", "")}).status_code < 500
