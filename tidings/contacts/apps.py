from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "tidings.contacts"
    label = "contacts"
    verbose_name = "Contacts"

    def ready(self):
        from tidings.contacts.actions import fields_ensure_core
        from tidings.tenancy.context import use_workspace
        from tidings.tenancy.signals import workspace_created

        def store_core_fields(sender, workspace, **kwargs):
            with use_workspace(workspace):
                fields_ensure_core()

        workspace_created.connect(store_core_fields, dispatch_uid="contacts.store_core_fields", weak=False)
        from tidings.contacts.demo import seed_demo_contacts
        from tidings.privacy.registry import OtherStore, register_store
        from tidings.tenancy.demo import SEEDERS
        from tidings.web.navigation import NavItem, register

        register(NavItem("Contacts", "contacts:list", "contacts:view"))
        register(NavItem("Companies", "contacts:company_list", "contacts:view"))
        register(NavItem("Fields", "contacts:fields", "contacts:edit", section="settings"))
        register(NavItem("Imports", "contacts:import_list", "contacts:import", section="settings"))
        from tidings.audit.targets import by_id, register_target, to_page

        register_target("contact", by_id("contacts:detail", "contact_id"))
        register_target("company", by_id("contacts:company_detail", "company_id"))
        register_target("contact_import", by_id("contacts:import_detail", "import_id"))
        register_target("contact_field", to_page("contacts:fields"))
        if seed_demo_contacts not in SEEDERS:
            SEEDERS.append(seed_demo_contacts)
        register_store(
            OtherStore(
                label="contacts.import_upload",
                erase="tidings.contacts.imports.erase_uploads",
                erase_workspace="tidings.contacts.imports.erase_workspace_uploads",
                note="uploaded CSV files, sealed; erasing any contact deletes every unfinished upload of its workspace",
            )
        )
