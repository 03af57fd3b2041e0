"""The contacts actions decide who may act: a principal without the permission is refused before anything is written.

Principals here are built as the API builds a narrowed token's: alice's, holding only the
permissions a test names. Tasks act as the system principal and are recorded as "system".
"""

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from tidings.accounts.permissions import Principal, Via
from tidings.accounts.selectors import principal_for_user
from tidings.audit.models import AuditEntry
from tidings.contacts import actions, exports, imports, selectors
from tidings.contacts.models import Contact, ContactField, ContactImport, ImportStatus
from tidings.tests.principals import system

VIEW_EDIT = ("contacts:view", "contacts:edit")


def _holding(acme, alice, *permissions) -> Principal:
    """Return alice's principal in Acme narrowed to permissions, as a token holding only those is."""
    return Principal(workspace=acme, user=alice, permissions=frozenset(permissions), via=Via.TOKEN, credential_id=1)


def _audited(acme, action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.using("region_eu").filter(workspace_id=acme.pk, action=action))


def test_creating_a_contact_without_contacts_edit_is_refused_and_writes_nothing(in_acme, alice):
    viewer = _holding(in_acme, alice, "contacts:view")

    with pytest.raises(PermissionDenied):
        actions.contact_create({"email": "zoe@people.example"}, principal=viewer)

    assert selectors.contacts_count() == 0
    assert _audited(in_acme, "contact.created") == []


def test_merging_needs_contacts_delete_and_both_contacts_stay(in_acme, alice, ada, grace):
    with pytest.raises(PermissionDenied):
        actions.contact_merge(ada.id, grace.id, principal=_holding(in_acme, alice, *VIEW_EDIT))

    assert set(Contact.objects.values_list("id", flat=True)) == {ada.id, grace.id}
    assert _audited(in_acme, "contact.merged") == []


def test_merging_with_contacts_delete_erases_the_loser(in_acme, alice, ada, grace):
    actions.contact_merge(ada.id, grace.id, principal=_holding(in_acme, alice, *VIEW_EDIT, "contacts:delete"))

    assert list(Contact.objects.values_list("id", flat=True)) == [ada.id]


def test_deleting_a_contact_needs_contacts_delete(in_acme, alice, ada):
    with pytest.raises(PermissionDenied):
        actions.contact_delete(ada.id, principal=_holding(in_acme, alice, *VIEW_EDIT))

    assert Contact.objects.filter(pk=ada.id).exists()


def test_deleting_a_field_needs_contacts_delete(in_acme, alice):
    field = actions.field_create(alias="shoe_size", label="Shoe size", type="number", principal=system())

    with pytest.raises(PermissionDenied):
        actions.field_delete(field.id, confirm="shoe_size", principal=_holding(in_acme, alice, *VIEW_EDIT))

    assert ContactField.objects.filter(pk=field.id).exists()


def test_the_contact_settings_need_settings_manage(in_acme, alice):
    with pytest.raises(PermissionDenied):
        actions.contact_settings_update(guard_policy="reject", principal=_holding(in_acme, alice, *VIEW_EDIT))

    assert selectors.contact_settings().guard_policy != "reject"


def test_a_principal_of_another_workspace_is_refused_in_this_one(in_acme, ada, bob, globex):
    bob_in_globex = principal_for_user(bob, globex)  # an owner: every permission, but of Globex

    with pytest.raises(PermissionDenied):
        actions.contact_update(ada.id, {"city": "Paris"}, principal=bob_in_globex)

    assert selectors.contact_get(ada.id).get("city") == "London"


def test_an_action_told_no_principal_refuses_to_run(in_acme):
    with pytest.raises(TypeError):
        actions.contact_create({"email": "zoe@people.example"}, principal=None)

    assert selectors.contacts_count() == 0


def test_exporting_without_contacts_export_is_refused_and_not_recorded(in_acme, alice, ada):
    with pytest.raises(PermissionDenied):
        exports.export_contacts(fmt="csv", principal=_holding(in_acme, alice, *VIEW_EDIT))

    assert _audited(in_acme, "contacts.exported") == []


def test_uploading_an_import_without_contacts_import_stores_nothing(in_acme, alice, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    upload = SimpleUploadedFile("people.csv", b"email\nzoe@people.example\n", "text/csv")

    with pytest.raises(PermissionDenied):
        imports.import_create(upload, principal=_holding(in_acme, alice, *VIEW_EDIT))

    assert not ContactImport.objects.exists()
    assert not [path for path in tmp_path.rglob("*") if path.is_file()]


def test_an_action_records_the_member_who_acted(in_acme, alice):
    actions.contact_create({"email": "zoe@people.example"}, principal=principal_for_user(alice, in_acme))

    (entry,) = _audited(in_acme, "contact.created")
    assert (entry.actor_type, entry.actor_id) == ("user", alice.pk)


def test_an_import_run_by_the_task_is_recorded_as_the_system(
    alice_client, alice, in_acme, settings, tmp_path, immediate_tasks, django_capture_on_commit_callbacks
):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    csv.writer(out).writerows([["email"], ["zoe@people.example"]])
    upload = SimpleUploadedFile("people.csv", out.getvalue().encode(), "text/csv")
    response = alice_client.post("/w/acme/contacts/import/", {"file": upload})
    job_id = int(response["Location"].rstrip("/").split("/")[-2])

    with django_capture_on_commit_callbacks(using="region_eu", execute=True):
        alice_client.post(f"/w/acme/contacts/imports/{job_id}/map/", {"column_0": "email", "lawful_basis": "consent"})

    assert selectors.import_get(job_id).status == ImportStatus.COMPLETED
    (queued,) = _audited(in_acme, "contact_import.queued")
    (written,) = _audited(in_acme, "contacts.bulk_upserted")
    (completed,) = _audited(in_acme, "contact_import.completed")
    assert (queued.actor_type, queued.actor_id) == ("user", alice.pk)
    assert (written.actor_type, written.actor_id) == ("system", None)
    assert (completed.actor_type, completed.actor_id) == ("system", None)
