"""{% contact_panels "side" %}: the registered panels of one column of the contact page (tidings.contacts.panels)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from tidings.contacts.panels import fail_loudly, log_failure, visible_panels

register = template.Library()

_UNAVAILABLE = mark_safe('<p class="muted" role="status">This panel could not be shown. Try again later.</p>')  # noqa: S308


@register.simple_tag(takes_context=True)
def contact_panels(context, column: str):
    """Render the panels of column that the member may see, each in its own section."""
    request, contact = context["request"], context["contact"]
    sections = []
    for panel in visible_panels(request.principal, column):
        try:
            extra = panel.context(request, contact) if panel.context else {}
            body = context.template.engine.get_template(panel.template)
            # Keys the page already has win: a panel cannot replace contact, can or a bound form.
            with context.push(**{key: value for key, value in extra.items() if key not in context}):
                html = body.render(context)
        except Exception as error:
            if fail_loudly():
                raise
            log_failure(panel, error)
            html = _UNAVAILABLE
        sections.append((panel.key, panel.key, panel.key, panel.title, html))  # html: a rendered (safe) template
    return format_html_join(
        "\n",
        '<section class="panel" id="{}" aria-labelledby="{}-heading"><h2 id="{}-heading">{}</h2>{}</section>',
        sections,
    )
