"""How contacts' event types read on the contact page's timeline (tidings.events.descriptions).

Registered from ContactsConfig.ready(), with the types contacts declares for the domains still
to be built (tracking, forms, emails...), which take their sentences along when they move.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tidings.contacts.event_types import EventType
from tidings.contacts.events import FIELDS_SEPARATOR
from tidings.events.descriptions import Names, register_description, register_names

E = EventType
CREATION_SOURCES = {
    "ui": "Created in the app",
    "api": "Created through the API",
    "form": "Created by a form submission",
    "system": "Created automatically",
}


def _by(names: Names) -> str:
    return f" by {names['by']}" if "by" in names else ""


def _ref(noun: str, key: str, data: Mapping[str, Any], names: Names) -> str:
    return f"{noun} {names[key]}" if key in names else f"{noun} #{data[key]}"


def _created(data, names) -> str:
    return CREATION_SOURCES.get(data.get("source", ""), "Created")


def _dnc_added(data, names) -> str:
    reason = data.get("reason")
    return f"Marked do-not-contact for {data['channel']}" + (f" ({reason})" if reason else "")


def _fields_changed(data, names) -> str:
    aliases = [a for a in data.get("fields", "").split(FIELDS_SEPARATOR) if a]
    count = max(data.get("count", len(aliases)), len(aliases))
    if not aliases:
        return f"{count} field{'s' if count != 1 else ''} changed" + _by(names)
    listed = ", ".join(aliases)
    others = count - len(aliases)
    more = f" and {others} other{'s' if others != 1 else ''}" if others else ""
    return f"Changed {listed}{more}" + _by(names)


def _points(data, names) -> str:
    delta = data.get("delta")
    sign = "+" if delta is not None and delta >= 0 else ""
    change = f" ({sign}{delta})" if delta is not None else ""
    return f"Points now {data['points']}{change}" if "points" in data else f"Points changed{change}"


def _stage(data, names) -> str:
    if not data.get("stage_id"):
        return "Left its stage"
    return f"Moved to {_ref('stage', 'stage_id', data, names)}"


def register_contact_descriptions(tag_names, company_names, member_names, stage_names=None) -> None:
    """Register the sentence and icon of each event type contacts declares, and its name loaders."""
    register_names("tag_id", tag_names)
    register_names("company_id", company_names)
    register_names("by", member_names)
    if stage_names is not None:
        register_names("stage_id", stage_names)
    describe = register_description
    describe(E.CONTACT_CREATED, _created, icon="plus")
    describe(E.CONTACT_IDENTIFIED, lambda d, n: "Identified", icon="user-round")
    describe(E.CONTACT_MERGED, lambda d, n: f"Merged with contact #{d['merged_id']}", icon="users")
    describe(E.CONTACT_IMPORTED, lambda d, n: f"Imported (import #{d['import']})" if "import" in d else "Imported",
             icon="upload")  # fmt: skip
    describe(E.TAG_ADDED, lambda d, n: f"{_ref('Tag', 'tag_id', d, n)} added{_by(n)}", icon="tags")
    describe(E.TAG_REMOVED, lambda d, n: f"{_ref('Tag', 'tag_id', d, n)} removed{_by(n)}", icon="tags")
    describe(E.DNC_ADDED, _dnc_added, icon="shield-check")
    describe(E.DNC_REMOVED, lambda d, n: f"Allowed again on {d['channel']}", icon="shield-check")
    describe(E.NOTE_ADDED, lambda d, n: f"Note added{_by(n)}", icon="pencil")
    describe(E.FIELDS_CHANGED, _fields_changed, icon="text-cursor-input")
    describe(E.COMPANY_LINKED, lambda d, n: f"Linked to {_ref('company', 'company_id', d, n)}{_by(n)}",
             icon="building-2")  # fmt: skip
    describe(E.COMPANY_UNLINKED, lambda d, n: f"Unlinked from {_ref('company', 'company_id', d, n)}{_by(n)}",
             icon="unlink")  # fmt: skip
    describe(E.PAGE_HIT, lambda d, n: f"Visited {d['url']}" if d.get("url") else "Visited a page", icon="app-window")
    describe(E.ASSET_DOWNLOAD, lambda d, n: f"Downloaded asset #{d['asset_id']}", icon="download")
    describe(E.VIDEO_HIT, lambda d, n: "Watched a video", icon="app-window")
    describe(E.FORM_SUBMITTED, lambda d, n: f"Submitted form #{d['form_id']}", icon="list")
    describe(E.POINTS_CHANGED, _points, icon="chart-column")
    describe(E.STAGE_CHANGED, _stage, icon="chevron-right")
