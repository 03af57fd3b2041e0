"""The dashboard's widget registry: apps add widgets, the dashboard shows those the principal may see."""

from __future__ import annotations

import pytest
from django.test import modify_settings

from tidings.ui import dashboard
from tidings.ui.dashboard import Widget, register_widget, visible_widgets


@pytest.fixture
def registry():
    """Leave the registry as it was after the test (a test app's widget would outlive its app)."""
    saved = dict(dashboard.WIDGETS)
    yield dashboard.WIDGETS
    dashboard.WIDGETS.clear()
    dashboard.WIDGETS.update(saved)


def _widget(name="test.one", permission="workspace:view", order=100) -> Widget:
    return Widget(name, name.title(), "web/widgets/chart.html", lambda request: {}, permission, order=order)


def test_an_app_adds_its_widget_from_ready_and_the_dashboard_renders_it(registry, alice_client):
    with modify_settings(INSTALLED_APPS={"append": "tidings.web.tests.widget_app"}):
        page = alice_client.get("/w/acme/").content.decode()
    assert "widget_app.weather" in registry
    assert '<h2 id="widget-widget_appweather">Weather</h2>' in page
    assert "sunny-in-acme" in page  # its data was read in alice's workspace


def test_widgets_are_ordered_by_order_then_name(registry, acme):
    from tidings.tests.principals import system

    registry.clear()
    for widget in (_widget("b.late", order=50), _widget("a.late", order=50), _widget("z.first", order=1)):
        register_widget(widget)
    assert [w.name for w in visible_widgets(system(acme))] == ["z.first", "a.late", "b.late"]


def test_registering_the_same_widget_twice_changes_nothing(registry):
    widget = _widget()
    register_widget(widget)
    register_widget(widget)
    assert list(registry).count("test.one") == 1


def test_a_name_taken_by_another_widget_is_refused(registry):
    register_widget(_widget())
    with pytest.raises(ValueError, match="test.one"):
        register_widget(_widget(order=7))


def test_every_registered_widget_names_a_permission_of_the_catalogue():
    from tidings.accounts.permissions import PERMISSIONS
    from tidings.ui.dashboard import WIDGETS

    assert WIDGETS, "the apps registered no widget"
    assert {name: w.permission for name, w in WIDGETS.items() if w.permission not in PERMISSIONS} == {}


def test_a_widget_is_hidden_from_principals_without_its_permission(registry, acme, make_user):
    from tidings.accounts.actions import membership_create
    from tidings.accounts.selectors import principal_for_user
    from tidings.tests.principals import system

    register_widget(_widget("test.secret", permission="audit:view"))
    dave = make_user("dave@acme.example")
    membership_create(workspace=acme, user=dave, role="marketer", principal=system(acme))
    assert "test.secret" not in [w.name for w in visible_widgets(principal_for_user(dave, acme))]
    assert "test.secret" in [w.name for w in visible_widgets(system(acme))]
