from django.apps import AppConfig


class MauticCompatConfig(AppConfig):
    name = "tidings.mautic_compat"
    label = "mautic_compat"
