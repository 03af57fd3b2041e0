from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "tidings.contacts"
    label = "contacts"
    verbose_name = "Contacts"

    def ready(self):
        from tidings.contacts.demo import seed_demo_contacts
        from tidings.privacy.registry import OtherStore, register_store
        from tidings.tenancy.demo import SEEDERS
        from tidings.web.navigation import NavItem, register

        register(NavItem("Contacts", "contacts:list", "contacts:view", group="Contacts", icon="users"))
        register(NavItem("Companies", "contacts:company_list", "contacts:view", group="Contacts", icon="building-2"))
        register(NavItem("Fields", "contacts:fields", "contacts:edit", group="Settings", icon="text-cursor-input"))
        register(NavItem("Imports", "contacts:import_list", "contacts:import", group="Contacts", icon="upload"))
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
