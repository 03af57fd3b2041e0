"""The navigation registry: groups by domain, shown only with entries the member may open."""

import pytest

from tidings import navigation
from tidings.accounts.selectors import principal_for_user
from tidings.navigation import NavItem, navigation_for


@pytest.fixture
def alice_principal(alice, acme):
    return principal_for_user(alice, acme)


def _labels(groups):
    return [group["label"] for group in groups]


def test_groups_come_in_domain_order_and_only_with_entries(alice_principal):
    labels = _labels(navigation_for(alice_principal, "/w/acme/"))
    # Channels: forms, landing pages, assets, emails; Campaigns: the campaigns app.
    assert labels == ["", "Contacts", "Segments", "Channels", "Campaigns", "Reports", "Privacy", "Settings"]


def test_a_registered_entry_brings_its_group(alice_principal, monkeypatch):
    monkeypatch.setattr(navigation, "NAVIGATION", [*navigation.NAVIGATION])
    navigation.register(NavItem("Emails", "web:kit", "workspace:view", group="Channels", icon="mail"))
    groups = navigation_for(alice_principal, "/w/acme/")
    assert _labels(groups) == ["", "Contacts", "Segments", "Channels", "Campaigns", "Reports", "Privacy", "Settings"]


def test_a_group_whose_entries_the_member_may_not_open_is_hidden(acme, make_user, monkeypatch):
    from tidings.accounts.actions import membership_create
    from tidings.tests.principals import system

    dave = make_user("dave@acme.example")
    membership_create(workspace=acme, user=dave, role="marketer", principal=system(acme))
    monkeypatch.setattr(navigation, "NAVIGATION", [*navigation.NAVIGATION])
    navigation.register(NavItem("Audit trail", "web:kit", "audit:view", group="Privacy"))  # nor privacy:view
    assert "Privacy" not in _labels(navigation_for(principal_for_user(dave, acme), "/w/acme/"))


def test_only_the_longest_matching_entry_is_active(alice_principal):
    groups = navigation_for(alice_principal, "/w/acme/contacts/imports/")
    active = [item["label"] for group in groups for item in group["items"] if item["active"]]
    assert active == ["Imports"]


def test_the_dashboard_is_active_only_on_itself(alice_principal):
    groups = navigation_for(alice_principal, "/w/acme/settings/members/")
    active = [item["label"] for group in groups for item in group["items"] if item["active"]]
    assert active == ["Members"]


def test_an_unknown_group_is_refused():
    with pytest.raises(ValueError, match="unknown navigation group"):
        NavItem("Odd", "web:kit", "workspace:view", group="Miscellaneous")


def test_an_old_settings_registration_lands_in_the_settings_group():
    assert NavItem("Old", "web:kit", "workspace:view", section="settings").group == "Settings"
