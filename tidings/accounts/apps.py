from django.apps import AppConfig

from tidings.navigation import NavItem, register


class AccountsConfig(AppConfig):
    name = "tidings.accounts"
    label = "accounts"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from tidings.accounts.lockout import audit_new_pause  # imports axes' models: only once apps are ready

        user_locked_out.connect(audit_new_pause, dispatch_uid="tidings.accounts.audit_new_pause")

        for label, url_name, permission, icon in (
            ("Members", "accounts:settings_members", "members:manage", "users"),
            ("Roles", "accounts:settings_roles", "workspace:view", "badge-check"),
            ("Workspace", "accounts:settings_workspace", "settings:manage", "settings"),
            ("Support access", "accounts:settings_support", "support:approve", "life-buoy"),
        ):
            register(NavItem(label, url_name, permission, group="Settings", icon=icon))

        from tidings.audit.targets import register_target, to_page

        register_target("user", to_page("accounts:settings_members"))
        register_target("invitation", to_page("accounts:settings_members"))
        register_target("support_grant", to_page("accounts:settings_support"))
        register_target("workspace", to_page("accounts:settings_workspace"))
