from django.apps import AppConfig


class PagesConfig(AppConfig):
    """Landing pages on the workspace's public path, and the contacts' preference centre."""

    name = "tidings.pages"
    label = "pages"
    verbose_name = "Landing pages"

    def ready(self):
        from tidings.audit.targets import by_id, register_target
        from tidings.navigation import NavItem, register

        register(NavItem("Landing pages", "pages:list", "pages:view", group="Channels", icon="app-window", order=20))
        register_target("landing_page", by_id("pages:edit", "page_id"))
