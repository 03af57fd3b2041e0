"""The erasure/export registry: every store joins, export gathers everything, erasure erases everything."""

from django.db import connections

from tidings.contacts import actions, selectors
from tidings.contacts.models import Contact, EventType
from tidings.privacy import registry
from tidings.tests.principals import system


def test_every_model_holding_personal_data_has_joined_the_registry():
    assert registry.unregistered_models() == [], (
        "declare personal_data = PersonalData(...) (or NotPersonal('why')) on these models"
    )


def test_a_personal_looking_model_that_declares_nothing_is_caught(monkeypatch):
    from tidings.contacts.models import ContactTag

    monkeypatch.delattr(ContactTag, "personal_data")
    assert "contacts.ContactTag" in registry.unregistered_models()


def seed_everything(contact):
    company = actions.company_create({"companyname": "Analytical Engines"}, principal=system())
    actions.company_link(contact.id, company.id, principal=system())
    actions.note_add(contact.id, "Met at the Royal Society", principal=system())
    actions.dnc_add(contact.id, channel="email", reason="unsubscribed", principal=system())
    actions.events_append(
        [{"contact_id": contact.id, "type": EventType.PAGE_HIT, "data": {"page": 7}}], principal=system()
    )


def test_export_gathers_the_profile_and_every_store_activity_included(ada):
    seed_everything(ada)
    package = registry.export_subject(ada.id)
    assert package["contacts.contact"][0]["fields"]["email"] == "ada@analytical.example"
    assert package["contacts.note"][0]["text"] == "Met at the Royal Society"
    assert package["contacts.donotcontact"][0]["reason"] == "unsubscribed"
    assert len(package["contacts.contactcompany"]) == 1
    assert len(package["contacts.contacttag"]) == 1
    assert {e["type"] for e in package["events.event"]} >= {"page.hit", "contact.created"}
    assert "privacy.contactkey" not in package and "contacts.contactsearchtoken" not in package


def test_erasure_leaves_no_row_about_the_contact_in_any_table(ada, grace):
    seed_everything(ada)
    registry.erase_subject(ada.id, reason="art17")
    connection = connections["region_eu"]
    leftovers = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
            if table == "contacts_contact":
                cursor.execute("SELECT COUNT(*) FROM contacts_contact WHERE id = %s", [ada.id])
            elif "contact_id" in columns:
                cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE contact_id = %s", [ada.id])  # noqa: S608
            else:
                continue
            count = cursor.fetchone()[0]
            if count:
                leftovers[table] = count
    assert leftovers == {}
    assert selectors.contact_get(grace.id).email == "grace@navy.example", "other contacts are untouched"
    assert not selectors.contact_search("ada@analytical.example").items


def test_erasure_is_audited_with_ids_only(ada):
    from tidings.audit.models import AuditEntry

    registry.erase_subject(ada.id)
    entry = AuditEntry.objects.using("region_eu").filter(action="privacy.subject_erased").get()
    assert entry.target_id == str(ada.id)
    assert "ada" not in str(entry.data).lower()


def test_registry_never_crosses_workspaces(ada, globex):
    from tidings.tenancy.context import use_workspace

    with use_workspace(globex):
        assert registry.export_subject(ada.id) == {}
        registry.erase_subject(ada.id)
    assert Contact.objects.filter(pk=ada.id).exists(), "erasure in Globex touched nothing of Acme's"
