"""Bulk actions other apps add to the contacts list ("Add to segment"), each from its AppConfig.ready().

    from tidings.contacts.bulk_actions import BulkAction, register

    register(BulkAction(
        value="segment_add", label="Add to segment", permission="segments:edit",
        target="segment", target_label="Segment", targets=segment_choices,   # (request) -> [(value, label)]
        run=add_to_segment,                # (request, contact_ids, target) -> the sentence the list says
    ))

The list offers an action to members with its permission; its target is a select of the bulk
menu (one per target name, shared by the actions naming it). contacts.views.lists.contact_bulk checks
the permission, works out the ids (the selected contacts or every one matching, at most
MATCHING_MAX) and calls run in the workspace in context. run raises ValidationError for a
refused change (said as an error) and ObjectDoesNotExist for a target not in this workspace (404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BulkAction:
    value: str
    label: str
    permission: str
    run: Callable[[Any, list[int], str], str]
    target: str = ""  # the POST field of the action's target ("" when it needs none)
    target_label: str = ""
    targets: Callable[[Any], list[tuple[str, str]]] | None = None


_ACTIONS: dict[str, BulkAction] = {}


def register(action: BulkAction) -> None:
    """Add a bulk action, or replace the one with the same value (ready() may run more than once)."""
    _ACTIONS[action.value] = action


def get(value: str) -> BulkAction | None:
    return _ACTIONS.get(value)


def registered() -> list[BulkAction]:
    return list(_ACTIONS.values())


def allowed(principal) -> list[BulkAction]:
    """Return the registered actions principal may apply."""
    return [action for action in _ACTIONS.values() if principal.can(action.permission)]
