from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "tidings.privacy"
    label = "privacy"
    verbose_name = "Privacy"
