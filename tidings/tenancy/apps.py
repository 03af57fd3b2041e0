from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tidings.tenancy"
    label = "tenancy"
