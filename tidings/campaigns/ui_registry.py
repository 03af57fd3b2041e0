"""The campaign pages' places in the shell: the navigation entry and the contact page's panel."""

from __future__ import annotations


def register_campaign_pages() -> None:
    from tidings.campaigns import views
    from tidings.contacts.panels import ContactPanel
    from tidings.contacts.panels import register as register_panel
    from tidings.navigation import NavItem, register

    register(NavItem("Campaigns", "campaigns:list", "campaigns:view", group="Campaigns", icon="megaphone", order=5))
    register_panel(ContactPanel("campaigns", "Campaigns", "campaigns/contact_panel.html", views.contact_panel,
                                permission="campaigns:view", order=50, column="side"))  # fmt: skip
