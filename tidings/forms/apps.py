from django.apps import AppConfig


class FormsConfig(AppConfig):
    """Forms: the builder, public submission (Mautic-compatible), double opt-in and the submissions' results."""

    name = "tidings.forms"
    label = "forms"
    verbose_name = "Forms"

    def ready(self):
        from tidings.forms.event_types import register_forms_event_types

        register_forms_event_types()

        from tidings.forms.retention import register_forms_retention

        register_forms_retention()

        from tidings.events.descriptions import register_description
        from tidings.forms.event_types import FORM_CONFIRMED, FORM_SUBMITTED

        register_description(FORM_SUBMITTED, lambda d, n: f"Submitted form #{d['form_id']}", icon="list")
        register_description(FORM_CONFIRMED, lambda d, n: f"Confirmed the subscription of form #{d['form_id']}",
                             icon="badge-check")  # fmt: skip

        from tidings.audit.targets import by_id, register_target
        from tidings.navigation import NavItem, register

        register(NavItem("Forms", "forms:list", "forms:view", group="Channels", icon="list", order=10))
        register_target("form", by_id("forms:detail", "form_id"))
