from django.apps import AppConfig

from tidings.navigation import NavItem, register


class AccountsConfig(AppConfig):
    name = "tidings.accounts"
    label = "accounts"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from tidings.accounts.lockout import audit_new_pause  # imports axes' models: only once apps are ready

        user_locked_out.connect(audit_new_pause, dispatch_uid="tidings.accounts.audit_new_pause")

        register(NavItem("Members", "accounts:settings_members", "members:manage", section="settings"))
        register(NavItem("Roles", "accounts:settings_roles", "workspace:view", section="settings"))
        register(NavItem("Workspace", "accounts:settings_workspace", "settings:manage", section="settings"))
        register(NavItem("Support access", "accounts:settings_support", "support:approve", section="settings"))
