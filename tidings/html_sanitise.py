"""Clean HTML written by users (form free-text fields, landing pages) with ammonia's allow-list (nh3)."""

from __future__ import annotations

import nh3

# Tags and attributes a marketing page needs; scripts, styles, event handlers and javascript: URLs never pass.
_TAGS = set(nh3.ALLOWED_TAGS) | {"section", "article", "header", "footer", "figure", "figcaption", "span", "div", "img"}
_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
for _tag in _TAGS:
    _ATTRIBUTES.setdefault(_tag, set()).update({"class", "id", "title"})
_ATTRIBUTES["img"].update({"src", "alt", "width", "height"})
_ATTRIBUTES["a"].update({"href", "target"})


def clean_html(value: str) -> str:
    """Return value with only allow-listed tags and attributes, links given rel="noopener noreferrer"."""
    return nh3.clean(
        value,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )
