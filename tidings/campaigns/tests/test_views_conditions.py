"""The tree builder's forms for the decisions on downloads and unsubscriptions and the conditions on points,
device and local time: the workspace's own choices, the graph they write, errors at their field, summaries."""

from __future__ import annotations

from tidings.campaigns.tests.conftest import make_email
from tidings.campaigns.tests.test_views_ui import _add, _campaign, _errors, _system


def _asset(workspace, title):
    from tidings.assets.actions import asset_create

    return asset_create(principal=_system(workspace), title=title, remote_url="https://files.example/a.pdf")


def test_build_the_new_decisions_and_conditions_in_the_tree(alice_client, in_acme, make_user):
    from tidings.accounts.actions import workspace_create
    from tidings.tenancy.context import use_workspace

    guide = _asset(in_acme, "Pricing guide")
    other = workspace_create(name="Initech", slug="initech", region="eu", owner=make_user("peter@initech.example"))
    with use_workspace(other):
        _asset(other, "Their secret plan")
    email = make_email(name="News", kind="template")
    campaign = _campaign(alice_client)
    url = f"/w/acme/campaigns/{campaign.pk}/steps/new/"
    page = alice_client.get(url, {"kind": "decision", "edge": "next"}).content.decode()
    assert "Pricing guide" in page and "Their secret plan" not in page  # the workspace's own assets only
    first = _add(alice_client, campaign, "decision", event="downloaded_asset", asset_id=str(guide.pk),
                 window_amount="2", window_unit="86400")  # fmt: skip
    second = _add(alice_client, campaign, "decision", after=first, edge="yes", event="unsubscribed",
                  email_id=str(email.pk), window_amount="1", window_unit="3600")  # fmt: skip
    third = _add(alice_client, campaign, "condition", after=first, edge="no", test="points",
                 points_operator="between", points_value="10", points_to="20")  # fmt: skip
    fourth = _add(alice_client, campaign, "condition", after=third, edge="yes", test="device", device="mobile",
                  os="iOS")  # fmt: skip
    _add(alice_client, campaign, "condition", after=third, edge="no", test="time", start_hour="8", end_hour="12",
         weekdays=["5", "6"], timezone="Europe/Paris")  # fmt: skip
    steps = {s["id"]: s for s in campaign.graph["steps"]}
    assert steps[first]["asset_id"] == guide.pk and steps[first]["window_seconds"] == 2 * 86400
    assert (steps[second]["event"], steps[second]["email_id"]) == ("unsubscribed", email.pk)
    assert {k: steps[third][k] for k in ("test", "operator", "value", "value_to")} == {
        "test": "points", "operator": "between", "value": 10, "value_to": 20}  # fmt: skip
    assert (steps[fourth]["device"], steps[fourth]["os"]) == ("mobile", "iOS")
    time = [s for s in steps.values() if s.get("test") == "time"][0]
    assert (time["start_hour"], time["end_hour"], time["weekdays"], time["timezone"]) == (8, 12, [5, 6],
                                                                                          "Europe/Paris")  # fmt: skip
    detail = alice_client.get(f"/w/acme/campaigns/{campaign.pk}/").content.decode()
    assert "Has the contact downloaded an asset “Pricing guide” within 2 days?" in detail
    assert "Has between 10 and 20 points?" in detail
    assert "Was last seen on mobile on iOS?" in detail
    assert "8:00–12:00 on Sat, Sun, in the contact&#x27;s time zone (else Europe/Paris)" in detail
    edit = alice_client.get(f"/w/acme/campaigns/{campaign.pk}/steps/{third}/").content.decode()
    assert 'name="points_value" value="10"' in edit


def test_a_points_condition_refused_by_the_check_shows_the_error_at_its_field(alice_client, in_acme):
    campaign = _campaign(alice_client)
    url = f"/w/acme/campaigns/{campaign.pk}/steps/new/"
    data = {"kind": "condition", "edge": "next", "test": "points", "points_operator": "between",
            "points_value": "20", "points_to": "10"}  # fmt: skip
    response = alice_client.post(url, data)
    assert response.status_code == 400
    assert any(b"at least the lower bound" in e for e in _errors(response))
    page = response.content.decode()
    assert page.index("at least the lower bound") > page.index('name="points_value"')
