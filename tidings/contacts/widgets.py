"""The contacts widgets of the dashboard, registered from ContactsConfig.ready() (tidings.ui.dashboard).

Each widget reads one aggregate of tidings.contacts.aggregates (one bounded query) and links to
the contacts list filtered the same way (the list's own query parameters: tag, country, dnc, q).
"""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.urls import reverse

from tidings.contacts import aggregates, selectors
from tidings.contacts.models import Channel, DncReason
from tidings.ui.charts import Datum, bar_chart, donut, funnel, time_series
from tidings.ui.dashboard import Widget, register_widget

GROWTH_DAYS = 90
SOURCE_DAYS = 30
RECENT_IMPORTS = 5
CHART_TEMPLATE = "web/widgets/chart.html"


def _url(request, name: str, **query) -> str:
    url = reverse(name, kwargs={"workspace_slug": request.workspace.slug})
    return f"{url}?{urlencode(query)}" if query else url


def _empty_action(request) -> dict:
    """Point an empty chart to where contacts come from: the import page, or "New contact"."""
    if request.principal.can("contacts:import"):
        return {"empty_url": _url(request, "contacts:import_upload"), "empty_label": "Import a CSV file"}
    if request.principal.can("contacts:edit"):
        return {"empty_url": _url(request, "contacts:create"), "empty_label": "Add a contact"}
    return {}


def growth(request) -> dict:
    """Contacts total, and the total on each day of the last 90 days."""
    result = aggregates.contacts_growth(days=GROWTH_DAYS)
    running, points = result.before, []
    day = result.start
    while day <= result.end:
        running += result.new_by_day.get(day, 0)
        points.append((day, running))
        day += datetime.timedelta(days=1)
    chart = time_series(
        points if result.total else [],
        title=f"Contacts over the last {GROWTH_DAYS} days",
        value_label="Contacts",
        area=True,
        empty_message="No contacts yet.",
    )
    return {
        "figure": f"{result.total:,}",
        "help": f"{result.new_in_period:,} new in the last {GROWTH_DAYS} days",
        "chart": chart,
        "link": _url(request, "contacts:list"),
        "link_label": "All contacts",
        **_empty_action(request),
    }


def reach(request) -> dict:
    """Contacts, those with an email, and those that can be emailed, as a funnel."""
    result = aggregates.contacts_reach()
    steps = [
        Datum("All contacts", result.total, _url(request, "contacts:list")),
        Datum("With an email", result.with_email),
        Datum("Can be emailed", result.emailable),
    ]
    chart = funnel(
        steps if result.total else [],
        title="Reach",
        value_label="Contacts",
        empty_message="No contacts yet: contacts with an email and no Do-Not-Contact entry show here.",
    )
    return {"chart": chart, **_empty_action(request)}


def sources(request) -> dict:
    """New contacts of the last 30 days by where they came from."""
    counts = aggregates.new_contacts_by_source(days=SOURCE_DAYS)
    imports_url = _url(request, "contacts:import_list") if request.principal.can("contacts:import") else ""
    data = [
        Datum(label, counts[key], imports_url if key == "import" else "")
        for key, label in aggregates.SOURCES.items()
        if counts.get(key)
    ]
    chart = donut(
        data,
        title=f"New contacts by source, last {SOURCE_DAYS} days",
        value_label="New contacts",
        label_column="Source",
        empty_message=f"No new contacts in the last {SOURCE_DAYS} days.",
    )
    return {"chart": chart, **_empty_action(request)}


def tags(request) -> dict:
    """The most used tags, each linking to its contacts."""
    data = [Datum(name, n, _url(request, "contacts:list", tag=name)) for name, n in aggregates.top_tags()]
    chart = bar_chart(
        data,
        title="Top tags",
        value_label="Contacts",
        label_column="Tag",
        empty_message="No contact has a tag yet: add tags on a contact's page, in bulk from the list, or in an import.",
    )
    return {"chart": chart, "link": _url(request, "contacts:list"), "link_label": "Filter by tag"}


def countries(request) -> dict:
    """The most frequent countries (clear column), each linking to its contacts."""
    data = [
        Datum(country or "Not set", n, _url(request, "contacts:list", country=country) if country else "")
        for country, n in aggregates.top_countries()
    ]
    chart = bar_chart(
        data,
        title="Top countries",
        value_label="Contacts",
        label_column="Country",
        empty_message="No contacts yet: countries come from the contacts' Country field.",
    )
    return {"chart": chart}


def do_not_contact(request) -> dict:
    """Do-Not-Contact entries by channel and reason, each linking to the contacts of that channel."""
    channels, reasons = dict(Channel.choices), dict(DncReason.choices)
    rows = aggregates.dnc_counts()
    data = [
        Datum(
            reasons.get(reason, reason)
            if channel == Channel.EMAIL
            else f"{reasons.get(reason, reason)} ({channels.get(channel, channel)})",
            n,
            _url(request, "contacts:list", dnc=channel),
        )
        for channel, reason, n in rows
    ]
    chart = donut(
        data,
        title="Do not contact",
        value_label="Contacts",
        label_column="Reason",
        empty_message="Nobody has asked not to be contacted. Unsubscribes, bounces and manual entries show here.",
    )
    return {
        "chart": chart,
        "link": _url(request, "contacts:list", dnc=Channel.EMAIL),
        "link_label": "Email Do-Not-Contact",
    }


def recent_imports(request) -> dict:
    """The latest imports with their counts."""
    return {
        "imports": selectors.imports_recent(limit=RECENT_IMPORTS),
        "link": _url(request, "contacts:import_list"),
        "link_label": "All imports",
        "upload_url": _url(request, "contacts:import_upload"),
    }


WIDGETS = [
    Widget("contacts.growth", "Contacts", CHART_TEMPLATE, growth, "contacts:view", order=10, wide=True),
    Widget("contacts.reach", "Reach", CHART_TEMPLATE, reach, "contacts:view", order=20),
    Widget("contacts.sources", "New contacts by source", CHART_TEMPLATE, sources, "contacts:view", order=30),
    Widget("contacts.tags", "Top tags", CHART_TEMPLATE, tags, "contacts:view", order=40),
    Widget("contacts.countries", "Top countries", CHART_TEMPLATE, countries, "contacts:view", order=50),
    Widget("contacts.dnc", "Do not contact", CHART_TEMPLATE, do_not_contact, "contacts:view", order=60),
    Widget(
        "contacts.imports",
        "Recent imports",
        "contacts/widgets/imports.html",
        recent_imports,
        "contacts:import",
        order=70,
    ),
]


def register_widgets() -> None:
    """Add the contacts widgets to the dashboard (idempotent)."""
    for widget in WIDGETS:
        register_widget(widget)
