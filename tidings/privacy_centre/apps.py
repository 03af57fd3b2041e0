from django.apps import AppConfig


class PrivacyCentreConfig(AppConfig):
    """The privacy centre: retention, records of processing, recipients and the transfer log."""

    name = "tidings.privacy_centre"
    label = "privacy_centre"
    verbose_name = "Privacy centre"

    def ready(self):
        from tidings.audit.targets import register_target, to_page
        from tidings.navigation import NavItem, register

        register(NavItem("Retention", "privacy_centre:retention", "privacy:view", group="Privacy", icon="trash-2",
                         order=40))  # fmt: skip
        register(NavItem("Records of processing", "privacy_centre:records", "privacy:view", group="Privacy",
                         icon="scroll-text", order=50))  # fmt: skip
        register(NavItem("Recipients", "privacy_centre:recipients", "privacy:view", group="Privacy", icon="send",
                         order=60))  # fmt: skip
        register_target("retention_rule", to_page("privacy_centre:retention"))
        register_target("recipient", to_page("privacy_centre:recipients"))
