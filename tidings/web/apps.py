from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "tidings.web"
    label = "web"

    def ready(self) -> None:
        from tidings.navigation import NavItem, register

        register(NavItem("Audit log", "audit:log", "audit:view", section="settings"))
