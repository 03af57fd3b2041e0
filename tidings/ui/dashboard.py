"""The dashboard's widget registry: domains add their widgets from their own AppConfig.ready().

The dashboard imports no domain. A domain registers what it shows, ordered and gated by a
permission, and the dashboard renders the widgets the principal may see:

    from tidings.ui.dashboard import Widget, register_widget

    register_widget(Widget(
        name="contacts.top_tags",                 # unique
        title="Top tags",
        template="contacts/widgets/top_tags.html",  # rendered with `widget` and `data`
        data="tidings.contacts.widgets.top_tags",   # (request) -> dict, or the dotted path of one
        permission="contacts:view",
        order=30,                                  # lower first; ties by name
    ))

data runs inside the request's workspace (request.workspace, request.principal); it should
read through the domain's selectors with one bounded query. Charts come from
tidings.ui.charts and render with `{% load charts %}{% chart data.chart %}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.module_loading import import_string

WidgetData = Callable[[Any], Mapping[str, Any]]


@dataclass(frozen=True)
class Widget:
    """One block of the dashboard, shown to principals holding permission."""

    name: str
    title: str
    template: str
    data: WidgetData | str
    permission: str
    order: int = 100
    wide: bool = False  # spans the dashboard's whole width (time series)

    def load(self, request) -> Mapping[str, Any]:
        """Return the widget's template data for request."""
        data = import_string(self.data) if isinstance(self.data, str) else self.data
        return data(request)


WIDGETS: dict[str, Widget] = {}


def register_widget(widget: Widget) -> Widget:
    """Add widget to the dashboard and return it; registering the same widget again changes nothing.

    Raise ValueError for a name already taken by another widget. (The kit sits below accounts, so
    a test checks every registered widget's permission against the catalogue: a typo would hide it.)
    """
    existing = WIDGETS.get(widget.name)
    if existing is not None and existing != widget:
        raise ValueError(f"another dashboard widget is named {widget.name!r}")
    WIDGETS[widget.name] = widget
    return widget


def visible_widgets(principal) -> list[Widget]:
    """Return the widgets principal may see, in order."""
    widgets = sorted(WIDGETS.values(), key=lambda widget: (widget.order, widget.name))
    return [widget for widget in widgets if principal.can(widget.permission)]


@dataclass(frozen=True)
class LoadedWidget:
    widget: Widget
    data: Mapping[str, Any]


def load_widgets(request) -> list[LoadedWidget]:
    """Return the widgets request.principal may see, each with its data read now."""
    return [LoadedWidget(widget, widget.load(request)) for widget in visible_widgets(request.principal)]
