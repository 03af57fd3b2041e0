from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "tidings.api"
    label = "api"

    def ready(self):
        from tidings.web.navigation import NavItem, register

        register(NavItem("API tokens", "api:tokens", "workspace:view", section="settings"))
        register(NavItem("OAuth2 apps", "api:oauth_apps", "settings:manage", section="settings"))

        from tidings.audit.targets import register_target, to_page

        register_target("api_token", to_page("api:tokens"))
        register_target("oauth_app", to_page("api:oauth_apps"))
