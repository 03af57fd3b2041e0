from django.apps import AppConfig


def _store_core_fields(sender, workspace, **kwargs):
    """Give a new workspace its core contact and company fields."""
    from tidings.contacts.actions import fields_ensure_core
    from tidings.tenancy.context import use_workspace

    with use_workspace(workspace):
        fields_ensure_core()


class ContactsConfig(AppConfig):
    name = "tidings.contacts"
    label = "contacts"
    verbose_name = "Contacts"

    def ready(self):
        from tidings.contacts.demo import seed_demo_contacts
        from tidings.contacts.events import register_contact_event_types
        from tidings.contacts.panels import ContactPanel
        from tidings.contacts.panels import register as register_panel
        from tidings.contacts.views import contact as page
        from tidings.contacts.widgets import register_widgets
        from tidings.demo import SEEDERS
        from tidings.navigation import NavItem, register
        from tidings.privacy.registry import OtherStore, register_store
        from tidings.tenancy.signals import workspace_created

        workspace_created.connect(_store_core_fields, dispatch_uid="contacts.store_core_fields")
        register_contact_event_types()
        from tidings.contacts.retention import register_contacts_retention

        register_contacts_retention()
        from tidings.consent.subjects import register_contact_lookup
        from tidings.contacts.conditions import existing_contact_ids

        register_contact_lookup(existing_contact_ids)  # the ledger refuses records about contacts it cannot find
        from tidings.contacts import selectors, selectors_stages
        from tidings.contacts.timeline import register_contact_descriptions

        register_contact_descriptions(selectors.tag_names, selectors.company_names, selectors.member_names,
                                      selectors_stages.stage_names)  # fmt: skip
        register_panel(ContactPanel("notes", "Notes", "contacts/panels/notes.html", page.notes_panel, column="main"))
        register_panel(ContactPanel("tags", "Tags", "contacts/panels/tags.html", order=10))
        register_panel(ContactPanel("companies", "Companies", "contacts/panels/companies.html", page.companies_panel,
                                    order=20))  # fmt: skip
        register_panel(ContactPanel("dnc", "Do not contact", "contacts/panels/dnc.html", page.dnc_panel, order=30))
        register_widgets()
        register(NavItem("Contacts", "contacts:list", "contacts:view", group="Contacts", icon="users", shortcut="c"))
        register(NavItem("Companies", "contacts:company_list", "contacts:view", group="Contacts", icon="building-2"))
        register(NavItem("Fields", "contacts:fields", "contacts:edit", group="Settings", icon="text-cursor-input"))
        register(NavItem("Stages", "contacts:stage_list", "contacts:view", group="Settings", icon="chevron-right"))
        register(NavItem("Imports", "contacts:import_list", "contacts:import", group="Contacts", icon="upload"))
        register(NavItem("Duplicates", "contacts:duplicates", "contacts:edit", group="Contacts", icon="copy"))
        from tidings.audit.targets import by_id, register_target, to_page

        register_target("contact", by_id("contacts:detail", "contact_id"))
        register_target("company", by_id("contacts:company_detail", "company_id"))
        register_target("contact_import", by_id("contacts:import_detail", "import_id"))
        register_target("contact_field", to_page("contacts:fields"))
        register_target("stage", to_page("contacts:stage_list"))
        if seed_demo_contacts not in SEEDERS:
            SEEDERS.append(seed_demo_contacts)
        register_store(
            OtherStore(
                label="contacts.import_upload",
                erase="tidings.contacts.import_uploads.erase_uploads",
                erase_workspace="tidings.contacts.import_uploads.erase_workspace_uploads",
                note="uploaded CSV files, sealed; erasing any contact deletes every unfinished upload of its workspace",
            )
        )
