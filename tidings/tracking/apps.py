from django.apps import AppConfig


class TrackingConfig(AppConfig):
    """Web tracking: a workspace's sites, the tracker and its collect endpoints, cookieless traffic counts."""

    name = "tidings.tracking"
    label = "tracking"
    verbose_name = "Tracking"

    def ready(self):
        from tidings.tracking.event_types import register_tracking_event_types

        register_tracking_event_types()
