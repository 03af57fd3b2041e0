"""Countries are stored as ISO 3166-1 alpha-2 codes whichever surface writes them; an unknown one is refused."""

import pytest
from django.core.exceptions import ValidationError

from tidings.contacts import actions, selectors
from tidings.contacts.models import Contact
from tidings.privacy.models import LawfulBasis
from tidings.tests.principals import system


@pytest.mark.parametrize("typed", ["Germany", "germany", "de", "DE", "DEU"])
def test_a_contact_country_is_stored_as_its_code(in_acme, typed):
    contact = actions.contact_create({"firstname": "Anke", "country": typed}, principal=system())

    assert Contact.objects.get(pk=contact.id).country == "DE"


def test_an_unknown_country_is_refused_naming_the_field_not_the_value(in_acme):
    with pytest.raises(ValidationError) as error:
        actions.contact_create({"firstname": "Anke", "country": "Quillfeatherland"}, principal=system())

    assert list(error.value.message_dict) == ["country"]
    assert "Quillfeatherland" not in str(error.value)


def test_an_import_stores_codes_and_reports_the_row_with_an_unknown_country(in_acme):
    rows = [{"email": "jose@lisboa.example", "country": "Portugal"}, {"email": "x@nowhere.example", "country": "Nod"}]

    result = actions.contacts_bulk_upsert(rows, lawful_basis=LawfulBasis.CONSENT, principal=system())

    assert selectors.contact_by_unique_identifier("email", "jose@lisboa.example").get("country") == "PT"
    assert [(e.index, list(e.errors)) for e in result.errors] == [(1, ["country"])]


def test_a_company_country_is_stored_as_its_code(in_acme):
    company = actions.company_create({"companyname": "Lumen Studios", "companycountry": "france"}, principal=system())

    assert company.country == "FR"


def test_the_edit_form_stores_the_code_of_a_country_typed_by_name(alice_client, ada):
    alice_client.post(
        f"/w/acme/contacts/{ada.id}/edit/",
        {"email": "ada@analytical.example", "firstname": "Ada", "country": "United Kingdom", "points": "0"},
    )

    assert Contact.objects.get(pk=ada.id).country == "GB"


def test_the_edit_form_shows_an_unknown_country_as_a_field_error(alice_client, ada):
    response = alice_client.post(
        f"/w/acme/contacts/{ada.id}/edit/",
        {"email": "ada@analytical.example", "firstname": "Ada", "country": "Nod", "points": "0"},
    )

    assert response.status_code == 400
    assert "country" in response.context["form"].errors
