from django.apps import AppConfig


class EmailsConfig(AppConfig):
    """Emails: authoring, personalisation, resumable sending, open/click tracking, unsubscribes and bounces."""

    name = "tidings.emails"
    label = "emails"
    verbose_name = "Emails"
