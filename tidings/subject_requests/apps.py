from django.apps import AppConfig


class SubjectRequestsConfig(AppConfig):
    """Data-subject requests: access, rectification, erasure, restriction and objection, due within 30 days."""

    name = "tidings.subject_requests"
    label = "subject_requests"
    verbose_name = "Data-subject requests"

    def ready(self):
        from tidings.audit.targets import by_id, register_target
        from tidings.navigation import NavItem, register
        from tidings.subject_requests import tasks  # noqa: F401  (registers the overdue check)

        register(NavItem("Data requests", "subject_requests:queue", "privacy:view", group="Privacy", icon="scroll-text",
                         order=20))  # fmt: skip
        register_target("subject_request", by_id("subject_requests:detail", "request_id"))
