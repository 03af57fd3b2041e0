from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "tidings.api"
    label = "api"

    def ready(self):
        from tidings.navigation import NavItem, register

        register(NavItem("API tokens", "api:tokens", "workspace:view", section="settings"))
        register(NavItem("OAuth2 apps", "api:oauth_apps", "settings:manage", section="settings"))
