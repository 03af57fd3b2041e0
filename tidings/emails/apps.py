from django.apps import AppConfig


class EmailsConfig(AppConfig):
    """Emails: authoring, personalisation, resumable sending, open/click tracking, unsubscribes and bounces."""

    name = "tidings.emails"
    label = "emails"
    verbose_name = "Emails"

    def ready(self):
        from tidings.audit.targets import by_id, register_target
        from tidings.navigation import NavItem, register

        register(NavItem("Emails", "emails:list", "emails:view", group="Channels", icon="mail", order=5))
        register_target("email", by_id("emails:edit", "email_id"))
