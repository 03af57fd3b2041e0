from django.apps import AppConfig


class EventsConfig(AppConfig):
    """The append-only event store every domain writes to; domains declare their types in tidings.events.registry."""

    name = "tidings.events"
    label = "events"
    verbose_name = "Events"

    def ready(self):
        from tidings.events.retention import register_event_retention

        register_event_retention()
