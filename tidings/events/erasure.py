"""Erasure strategies of the event store, called by the privacy registry (tidings.privacy.registry).

Not actions: the registry calls them inside erase_subject_rows, which the erasing action checked
and audits.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q

from tidings.events.models import Event, EventString, Visitor
from tidings.events.registry import DICTIONARY_KINDS, event_types


def _string_refs() -> dict[int, list[tuple[list[int], str]]]:
    """Return, per dictionary kind, the (type codes, data key) pairs that refer to strings of that kind."""
    codes_by_key: dict[tuple[str, int], list[int]] = {}
    for spec in event_types():
        for key, value_kind in spec.dictionary_keys.items():
            codes_by_key.setdefault((key, DICTIONARY_KINDS[value_kind]), []).append(spec.code)
    refs: dict[int, list[tuple[list[int], str]]] = {}
    for (key, string_kind), codes in codes_by_key.items():
        refs.setdefault(string_kind, []).append((codes, key))
    return refs


def erase_events(model, contact_ids: Sequence[int]) -> int:
    """Erase the events of contact_ids and of their visitors, then the strings no event uses any more.

    The erasure registry's strategy for events.Event. A URL is shared by every visitor of a page,
    so a string is deleted only when no event of the workspace refers to it after the erasure.
    Runs before the visitors' own erasure (registry order: events.event < events.visitor), while
    the visitor rows still say whose they were.
    """
    contact_ids = list(contact_ids)
    visitors = Visitor.objects.filter(contact_id__in=contact_ids).values("id")
    doomed = Event.objects.filter(Q(contact_id__in=contact_ids) | Q(visitor_id__in=visitors))
    refs = _string_refs()
    candidates: dict[int, set[int]] = {}
    for kind, pairs in refs.items():
        for codes, key in pairs:
            values = doomed.filter(type__in=codes).values_list(f"data__{key}", flat=True).distinct()
            candidates.setdefault(kind, set()).update(int(v) for v in values if v is not None)
    count, _ = doomed.delete()
    for kind, ids in candidates.items():
        still_used: set[int] = set()
        for codes, key in refs[kind]:
            used = Event.objects.filter(type__in=codes, **{f"data__{key}__in": list(ids)}).values_list(
                f"data__{key}", flat=True
            )
            still_used.update(int(v) for v in used.distinct())
        EventString.objects.filter(kind=kind, id__in=ids - still_used).delete()
    return count


def strings_erased_with_events(model, contact_ids: Sequence[int]) -> int:
    """Erase nothing: the strings an erased contact's events used go with them (erase_events)."""
    return 0
