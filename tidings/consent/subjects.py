"""Which contacts exist: a lookup the contacts app registers, so consent (a lower layer) never imports it.

The ledger must refuse a record about a contact of another workspace (or none) the way every
other write does, with the same "not found"; contacts registers its scoped lookup from its
AppConfig.ready(). Without one every contact is unknown: the check fails closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

ContactLookup = Callable[[list[int]], Iterable[int]]
_LOOKUP: list[ContactLookup] = []


def register_contact_lookup(lookup: ContactLookup) -> None:
    """Use lookup(ids) -> the ids among them that are contacts of the workspace in context (a re-register replaces)."""
    _LOOKUP[:] = [lookup]


def existing_contacts(ids: Iterable[int]) -> set[int]:
    """Return which of ids are contacts of the workspace in context (none when no lookup is registered)."""
    ids = sorted({int(i) for i in ids})
    if not ids or not _LOOKUP:
        return set()
    return {int(i) for i in _LOOKUP[0](ids)}
