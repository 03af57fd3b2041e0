from django.apps import AppConfig


class EmailsConfig(AppConfig):
    """Emails: authoring, personalisation, resumable sending, open/click tracking, unsubscribes and bounces."""

    name = "tidings.emails"
    label = "emails"
    verbose_name = "Emails"

    def ready(self):
        from tidings.emails.credentials import register_credentials_holder
        from tidings.emails.event_types import register_emails_descriptions, register_emails_event_types
        from tidings.emails.headers import register_dkim_key_holder
        from tidings.emails.selectors_sending import email_names

        register_emails_event_types()
        register_emails_descriptions(email_names)
        register_dkim_key_holder()
        register_credentials_holder()

        from tidings.contacts import admission
        from tidings.emails.actions.feedback import suppression_readmit
        from tidings.emails.selectors import erased_addresses

        admission.register(erased_addresses, readmit=suppression_readmit)

        from tidings.audit.targets import by_id, register_target
        from tidings.navigation import NavItem, register

        register(NavItem("Emails", "emails:list", "emails:view", group="Channels", icon="mail", order=5))
        register(NavItem("Sending", "emails_send:sending_settings", "settings:manage", group="Settings", icon="send"))
        register_target("email", by_id("emails:edit", "email_id"))
