"""Field definitions, and bulk upsert for imports."""

import pytest
from django.core.exceptions import ValidationError

from tidings.contacts import actions, selectors, selectors_fields
from tidings.contacts.models import ContactField
from tidings.privacy.models import LawfulBasis
from tidings.tests.principals import system


def test_core_fields_are_seeded_with_mautics_aliases(in_acme):
    aliases = [f.alias for f in selectors_fields.field_definitions()]
    assert aliases[:3] == ["email", "firstname", "lastname"]
    assert {"mobile", "address1", "zipcode", "preferred_locale", "owner", "points", "date_identified"} <= set(aliases)
    encrypted = {f.alias for f in selectors_fields.field_definitions() if f.is_encrypted}
    assert encrypted == {"email", "firstname", "lastname", "phone", "mobile", "address1", "address2"}
    assert "companyname" in [f.alias for f in selectors_fields.field_definitions("company")]


def test_an_identifying_custom_field_is_encrypted_and_a_plain_one_is_not(ada):
    passport = actions.field_create(
        alias="passport_no",
        label="Passport",
        category="user.government_id",
        acknowledge_sensitive=True,
        principal=system(),
    )
    shoe = actions.field_create(alias="shoe_size", label="Shoe size", type="number", principal=system())
    assert passport.is_encrypted and not shoe.is_encrypted
    actions.contact_update(ada.id, {"passport_no": "X1234567", "shoe_size": "38"}, principal=system())
    view = selectors.contact_get(ada.id)
    assert (view.get("passport_no"), view.get("shoe_size")) == ("X1234567", 38)
    from tidings.contacts.models import Contact

    stored = Contact.objects.get(pk=ada.id)
    assert stored.custom == {"shoe_size": 38} and b"X1234567" not in bytes(stored.profile_enc)


def test_renaming_a_field_changes_its_label_never_its_data(ada):
    field = actions.field_create(alias="favourite_engine", label="Engine", principal=system())
    actions.contact_update(ada.id, {"favourite_engine": "Difference"}, principal=system())
    actions.field_update(field.id, label="Favourite engine", principal=system())
    assert selectors.contact_get(ada.id).get("favourite_engine") == "Difference"
    with pytest.raises(ValidationError):
        actions.field_update(field.id, alias="engine", principal=system())


def test_archiving_hides_a_field_and_keeps_its_data(ada):
    field = actions.field_create(alias="hobby", label="Hobby", principal=system())
    actions.contact_update(ada.id, {"hobby": "poetry"}, principal=system())
    actions.field_archive(field.id, principal=system())
    assert "hobby" not in selectors.contact_get(ada.id).fields
    actions.field_archive(field.id, archived=False, principal=system())
    assert selectors.contact_get(ada.id).get("hobby") == "poetry"


def test_deleting_a_field_needs_its_alias_as_confirmation_and_removes_its_data(ada):
    field = actions.field_create(alias="nickname", label="Nickname", category="user.name", principal=system())
    actions.contact_update(ada.id, {"nickname": "Enchantress of Numbers"}, principal=system())
    with pytest.raises(ValidationError):
        actions.field_delete(field.id, confirm="yes", principal=system())
    assert actions.field_delete(field.id, confirm="nickname", principal=system()) == 1
    assert not ContactField.objects.filter(alias="nickname").exists()
    assert "nickname" not in selectors.contact_get(ada.id).fields


def test_a_category_change_that_would_move_data_out_of_encryption_is_refused(in_acme):
    field = actions.field_create(alias="maiden_name", label="Maiden name", category="user.name", principal=system())
    with pytest.raises(ValidationError):
        actions.field_update(field.id, category="", principal=system())


def test_a_custom_unique_identifier_matches_on_upsert(ada):
    field = actions.field_create(alias="member_no", label="Member number", principal=system())
    actions.contact_update(ada.id, {"member_no": "M-001"}, principal=system())
    actions.field_update(field.id, is_unique_identifier=True, principal=system())  # indexes the existing value
    contact, created = actions.contact_upsert({"member_no": "m-001", "position": "Patron"}, principal=system())
    assert (contact.id, created) == (ada.id, False)
    assert selectors.contact_by_unique_identifier("member_no", "M-001").id == ada.id


def test_bulk_upsert_creates_updates_and_reports_bad_rows(ada):
    rows = [
        {"email": "ada@analytical.example", "position": "Countess"},
        {"email": "mary@sommerbrook.example", "firstname": "Mary", "tags": "science|-nothing"},
        {"email": "broken", "firstname": "Nobody"},
        {"email": "MARY@sommerbrook.example", "lastname": "Sommerbrook"},
    ]
    result = actions.contacts_bulk_upsert(
        rows,
        lawful_basis=LawfulBasis.LEGITIMATE_INTERESTS,
        tags=["imported"],
        batch_size=2,
        return_ids=True,
        principal=system(),
    )
    assert (result.created, result.updated) == (1, 2)
    assert [e.index for e in result.errors] == [2] and "email" in result.errors[0].errors
    mary = selectors.contact_by_unique_identifier("email", "mary@sommerbrook.example")
    assert (mary.get("firstname"), mary.get("lastname")) == ("Mary", "Sommerbrook")
    assert set(mary.tags) == {"imported", "science"} and mary.lawful_basis == "legitimate_interests"
    assert result.contact_ids == [ada.id, mary.id, None, mary.id]
    assert selectors.contact_get(ada.id).get("position") == "Countess"


def test_two_rows_with_the_same_new_email_in_one_batch_make_one_contact(in_acme):
    result = actions.contacts_bulk_upsert(
        [{"email": "twin@example.example"}, {"email": "Twin@example.example", "firstname": "Twin"}],
        lawful_basis=LawfulBasis.CONSENT,
        principal=system(),
    )
    assert result.created == 1
    assert selectors.contacts_count(search="twin@example.example") == 1


def test_bulk_upsert_requires_a_lawful_basis(in_acme):
    with pytest.raises(ValidationError):
        actions.contacts_bulk_upsert([{"email": "x@example.example"}], lawful_basis="because", principal=system())


def test_bulk_upsert_is_audited_per_batch_with_counts_only(in_acme):
    from tidings.audit.models import AuditEntry

    actions.contacts_bulk_upsert(
        [{"email": f"p{i}@example.example"} for i in range(5)],
        lawful_basis=LawfulBasis.CONSENT,
        batch_size=2,
        principal=system(),
    )
    entries = AuditEntry.objects.using("region_eu").filter(action="contacts.bulk_upserted")
    assert entries.count() == 3
    assert sum(e.data["created"] for e in entries) == 5
