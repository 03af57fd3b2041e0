from django.apps import AppConfig


class TrackingConfig(AppConfig):
    """Web tracking: a workspace's sites, the tracker and its collect endpoints, cookieless traffic counts."""

    name = "tidings.tracking"
    label = "tracking"
    verbose_name = "Tracking"

    def ready(self):
        from tidings.tracking.event_types import register_tracking_event_types

        register_tracking_event_types()

        # --- H-traffic: cookieless counts (the hourly purge of salts and sightings, the dashboard's link)
        from tidings.navigation import NavItem, register
        from tidings.tracking import traffic  # noqa: F401 (registers the periodic purge_traffic_keys job)

        register(NavItem("Traffic", "tracking_traffic:index", "reports:view", group="Reports", icon="chart-column"))
        # --- end H-traffic
