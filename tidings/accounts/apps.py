from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tidings.accounts"
    label = "accounts"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from tidings.accounts.lockout import audit_new_pause
        from tidings.web.navigation import NavItem, register

        user_locked_out.connect(audit_new_pause, dispatch_uid="tidings.accounts.audit_new_pause")

        register(NavItem("Members", "accounts:settings_members", "members:manage", section="settings"))
        register(NavItem("Roles", "accounts:settings_roles", "workspace:view", section="settings"))
        register(NavItem("Workspace", "accounts:settings_workspace", "settings:manage", section="settings"))
        register(NavItem("Support access", "accounts:settings_support", "support:approve", section="settings"))

        from tidings.audit.targets import register_target, to_page

        register_target("user", to_page("accounts:settings_members"))
        register_target("invitation", to_page("accounts:settings_members"))
        register_target("support_grant", to_page("accounts:settings_support"))
        register_target("workspace", to_page("accounts:settings_workspace"))
