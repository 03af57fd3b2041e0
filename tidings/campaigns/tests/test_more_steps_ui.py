"""The builder's forms for change stage, set owner, notify a member, enter a campaign, call a webhook, and goals.

alice owns Acme; the forms offer the workspace's own members, campaigns and privacy-register recipients.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.campaigns.models import Campaign
from tidings.campaigns.tests.conftest import make_stage, publish
from tidings.campaigns.tests.conftest import system as system_principal
from tidings.campaigns.tests.test_views_ui import _add, _campaign, _errors


@pytest.fixture
def hooks(in_acme):
    from tidings.privacy_centre.actions import recipient_create

    return recipient_create(principal=system_principal(), name="Hooks Inc", kind="webhook", country="Germany",
                            safeguard="none_needed", purposes=["marketing_email"],
                            categories=["user.contact.email"])  # fmt: skip


def test_the_new_steps_are_built_from_the_workspaces_own_choices(alice_client, in_acme, alice, bob, initech, hooks):
    from tidings.tenancy.context import use_workspace

    other = publish({"id": 1, "kind": "exit"}, name="Nurture")
    qualified = make_stage("Qualified")
    with use_workspace(initech):
        theirs = make_stage("Initech secret stage")
    campaign = _campaign(alice_client)
    url = f"/w/acme/campaigns/{campaign.pk}/"
    page = alice_client.get(url + "steps/new/", {"kind": "change_stage", "edge": "next"}).content.decode()
    assert f'value="{qualified.id}"' in page and "Qualified" in page and "Initech secret stage" not in page
    # Another workspace's stage, even by id, is refused at its field.
    refused = alice_client.post(url + "steps/new/", {"kind": "change_stage", "edge": "next",
                                                     "stage_id": str(theirs.id)})  # fmt: skip
    assert refused.status_code < 500 and "Initech secret stage" not in refused.content.decode()
    campaign.refresh_from_db()
    assert all(s.get("stage_id") != theirs.id for s in campaign.graph["steps"])
    page = alice_client.get(url + "steps/new/", {"kind": "set_owner", "edge": "next"}).content.decode()
    assert f'value="{alice.pk}"' in page and "bob@globex.example" not in page
    page = alice_client.get(url + "steps/new/", {"kind": "call_webhook", "edge": "next"}).content.decode()
    assert "Hooks Inc" in page and 'value="email"' in page
    first = _add(alice_client, campaign, "change_stage", stage_id=str(qualified.id))
    second = _add(alice_client, campaign, "set_owner", after=first, user_id=str(alice.pk))
    third = _add(alice_client, campaign, "notify_user", after=second, user_id=str(alice.pk), subject="Lead")
    fourth = _add(alice_client, campaign, "enter_campaign", after=third, campaign_id=str(other.pk))
    fifth = _add(alice_client, campaign, "call_webhook", after=fourth, url="https://hooks.example/in",
                 recipient_id=str(hooks.pk), purpose="marketing_email", webhook_fields=["email"])  # fmt: skip
    campaign.refresh_from_db()
    by_id = {s["id"]: s for s in campaign.graph["steps"]}
    assert by_id[first]["stage_id"] == qualified.id and by_id[second]["user_id"] == alice.pk
    assert by_id[third]["subject"] == "Lead" and by_id[fourth]["campaign_id"] == other.pk
    assert by_id[fifth]["fields"] == ["email"] and by_id[fifth]["recipient_id"] == hooks.pk
    page = alice_client.get(url).content.decode()
    for text in (
        "Move to the stage “Qualified”",
        "Owner: ",
        "Notify ",
        "Enter the campaign “Nurture”",
        "Call a webhook at hooks.example",
    ):
        assert text in page
    step_page = alice_client.get(url + f"steps/{fifth}/").content.decode()
    assert "X-Tidings-Signature" in step_page and 'name="url"' in step_page and "checked" in step_page


def test_a_member_of_another_workspace_or_an_http_address_is_refused_at_its_field(alice_client, in_acme, bob, hooks):
    campaign = _campaign(alice_client)
    url = f"/w/acme/campaigns/{campaign.pk}/steps/new/"
    response = alice_client.post(url, {"kind": "set_owner", "edge": "next", "user_id": str(bob.pk)})
    assert response.status_code == 400  # not one of the choices
    response = alice_client.post(url, {"kind": "call_webhook", "edge": "next", "url": "http://10.0.0.1/x",
                                       "recipient_id": str(hooks.pk), "purpose": "marketing_email",
                                       "webhook_fields": ["email"]})  # fmt: skip
    assert response.status_code == 400
    assert b"an https:// address" in b"".join(_errors(response))


def test_goals_are_added_and_removed_on_the_campaign_page(alice_client, in_acme):
    campaign = _campaign(alice_client)
    url = f"/w/acme/campaigns/{campaign.pk}/"
    assert alice_client.post(url + "goals/", {"kind": "points_at_least", "points": "50"}).status_code == 302
    assert alice_client.post(url + "goals/", {"kind": "clicked_email"}).status_code == 302
    response = alice_client.post(url + "goals/", {"kind": "has_tag"})
    assert response.status_code == 400  # no tag chosen: graph.check's error
    campaign.refresh_from_db()
    assert campaign.graph["goals"] == [{"kind": "points_at_least", "points": 50},
                                       {"kind": "clicked_email", "email_id": None}]  # fmt: skip
    page = alice_client.get(url).content.decode()
    assert "Has at least 50 points" in page and "Clicked in any email" in page
    assert alice_client.post(url + "goals/0/remove/").status_code == 302
    assert alice_client.post(url + "goals/5/remove/").status_code == 404
    campaign.refresh_from_db()
    assert campaign.graph["goals"] == [{"kind": "clicked_email", "email_id": None}]


TEXT = st.text(max_size=30)
GOAL = st.fixed_dictionaries({"kind": st.one_of(TEXT, st.sampled_from(["submitted_form", "clicked_email",
                              "points_at_least", "has_tag"])), "form_id": TEXT, "email_id": TEXT,
                              "points": st.one_of(TEXT, st.integers().map(str)), "tag": TEXT})  # fmt: skip
STEP = st.fixed_dictionaries({"kind": st.sampled_from(["change_stage", "set_owner", "notify_user", "enter_campaign",
                              "call_webhook"]), "edge": st.just("next"), "stage_id": TEXT, "user_id": TEXT,
                              "subject": TEXT, "campaign_id": TEXT, "url": TEXT, "recipient_id": TEXT,
                              "purpose": TEXT, "webhook_fields": TEXT})  # fmt: skip


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(goal=GOAL, step=STEP)
def test_any_goal_or_new_step_input_answers_without_a_server_error(alice_client, in_acme, goal, step):
    campaign = Campaign.objects.first() or publish({"id": 1, "kind": "add_tags", "tags": ["x"]})
    url = f"/w/acme/campaigns/{campaign.pk}/"
    assert alice_client.post(url + "goals/", goal).status_code < 500
    assert alice_client.post(url + "steps/new/", step).status_code < 500
