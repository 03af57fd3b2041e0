from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "tidings.audit"
    label = "audit"
