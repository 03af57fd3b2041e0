from django.apps import AppConfig


def _store_standard_purposes(sender, workspace, **kwargs):
    """Give a new workspace the standard purposes (marketing email, tracking, profiling, sharing)."""
    from tidings.accounts.permissions import system_principal
    from tidings.consent.actions import purposes_ensure_standard
    from tidings.tenancy.context import use_workspace

    with use_workspace(workspace):
        purposes_ensure_standard(principal=system_principal(workspace, reason="signal:workspace_created"))


class ConsentConfig(AppConfig):
    """Consent: purposes, privacy notices and the append-only ledger every outbound use asks."""

    name = "tidings.consent"
    label = "consent"
    verbose_name = "Consent"

    def ready(self):
        from tidings.audit.targets import register_target, to_page
        from tidings.consent import views
        from tidings.consent.event_types import CONSENT_GIVEN, CONSENT_WITHDRAWN, register_consent_event_types
        from tidings.contacts.panels import ContactPanel
        from tidings.contacts.panels import register as register_panel
        from tidings.events.descriptions import register_description
        from tidings.navigation import NavItem, register
        from tidings.tenancy.signals import workspace_created

        register_consent_event_types()

        from tidings.consent.retention import register_consent_retention

        register_consent_retention()
        workspace_created.connect(_store_standard_purposes, dispatch_uid="consent.store_standard_purposes")
        register_description(CONSENT_GIVEN, lambda d, n: f"Gave consent for {d['purpose']}", icon="badge-check")
        register_description(CONSENT_WITHDRAWN, lambda d, n: f"Withdrew consent for {d['purpose']}", icon="badge-check")
        register(NavItem("Consent", "consent:settings", "privacy:view", group="Privacy", icon="shield-check"))
        register_panel(ContactPanel("consents", "Consents", "consent/contact_panel.html", views.contact_panel,
                                    permission="privacy:view", order=35, column="side"))  # fmt: skip
        register_target("purpose", to_page("consent:settings"))
        register_target("privacy_notice", to_page("consent:settings"))
