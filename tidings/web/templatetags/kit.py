"""Template tags of the UI kit: icons, breadcrumbs and page headers (shown together on /w/<slug>/ui/).

{% load kit %}
{% icon "users" %}                                  an icon of the sprite, hidden from screen readers
{% icon "trash-2" label="Delete" %}                 an icon that is the only content of a control
{% breadcrumbs "Contacts" contacts_url "Ada" %}     label/url pairs; the last label is the current page
{% pageheader "Contacts" subtitle="1,204 people" %}
  <a class="button" href="...">New contact</a>      primary action first, then secondary ones
{% endpageheader %}
"""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def icon(name: str, label: str = "", size: str = ""):
    """Render the sprite symbol name as an inline SVG; with label it is announced, otherwise hidden."""
    href = f"{static('tidings/icons.svg')}#{name}"
    classes = f"icon icon-{size}" if size else "icon"
    if label:
        return format_html(
            '<svg class="{}" role="img" aria-label="{}" focusable="false"><use href="{}"></use></svg>',
            classes,
            label,
            href,
        )
    return format_html(
        '<svg class="{}" aria-hidden="true" focusable="false"><use href="{}"></use></svg>', classes, href
    )


@register.simple_tag
def breadcrumbs(*parts):
    """Render a breadcrumb trail from label, url pairs (an empty url: plain text); a last lone label is the page."""
    if not parts:
        return ""
    pairs = [(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
    items = format_html_join(
        "",
        "<li>{}</li>",
        ((format_html('<a href="{}">{}</a>', url, label) if url else label,) for label, url in pairs),
    )
    current = format_html('<li aria-current="page">{}</li>', parts[-1]) if len(parts) % 2 else ""
    return format_html('<nav class="breadcrumbs" aria-label="Breadcrumb"><ol>{}{}</ol></nav>', items, current)


class PageHeaderNode(template.Node):
    def __init__(self, title, subtitle, nodelist):
        self.title, self.subtitle, self.nodelist = title, subtitle, nodelist

    def render(self, context):
        title = self.title.resolve(context)
        subtitle = self.subtitle.resolve(context) if self.subtitle else ""
        # The body is template output, escaped where it printed variables: safe to insert as it is.
        actions = mark_safe(self.nodelist.render(context).strip())  # noqa: S308
        return format_html(
            '<header class="page-header"><div class="page-title"><h1>{}</h1>{}</div>{}</header>',
            title,
            format_html('<p class="page-subtitle">{}</p>', subtitle) if subtitle else "",
            format_html('<div class="page-actions">{}</div>', actions) if actions else "",
        )


@register.tag
def pageheader(parser, token):
    """Render a page's title, an optional subtitle and its actions (the tag's body: primary first)."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("pageheader needs a title")
    title = parser.compile_filter(bits[1])
    subtitle = None
    for bit in bits[2:]:
        name, _, value = bit.partition("=")
        if name != "subtitle" or not value:
            raise template.TemplateSyntaxError(f"pageheader does not take {bit!r}")
        subtitle = parser.compile_filter(value)
    nodelist = parser.parse(("endpageheader",))
    parser.delete_first_token()
    return PageHeaderNode(title, subtitle, nodelist)
