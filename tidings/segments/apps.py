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

        from tidings.audit.targets import by_id, register_target
        from tidings.contacts.panels import ContactPanel
        from tidings.contacts.panels import register as register_panel
        from tidings.navigation import NavItem, register
        from tidings.segments import views

        register(NavItem("Segments", "segments:list", "segments:view", group="Segments", icon="filter"))
        register_panel(ContactPanel("segments", "Segments", "segments/contact_panel.html", views.contact_panel,
                                    permission="segments:view", order=40, column="side"))  # fmt: skip
        register_target("segment", by_id("segments:detail", "segment_id"))
        from tidings.contacts.bulk_actions import BulkAction
        from tidings.contacts.bulk_actions import register as register_bulk

        for value, label, run in (
            ("segment_add", "Add to segment", views.bulk_add_to_segment),
            ("segment_remove", "Remove from segment", views.bulk_remove_from_segment),
        ):
            register_bulk(BulkAction(value, label, "segments:edit", run, target="segment", target_label="Segment",
                                     targets=views.bulk_segment_choices))  # fmt: skip


def _name(data, names) -> str:
    return names["segment_id"] if "segment_id" in names else f"#{data['segment_id']}"
