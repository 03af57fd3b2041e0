"""Autocomplete inputs: the country and company suggestion endpoints, and the forms that ask them."""

import re

import pytest

from tidings.contacts import actions
from tidings.countries import country_matches
from tidings.tests.principals import system

OPTION = re.compile(r'<option value="([^"]+)"(?: label="([^"]*)")?>')


def _options(response) -> list[tuple[str, str]]:
    return OPTION.findall(response.content.decode())


def test_country_suggestions_put_the_named_country_first(alice_client, in_acme):
    response = alice_client.get("/w/acme/contacts/countries/suggest/", {"country": "de"})

    assert response.status_code == 200
    assert _options(response)[0] == ("DE", "Germany (DE)")


def test_country_suggestions_match_the_start_of_any_word_of_the_name(alice_client, in_acme):
    response = alice_client.get("/w/acme/contacts/countries/suggest/", {"country": "king"})

    assert ("GB", "United Kingdom (GB)") in _options(response)


def test_country_suggestions_are_at_most_twenty():
    assert len(country_matches("a", 20)) == 20


def test_country_suggestions_for_nothing_typed_are_empty(alice_client, in_acme):
    response = alice_client.get("/w/acme/contacts/countries/suggest/")

    assert response.status_code == 200
    assert b"<option" not in response.content


@pytest.fixture
def many_companies(in_acme):
    for number in range(25):
        actions.company_create({"companyname": f"Lumen Studio {number}"}, principal=system())
    actions.company_create({"companyname": "Analytical Engines"}, principal=system())


def test_company_suggestions_are_at_most_twenty_matching_names(alice_client, many_companies):
    response = alice_client.get("/w/acme/companies/suggest/", {"company": "lumen"})

    names = [value for value, _ in _options(response)]
    assert len(names) == 20
    assert all(name.startswith("Lumen Studio") for name in names)


def test_company_suggestions_for_a_search_too_long_are_empty_not_an_error(alice_client, many_companies):
    response = alice_client.get("/w/acme/companies/suggest/", {"company": "lumen " * 40})

    assert response.status_code == 200


def test_the_contact_form_asks_for_country_and_company_suggestions(alice_client, in_acme):
    content = alice_client.get("/w/acme/contacts/new/").content.decode()

    assert 'hx-get="/w/acme/contacts/countries/suggest/"' in content
    assert 'hx-get="/w/acme/companies/suggest/"' in content
    assert '<datalist id="country-options"></datalist>' in content


def test_the_company_form_asks_for_country_suggestions(alice_client, in_acme):
    content = alice_client.get("/w/acme/companies/new/").content.decode()

    assert 'list="companycountry-options"' in content
    assert '<datalist id="companycountry-options"></datalist>' in content


def test_the_bulk_tag_field_is_a_combobox(alice_client, ada):
    content = alice_client.get("/w/acme/contacts/").content.decode()

    assert re.search(r'<input[^>]*id="bulk-tag"[^>]*data-combobox', content)
