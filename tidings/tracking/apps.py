from django.apps import AppConfig


class TrackingConfig(AppConfig):
    """Web tracking: a workspace's sites, the tracker and its collect endpoints, cookieless traffic counts."""

    name = "tidings.tracking"
    label = "tracking"
    verbose_name = "Tracking"

    def ready(self):
        from tidings.tracking.event_types import register_tracking_event_types

        register_tracking_event_types()

        from tidings.audit.targets import by_id, register_target
        from tidings.navigation import NavItem, register
        from tidings.tracking import traffic  # noqa: F401 (registers the periodic purge of salts and sightings)

        register(NavItem("Sites", "tracking:site_list", "tracking:view", group="Settings", icon="app-window", order=40))
        register(NavItem("Traffic", "tracking_traffic:index", "reports:view", group="Reports", icon="chart-column"))
        register_target("site", by_id("tracking:site_detail", "site_id"))
