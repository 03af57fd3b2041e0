from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    """Tidings' own privacy policy and terms: versions staff publish, and the notice workspace admins get."""

    name = "tidings.policies"
    label = "policies"
    verbose_name = "Tidings policies"

    def ready(self):
        from tidings.navigation import register_banner
        from tidings.policies.views import banners

        register_banner(banners)
