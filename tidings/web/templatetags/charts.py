"""Template tags of the chart kit: `{% load charts %}{% chart some_chart %}`."""

from django import template

register = template.Library()


@register.inclusion_tag("web/_chart.html")
def chart(chart, empty_action_url: str = "", empty_action_label: str = ""):
    """Render a tidings.ui.charts.Chart: its SVG and the table behind it, or its empty state.

    empty_action_url and empty_action_label add a link to the empty state (for example to the import page).
    """
    return {"chart": chart, "empty_action_url": empty_action_url, "empty_action_label": empty_action_label}
