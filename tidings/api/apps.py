from django.apps import AppConfig

from tidings.navigation import NavItem, register


class ApiConfig(AppConfig):
    name = "tidings.api"
    label = "api"

    def ready(self):

        register(NavItem("API tokens", "api:tokens", "workspace:view", group="Settings", icon="key-round"))
        register(NavItem("OAuth2 apps", "api:oauth_apps", "settings:manage", group="Settings", icon="app-window"))

        from tidings.audit.targets import register_target, to_page

        register_target("api_token", to_page("api:tokens"))
        register_target("oauth_app", to_page("api:oauth_apps"))
