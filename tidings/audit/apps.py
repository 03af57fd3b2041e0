from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "tidings.audit"
    label = "audit"

    def ready(self) -> None:
        from tidings.web.navigation import NavItem, register

        register(NavItem("Audit log", "audit:log", "audit:view", group="Settings", icon="scroll-text"))
