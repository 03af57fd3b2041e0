from django.apps import AppConfig

from tidings.privacy import redaction


class PrivacyConfig(AppConfig):
    name = "tidings.privacy"
    label = "privacy"
    verbose_name = "Privacy"

    def ready(self):
        redaction.install()  # no exception message (and the value it may quote) reaches the log
