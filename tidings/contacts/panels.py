"""Panels on the contact page: each app adds its own from its AppConfig.ready(); contacts imports none of them.

    from tidings.contacts.panels import ContactPanel, register

    register(ContactPanel(
        key="segments",                      # unique: the section's id, its anchor (#segments)
        title="Segments",
        template="segments/contact_panel.html",
        context=segments_of_contact,         # (request, contact: ContactView) -> dict, or None
        permission="segments:view",          # members without it never see the panel
        order=40,                            # lower first within the column
        column="side",                       # "main" (wide, beside the fields) or "side"
    ))

The page renders the panels the member may see, in order, each in a <section class="panel">
with the title as its heading. A panel's template sees the page's context (contact, can,
current_workspace, csrf) and its context function's dict; a key the page already has wins
(contact cannot be replaced, and a bound form with errors survives a failed POST).

A panel whose context function or template raises: in production it is logged (the panel key
and the exception class only, never the message, which may hold personal data) and replaced by
a short "could not be shown" note, so one app's bug never takes the contact page down. With
DEBUG, or TIDINGS_PANELS_FAIL_LOUDLY set (the test suite sets it), the error propagates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

COLUMNS = ("main", "side")


@dataclass(frozen=True)
class ContactPanel:
    key: str
    title: str
    template: str
    context: Callable[[Any, Any], dict] | None = None
    permission: str = "contacts:view"
    order: int = 100
    column: str = "side"

    def __post_init__(self):
        if self.column not in COLUMNS:
            raise ValueError(f"column must be one of {COLUMNS}")


_PANELS: dict[str, ContactPanel] = {}


def register(panel: ContactPanel) -> None:
    """Add a panel, or replace the one with the same key (ready() may run more than once)."""
    _PANELS[panel.key] = panel


def unregister(key: str) -> None:
    """Remove a panel if it is registered (tests that register their own)."""
    _PANELS.pop(key, None)


def visible_panels(principal, column: str) -> list[ContactPanel]:
    """Return the panels of column that principal may see, in order."""
    panels = [p for p in _PANELS.values() if p.column == column and principal.can(p.permission)]
    return sorted(panels, key=lambda p: (p.order, p.key))


def fail_loudly() -> bool:
    """Return whether a failing panel raises (DEBUG, tests) instead of being logged and replaced by a note."""
    return bool(getattr(settings, "TIDINGS_PANELS_FAIL_LOUDLY", settings.DEBUG))


def log_failure(panel: ContactPanel, error: BaseException) -> None:
    logger.error("contact panel %s failed (%s); shown as unavailable", panel.key, type(error).__name__)
