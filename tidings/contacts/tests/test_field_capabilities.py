"""Field capabilities: where each field's value lives, which operators filter it, and the refusals."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from tidings.contacts import actions, selectors_fields
from tidings.contacts.capabilities import Operator, Storage
from tidings.contacts.models import Company, Contact
from tidings.tests.principals import system


def _ids(alias, operator, value=None):
    matching = selectors_fields.field_filter(alias, operator, value)
    return set(Contact.objects.filter(matching).values_list("id", flat=True))


@pytest.fixture
def plan_field(in_acme):
    return actions.field_create(
        alias="plan", label="Plan", type="select", options=["free", "pro", "team"], principal=system()
    )


@pytest.fixture
def seats_field(in_acme):
    return actions.field_create(alias="seats", label="Seats", type="number", principal=system())


@pytest.fixture
def passport_field(in_acme):
    return actions.field_create(
        alias="passport_no",
        label="Passport",
        category="user.government_id",
        acknowledge_sensitive=True,
        principal=system(),
    )


def test_each_core_field_reports_where_its_value_lives(in_acme):
    caps = selectors_fields.field_capabilities()

    assert caps["city"].storage == Storage.COLUMN and caps["city"].column == "city"
    assert caps["email"].storage == Storage.BLIND_INDEX
    assert caps["firstname"].storage == Storage.TOKENS
    assert caps["address1"].storage == Storage.ENCRYPTED
    assert selectors_fields.field_capabilities("company")["companycity"].storage == Storage.COLUMN


def test_a_clear_column_supports_text_matching_and_a_number_column_ranges(in_acme):
    caps = selectors_fields.field_capabilities()

    assert {Operator.EQUALS, Operator.CONTAINS, Operator.STARTS_WITH, Operator.EMPTY} <= caps["city"].operators
    assert Operator.BETWEEN not in caps["city"].operators
    assert {Operator.GTE, Operator.BETWEEN, Operator.IN} <= caps["points"].operators
    assert Operator.CONTAINS not in caps["points"].operators
    assert caps["points"].sortable and caps["points"].indexed and not caps["position"].indexed


def test_an_encrypted_identifier_allows_exact_match_only(in_acme):
    email = selectors_fields.field_capabilities()["email"]

    assert email.operators == {Operator.EQUALS, Operator.IN, Operator.EMPTY, Operator.NOT_EMPTY}
    assert not email.sortable


def test_an_encrypted_field_without_index_supports_nothing(passport_field):
    passport = selectors_fields.field_capabilities()["passport_no"]

    assert passport.storage == Storage.ENCRYPTED and passport.operators == frozenset()


def test_an_encrypted_unique_identifier_is_matched_through_its_blind_index(ada, grace):
    actions.field_create(
        alias="member_no",
        label="Member number",
        category="user.government_id",
        acknowledge_sensitive=True,
        is_unique_identifier=True,
        principal=system(),
    )
    actions.contact_update(ada.id, {"member_no": "M-77"}, principal=system())

    assert selectors_fields.field_capabilities()["member_no"].storage == Storage.BLIND_INDEX
    assert _ids("member_no", "equals", "m-77") == {ada.id}


def test_a_clear_custom_field_is_a_json_value(plan_field, seats_field):
    caps = selectors_fields.field_capabilities()

    assert caps["plan"].storage == Storage.CUSTOM and not caps["plan"].indexed
    assert Operator.BETWEEN in caps["seats"].operators and caps["seats"].sortable


def test_a_column_filter_matches_city_case_insensitively_with_contains(ada, grace):
    assert _ids("city", "contains", "ondo") == {ada.id}
    assert _ids("city", "equals", "London") == {ada.id}
    assert _ids("city", "empty") == {grace.id}


def test_a_number_column_filters_by_range(ada, grace):
    actions.contact_update(ada.id, {"points": 40}, principal=system())

    assert _ids("points", "between", [10, 50]) == {ada.id}
    assert _ids("points", "lt", 10) == {grace.id}


def test_a_datetime_column_filters_by_range(ada, grace):
    since = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    Contact.objects.filter(pk=ada.id).update(last_active=since + datetime.timedelta(days=3))

    assert _ids("last_active", "gte", "2020-01-02T00:00:00Z") == {ada.id}
    assert _ids("last_active", "empty") == {grace.id}


def test_a_custom_text_value_filters_by_equality_in_and_prefix(plan_field, ada, grace):
    actions.contact_update(ada.id, {"plan": "pro"}, principal=system())
    actions.contact_update(grace.id, {"plan": "team"}, principal=system())

    assert _ids("plan", "equals", "pro") == {ada.id}
    assert _ids("plan", "in", ["pro", "team"]) == {ada.id, grace.id}
    assert _ids("plan", "starts_with", "TE") == {grace.id}


def test_a_custom_number_value_compares_as_a_number(seats_field, ada, grace):
    actions.contact_update(ada.id, {"seats": 9}, principal=system())
    actions.contact_update(grace.id, {"seats": 10}, principal=system())

    assert _ids("seats", "gt", 9) == {grace.id}  # as text, "10" < "9"
    assert _ids("seats", "between", [9, 9.5]) == {ada.id}


def test_a_custom_date_value_filters_by_range(in_acme, ada, grace):
    actions.field_create(alias="renewal", label="Renewal", type="date", principal=system())
    actions.contact_update(ada.id, {"renewal": "2026-03-09"}, principal=system())
    actions.contact_update(grace.id, {"renewal": "2026-11-20"}, principal=system())

    assert _ids("renewal", "lt", "2026-10-01") == {ada.id}


def test_a_custom_value_missing_counts_as_empty(seats_field, ada, grace):
    actions.contact_update(ada.id, {"seats": 3}, principal=system())

    assert _ids("seats", "empty") == {grace.id}
    assert _ids("seats", "not_empty") == {ada.id}


def test_a_custom_boolean_value_filters_by_equality(in_acme, ada, grace):
    actions.field_create(alias="vip", label="VIP", type="boolean", principal=system())
    actions.contact_update(ada.id, {"vip": True}, principal=system())
    actions.contact_update(grace.id, {"vip": False}, principal=system())

    assert _ids("vip", "equals", "yes") == {ada.id}


def test_an_email_filters_by_exact_match_whatever_its_case(ada, grace):
    assert _ids("email", "equals", "ADA@analytical.example") == {ada.id}
    assert _ids("email", "in", ["grace@navy.example", "nobody@none.invalid"]) == {grace.id}


def test_a_phone_filters_by_its_digits(ada, grace):
    actions.contact_update(ada.id, {"phone": "+44 20 7946 0018"}, principal=system())

    assert _ids("phone", "equals", "+44 (20) 7946-0018") == {ada.id}
    assert _ids("phone", "empty") == {grace.id}


def test_names_filter_by_whole_words(ada, grace):
    assert _ids("firstname", "has_words", "quillfeather ADA") == {ada.id}
    assert _ids("lastname", "has_words", "Quill") == set()


def test_a_company_field_builds_a_company_filter(in_acme):
    acme_ltd = actions.company_create({"companyname": "Acme Ltd", "companycity": "Lyon"}, principal=system())
    actions.company_create({"companyname": "Initech", "companycity": "Austin"}, principal=system())

    found = Company.objects.filter(selectors_fields.field_filter("companycity", "equals", "Lyon", object="company"))
    assert [c.id for c in found] == [acme_ltd.id]


def test_contains_on_an_encrypted_email_is_refused_naming_field_and_operator(ada):
    with pytest.raises(ValidationError) as raised:
        selectors_fields.field_filter("email", "contains", "analytical")

    assert raised.value.message_dict == {
        "email": ["contains is not supported on this field (blind_index; supported: empty, equals, in, not_empty)"]
    }


def test_any_filter_on_an_encrypted_field_without_index_is_refused(passport_field):
    with pytest.raises(ValidationError) as raised:
        selectors_fields.field_filter("passport_no", "equals", "X1234567")

    assert "X1234567" not in str(raised.value)
    assert "supported: none" in raised.value.message_dict["passport_no"][0]


def test_a_range_on_a_text_column_is_refused(in_acme):
    with pytest.raises(ValidationError, match="gt is not supported"):
        selectors_fields.field_filter("city", "gt", "M")


def test_a_value_that_does_not_fit_the_type_is_refused_without_repeating_it(seats_field):
    with pytest.raises(ValidationError) as raised:
        selectors_fields.field_filter("seats", "gte", "many-secret-seats")

    assert "many-secret-seats" not in str(raised.value)
    assert "seats" in str(raised.value)


def test_a_value_outside_the_options_is_refused(plan_field):
    with pytest.raises(ValidationError, match="not one of the options"):
        selectors_fields.field_filter("plan", "equals", "platinum")


def test_an_unknown_operator_is_refused(in_acme):
    with pytest.raises(ValidationError, match="unknown operator"):
        selectors_fields.field_filter("city", "sounds_like", "Lima")


def test_an_unknown_field_is_refused(in_acme):
    with pytest.raises(ValidationError, match="unknown field"):
        selectors_fields.field_filter("shoe_size", "equals", 38)


def test_in_needs_a_list(in_acme):
    with pytest.raises(ValidationError, match="in needs a list"):
        selectors_fields.field_filter("city", "in", "London")


def test_a_custom_number_sorts_as_a_number(seats_field, ada, grace):
    actions.contact_update(ada.id, {"seats": 9}, principal=system())
    actions.contact_update(grace.id, {"seats": 10}, principal=system())

    ordered = Contact.objects.order_by(selectors_fields.field_order("seats", descending=True))
    assert [c.id for c in ordered] == [grace.id, ada.id]


def test_an_encrypted_field_cannot_be_sorted(in_acme):
    with pytest.raises(ValidationError, match="cannot be sorted"):
        selectors_fields.field_order("email")
