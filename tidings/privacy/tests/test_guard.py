"""The sensitive-data guard: card numbers, IBANs, national ids and health terms."""

import pytest
from django.core.exceptions import ValidationError

from tidings.privacy.guard import (
    FindingKind,
    GuardPolicy,
    SensitiveDataRejected,
    check_values,
    iban_valid,
    luhn_valid,
    scan_text,
)
from tidings.tests.principals import system


def kinds(text):
    return [f.kind for f in scan_text(text)]


def test_a_card_number_with_a_valid_luhn_digit_is_found():
    assert kinds("card 4111 1111 1111 1111 exp 12/29") == [FindingKind.CARD_NUMBER]
    assert kinds("5500-0000-0000-0004") == [FindingKind.CARD_NUMBER]


def test_a_digit_run_failing_luhn_is_not_a_card():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert kinds("order 4111 1111 1111 1112") == []


def test_phone_numbers_and_order_ids_are_not_cards():
    assert kinds("call +44 20 7946 0958 or 555-0100") == []
    assert kinds("invoice 2024-000123-000045") == []


def test_an_iban_with_a_valid_checksum_is_found():
    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert kinds("pay to DE89 3704 0044 0532 0130 00 please") == [FindingKind.IBAN]


def test_an_iban_with_a_wrong_checksum_or_length_is_not():
    assert not iban_valid("GB82 WEST 1234 5698 7654 33")
    assert not iban_valid("DE89 3704 0044 0532 0130")


def test_a_us_social_security_number_is_found_but_never_issued_ones_are_not():
    assert kinds("SSN 123-45-6789") == [FindingKind.NATIONAL_ID]
    assert kinds("000-12-3456 666-12-3456 912-12-3456 123-00-4567") == []
    assert kinds("tracking 123456789") == [], "bare nine-digit runs are too often something else"


def test_health_terms_are_found_as_whole_words():
    assert kinds("Diagnosed with diabetes last year") == [FindingKind.HEALTH, FindingKind.HEALTH]
    assert kinds("cancerous growth of our newsletter; therapeutic") == []


def test_findings_name_the_field_but_never_carry_the_value():
    [finding] = check_values({"notes": "4111111111111111"})
    assert finding.field == "notes" and not hasattr(finding, "value")


def test_the_reject_policy_raises():
    with pytest.raises(SensitiveDataRejected) as raised:
        check_values({"notes": "HIV positive"}, policy=GuardPolicy.REJECT)
    assert isinstance(raised.value, ValidationError)
    assert raised.value.findings[0].kind == FindingKind.HEALTH


def test_a_financial_field_needs_an_acknowledgment(in_acme):
    from tidings.contacts.actions import field_create

    with pytest.raises(ValidationError) as refused:
        field_create(alias="card_holder_ref", label="Card reference", category="user.financial", principal=system())
    assert "category" in refused.value.message_dict
    created = field_create(
        alias="card_holder_ref",
        label="Card reference",
        category="user.financial",
        acknowledge_sensitive=True,
        principal=system(),
    )
    assert created.is_encrypted and created.sensitive_acknowledged_at is not None


def test_a_health_field_needs_an_acknowledgment(in_acme):
    from tidings.contacts.actions import field_create

    with pytest.raises(ValidationError):
        field_create(alias="allergies", label="Allergies", category="user.health_and_medical", principal=system())
