"""One country, however it is written: the shared normaliser imports, forms and filters use."""

import pytest

from tidings.countries import country_choices, country_code, country_name, country_spellings

# Runs on SQLite only (bin/test): nothing here reaches the database engine; conftest.py checks that.
pytestmark = pytest.mark.engine_independent


@pytest.mark.parametrize("typed", ["Germany", "germany", "de", "DE", "DEU", " Germany ", "Federal Republic of Germany"])
def test_names_and_codes_of_germany_are_one_country(typed):
    assert country_code(typed) == "DE"


@pytest.mark.parametrize(
    "typed,code", [("UK", "GB"), ("the Netherlands", "NL"), ("Côte d'Ivoire", "CI"), ("Russia", "RU"), ("U.S.", "US")]
)
def test_common_names_iso_does_not_list_are_known(typed, code):
    assert country_code(typed) == code


@pytest.mark.parametrize("typed", ["", "Atlantis", "D", None, 49])
def test_what_names_no_country_gives_none(typed):
    assert country_code(typed) is None


def test_the_picker_lists_every_iso_country_by_name():
    choices = dict(country_choices())

    assert len(choices) == 249
    assert choices["DE"] == "Germany"


def test_a_code_has_an_english_name():
    assert country_name("fr") == "France"
    assert country_name("XX") == ""


def test_spellings_of_a_code_include_its_names_and_codes_in_three_casings():
    assert {"DE", "de", "DEU", "Germany", "germany", "GERMANY"} <= set(country_spellings("DE"))
