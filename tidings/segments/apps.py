from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    """Segments: filtered sets of contacts kept fresh, that emails and campaigns start from."""

    name = "tidings.segments"
    label = "segments"
    verbose_name = "Segments"

    def ready(self):
        from tidings.demo import SEEDERS
        from tidings.events.descriptions import register_description, register_names
        from tidings.privacy.vault import register_file_key_holder
        from tidings.segments import selectors
        from tidings.segments.demo import seed_demo_segments
        from tidings.segments.event_types import SEGMENT_ADDED, SEGMENT_REMOVED, register_segment_event_types

        register_segment_event_types()
        if seed_demo_segments not in SEEDERS:
            SEEDERS.append(seed_demo_segments)
        register_file_key_holder("segments", "tidings.segments.personal_data.reseal_filter_values")
        register_names("segment_id", selectors.segment_names)
        register_description(SEGMENT_ADDED, lambda d, n: f"Added to segment {_name(d, n)}", icon="filter")
        register_description(SEGMENT_REMOVED, lambda d, n: f"Removed from segment {_name(d, n)}", icon="filter")


def _name(data, names) -> str:
    return names["segment_id"] if "segment_id" in names else f"#{data['segment_id']}"
