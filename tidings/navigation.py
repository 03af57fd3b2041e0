"""The workspace navigation: a registry each app fills from its own ``AppConfig.ready()``.

An entry names its group (one of GROUPS, or none for the few top entries such as the dashboard) and an
icon of the sprite (tidings/web/static/tidings/icons.svg). The sidebar shows the groups in GROUPS order,
each only when the principal may open at least one of its entries, so a domain that is not built yet
shows nothing::

    register(NavItem("Segments", "segments:list", "segments:view", group="Segments", icon="filter"))

A registry that imports nothing from Tidings, so it sits with the foundations: any layer may add
itself, and the web shell reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, reverse

# The sidebar's groups, in the order a marketer works through them.
GROUPS: tuple[str, ...] = ("Contacts", "Segments", "Channels", "Campaigns", "Reports", "Privacy", "Settings")


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str  # reversed with workspace_slug
    permission: str
    section: str = "main"  # kept for older registrations: "settings" means group "Settings"
    group: str = ""  # one of GROUPS; "" puts the entry above the groups
    icon: str = ""  # a symbol id of icons.svg
    order: int = field(default=100, compare=False)  # position inside its group, then registration order
    shortcut: str = field(default="", compare=False)  # "c": the keys "g c" open the entry (shortcuts.js)

    def __post_init__(self) -> None:
        if not self.group and self.section == "settings":
            object.__setattr__(self, "group", "Settings")
        if self.group and self.group not in GROUPS:
            raise ValueError(f"unknown navigation group {self.group!r}: use one of {', '.join(GROUPS)}")


NAVIGATION: list[NavItem] = [
    NavItem("Dashboard", "web:dashboard", "workspace:view", icon="layout-dashboard", order=0, shortcut="d"),
    NavItem("UI kit", "web:kit", "settings:manage", group="Settings", icon="list", order=900),
]


def register(item: NavItem) -> None:
    """Add item to the navigation once (apps call this from ready(), which may run more than once in tests)."""
    if item not in NAVIGATION:
        NAVIGATION.append(item)


def visible_items(principal, section: str) -> list[NavItem]:
    """Return the entries of section ("settings": the Settings group; "main": every other) principal may open."""
    settings = section == "settings"
    return [item for item in NAVIGATION if (item.group == "Settings") == settings and principal.can(item.permission)]


def _entry(item: NavItem, slug: str) -> dict | None:
    try:
        url = reverse(item.url_name, kwargs={"workspace_slug": slug})
    except NoReverseMatch:
        return None
    return {"label": item.label, "url": url, "icon": item.icon, "active": False, "shortcut": item.shortcut}


def navigation_for(principal, path: str) -> list[dict]:
    """Return the sidebar for principal on path: [{"label", "items"}], the ungrouped entries first.

    Only groups with an entry principal may open appear. The one entry whose URL is the longest
    prefix of path is active, so the contacts list is not lit on the imports page below it.
    """
    slug = principal.workspace.slug
    by_group: dict[str, list[tuple[tuple[int, int], dict]]] = {}
    for position, item in enumerate(NAVIGATION):
        if not principal.can(item.permission):
            continue
        entry = _entry(item, slug)
        if entry is not None:
            by_group.setdefault(item.group, []).append(((item.order, position), entry))
    groups: list[dict[str, Any]] = []
    for label in ("", *GROUPS):
        entries = [entry for _, entry in sorted(by_group.get(label, []), key=lambda pair: pair[0])]
        if entries:
            groups.append({"label": label, "items": entries})
    home = f"/w/{slug}/"
    candidates = [
        entry
        for group in groups
        for entry in group["items"]
        if (path == entry["url"] if entry["url"] == home else path.startswith(entry["url"]))
    ]
    if candidates:
        max(candidates, key=lambda entry: len(entry["url"]))["active"] = True
    return groups


# Banners: notices shown above every page of a workspace until their cause goes away (a new Tidings policy
# an admin has not seen yet). Each provider takes the request and returns dicts with text, link, link_label.
BANNERS: list[Any] = []


def register_banner(provider) -> None:
    """Add a banner provider once (apps call this from ready())."""
    if provider not in BANNERS:
        BANNERS.append(provider)


def banners_for(request) -> list[dict]:
    """Return the banners every registered provider shows on this request."""
    return [banner for provider in BANNERS for banner in provider(request)]
