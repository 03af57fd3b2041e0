"""How events read on a timeline: a sentence and an icon per event type, each domain describing its own.

A domain registers, from its AppConfig.ready(), a describer per type it declared and, for data
keys that hold ids of its objects, a loader of their display names:

    register_names("tag_id", tag_names)                      # {id: name} for a set of ids, one query
    register_description(TAG_ADDED, lambda data, names: f"Tag {names['tag_id']} added", icon="tags")

describe() turns a page of events into sentences with one call per name loader (never per
event). A type without a describer, or whose describer fails on old data, reads as its label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tidings.events.registry import label

Names = Mapping[str, str]
Describer = Callable[[Mapping[str, Any], Names], str]
NameLoader = Callable[[set[int]], Mapping[int, str]]
DEFAULT_ICON = "info"


@dataclass(frozen=True)
class Description:
    """What a timeline shows for an event: the sentence and the icon's name in the kit's sprite."""

    text: str
    icon: str


@dataclass(frozen=True)
class _Entry:
    describe: Describer
    icon: str


_DESCRIBERS: dict[int, _Entry] = {}
_LOADERS: dict[str, NameLoader] = {}


def register_description(code: int, describe: Describer, *, icon: str = DEFAULT_ICON) -> None:
    """Describe events of type code with describe(data, names) -> sentence, shown with icon (a re-register replaces)."""
    _DESCRIBERS[int(code)] = _Entry(describe, icon)


def register_names(key: str, loader: NameLoader) -> None:
    """Resolve the ids under data key `key` to display names with loader(ids) -> {id: name}, once per page."""
    _LOADERS[key] = loader


def _names(rows: list[tuple[int, Mapping[str, Any]]]) -> dict[str, Mapping[int, str]]:
    wanted: dict[str, set[int]] = {}
    for _, data in rows:
        for key in data.keys() & _LOADERS.keys():
            if isinstance(data[key], int):
                wanted.setdefault(key, set()).add(data[key])
    return {key: _LOADERS[key](ids) for key, ids in wanted.items()}


def describe(rows: Iterable[tuple[int, Mapping[str, Any]]]) -> list[Description]:
    """Return a Description of each (type code, data) of rows, in order, names resolved in bulk."""
    rows = list(rows)
    names = _names(rows)
    out = []
    for code, data in rows:
        entry = _DESCRIBERS.get(int(code))
        if entry is None:
            out.append(Description(label(code), DEFAULT_ICON))
            continue
        known = {key: names[key][data[key]] for key in data.keys() & names.keys() if data[key] in names[key]}
        try:
            text = entry.describe(data, known)
        except (KeyError, TypeError, ValueError):
            # Data written before the describer's keys existed: the label still says what happened.
            text = label(code)
        out.append(Description(text, entry.icon))
    return out
