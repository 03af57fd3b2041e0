from django.apps import AppConfig

from tidings.navigation import NavItem, register


class WebConfig(AppConfig):
    name = "tidings.web"
    label = "web"

    def ready(self) -> None:
        register(NavItem("Audit log", "audit:log", "audit:view", group="Settings", icon="scroll-text"))
