"""The workspace navigation. Apps register their entries here; only what exists is shown.

A registry every app fills from its AppConfig.ready(), so it imports nothing from Tidings and sits
with the foundations: any layer may add itself, and the web shell reads it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str  # reversed with workspace_slug
    permission: str
    section: str = "main"  # "main" or "settings"


NAVIGATION: list[NavItem] = [
    NavItem("Dashboard", "web:dashboard", "workspace:view"),
]


def register(item: NavItem) -> None:
    if item not in NAVIGATION:
        NAVIGATION.append(item)


def visible_items(principal, section: str) -> list[NavItem]:
    return [item for item in NAVIGATION if item.section == section and principal.can(item.permission)]
