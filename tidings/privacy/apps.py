from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "tidings.privacy"
    label = "privacy"
    verbose_name = "Privacy"

    def ready(self):
        from tidings.privacy import redaction

        redaction.install()  # no exception message (and the value it may quote) reaches the log
