"""The register of recipients and the one door every transfer goes through: allowed ids out, counts logged."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tidings.consent import actions as consent
from tidings.consent.models import Purpose
from tidings.privacy_centre import actions, selectors
from tidings.privacy_centre.models import Recipient, Transfer
from tidings.tests.principals import system

EMAIL, NAME = "user.contact.email", "user.name"


@pytest.fixture
def crm(in_acme):
    return actions.recipient_create(principal=system(), name="Northwind CRM", kind="integration", country="Germany",
                                    safeguard="none_needed", purposes=["marketing_email"],
                                    categories=[EMAIL, NAME])  # fmt: skip


def _consent(contact, given=True, purpose="marketing_email"):
    consent.consent_record(purpose=purpose, given=given, contact_id=contact.id, method="form", principal=system())


def test_a_recipient_is_registered_with_a_country_code_and_audited(crm, in_acme):
    from tidings.audit.models import AuditEntry

    assert (crm.country, crm.purposes, crm.categories) == ("DE", ["marketing_email"], [EMAIL, NAME])
    assert AuditEntry.objects.filter(workspace_id=in_acme.id, action="privacy.recipient_created",
                                     target_id=str(crm.pk)).exists()  # fmt: skip


def test_a_recipient_with_unknown_purposes_or_categories_is_refused(in_acme):
    with pytest.raises(ValidationError) as error:
        actions.recipient_create(principal=system(), name="X", kind="webhook", country="Atlantis",
                                 purposes=["nope"], categories=["user.secret"])  # fmt: skip
    assert set(error.value.message_dict) == {"country", "purposes", "categories"}


def test_names_are_unique_in_the_register(crm):
    with pytest.raises(ValidationError):
        actions.recipient_create(principal=system(), name="Northwind CRM", kind="webhook", country="DE")


def test_only_contacts_that_allowed_the_purpose_are_transferred_and_the_rest_counted(crm, ada, grace):
    _consent(ada, True)
    _consent(grace, False)
    allowed = actions.transfer_contacts(crm.pk, [ada.id, grace.id], purpose="marketing_email", categories=[EMAIL],
                                        use="integration:crm", principal=system())  # fmt: skip
    assert allowed == {ada.id}
    logged = Transfer.objects.get()
    assert (logged.contacts, logged.refused, logged.purpose, logged.categories) == (1, 1, "marketing_email", [EMAIL])
    assert (logged.use, logged.actor_type, logged.recipient_id) == ("integration:crm", "system", crm.pk)


def test_a_transfer_outside_what_the_recipient_is_registered_for_sends_no_one(crm, ada):
    _consent(ada, True)
    _consent(ada, True, purpose="sharing")
    cases = [
        {"purpose": "sharing", "categories": [EMAIL]},  # a purpose it is not registered for
        {"purpose": "marketing_email", "categories": ["user.contact.phone_number"]},  # a category it is not
    ]
    for case in cases:
        assert actions.transfer_contacts(crm.pk, [ada.id], use="x", principal=system(), **case) == set()
    actions.recipient_update(crm.pk, principal=system(), name=crm.name, kind=crm.kind, country="DE",
                             purposes=crm.purposes, categories=crm.categories, active=False)  # fmt: skip
    assert actions.transfer_contacts(crm.pk, [ada.id], purpose="marketing_email", categories=[EMAIL], use="x",
                                     principal=system()) == set()  # fmt: skip
    assert list(Transfer.objects.values_list("contacts", "refused")) == [(0, 1)] * 3


def test_unknown_recipients_purposes_and_categories_are_errors(crm, ada):
    with pytest.raises(Recipient.DoesNotExist):
        actions.transfer_contacts(crm.pk + 1000, [ada.id], purpose="marketing_email", categories=[], use="x",
                                  principal=system())  # fmt: skip
    with pytest.raises(Purpose.DoesNotExist):
        actions.transfer_contacts(crm.pk, [ada.id], purpose="nope", categories=[], use="x", principal=system())
    with pytest.raises(ValueError):
        actions.transfer_contacts(crm.pk, [ada.id], purpose="marketing_email", categories=["x"], use="x",
                                  principal=system())  # fmt: skip
    assert not Transfer.objects.exists()


def test_an_analyst_cannot_transfer(crm, ada, make_user, in_acme):
    from tidings.accounts.actions import membership_create
    from tidings.accounts.selectors import principal_for_user

    ana = make_user("ana@acme.example")
    membership_create(workspace=in_acme, user=ana, role="analyst", principal=system())
    with pytest.raises(PermissionDenied):
        actions.transfer_contacts(crm.pk, [ada.id], purpose="marketing_email", categories=[], use="x",
                                  principal=principal_for_user(ana, in_acme))  # fmt: skip


def test_deleting_a_recipient_that_logged_transfers_keeps_it_inactive(crm, ada, in_acme):
    other = actions.recipient_create(principal=system(), name="Unused", kind="webhook", country="FR")
    actions.recipient_delete(other.pk, principal=system())
    assert not Recipient.objects.filter(pk=other.pk).exists()
    actions.transfer_contacts(crm.pk, [ada.id], purpose="marketing_email", categories=[], use="x", principal=system())
    actions.recipient_delete(crm.pk, principal=system())
    assert Recipient.objects.get(pk=crm.pk).active is False


def test_records_of_processing_name_purposes_categories_recipients_retention_and_transfers(crm, in_acme, ada):
    actions.recipient_create(principal=system(), name="Far Mail", kind="subprocessor", country="US",
                             safeguard="scc", purposes=["marketing_email"], categories=[EMAIL])  # fmt: skip
    _consent(ada, True)
    actions.transfer_contacts(crm.pk, [ada.id], purpose="marketing_email", categories=[EMAIL], use="x",
                              principal=system())  # fmt: skip
    records = selectors.records_of_processing()
    marketing = next(p for p in records["purposes"] if p["key"] == "marketing_email")
    assert marketing["lawful_basis"] == "consent" and marketing["recipients"] == ["Far Mail", "Northwind CRM"]
    categories = {c["category"]: c["stores"] for c in records["categories"]}
    assert "contacts.contact" in categories[EMAIL] and "events.event" in categories["user.behavior"]
    transfers = {t["recipient"]: t for t in records["transfers"]}
    assert transfers["Far Mail"]["abroad"] is True and transfers["Far Mail"]["safeguard"] == "scc"
    assert transfers["Northwind CRM"]["abroad"] is False and transfers["Northwind CRM"]["contacts_last_year"] == 1
    assert {r["data_class"] for r in records["retention"]} >= {"tracking_events", "audit_log"}


def test_the_csv_has_one_row_per_field_and_quotes_formulas(in_acme):
    import csv
    import io

    actions.recipient_create(principal=system(), name="=HYPERLINK(1)", kind="webhook", country="FR")
    rows = list(csv.reader(io.StringIO(selectors.records_csv(selectors.records_of_processing()))))
    assert rows[0] == ["section", "name", "field", "value"]
    assert ["recipients", "'=HYPERLINK(1)", "country", "FR"] in rows
    assert not any(cell.startswith("=") for row in rows for cell in row)
