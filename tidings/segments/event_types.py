"""The event types segments writes: a contact joining or leaving a segment (codes 70-79)."""

from __future__ import annotations

from tidings.events.registry import INT, register_event_type, reserve_codes

SEGMENT_ADDED = 70
SEGMENT_REMOVED = 71
SEGMENT_CODES = range(70, 80)
SEGMENT_EVENT_CODES = frozenset(SEGMENT_CODES)  # segments' own: not changes of a contact


def register_segment_event_types() -> None:
    """Reserve segments' codes and declare its types (idempotent: ready() may run twice in tests)."""
    reserve_codes("segments", SEGMENT_CODES)
    register_event_type("segments", SEGMENT_ADDED, "segment.added", segment_id=INT)
    register_event_type("segments", SEGMENT_REMOVED, "segment.removed", segment_id=INT)
