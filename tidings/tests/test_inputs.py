"""tidings.inputs: the strict readers every surface uses for numbers, JSON bodies and text."""

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tidings.inputs import (
    INT64_MAX,
    InvalidInput,
    has_nul,
    is_ascii_digits,
    loads_json,
    parse_bool,
    parse_id,
    parse_int,
)

# Runs on SQLite only (bin/test): nothing here reaches the database engine; conftest.py checks that.
pytestmark = pytest.mark.engine_independent

# Bounded and reproducible: the same examples on every run, well under a second each.
BOUNDED = settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("text", ["²", "٣", "１", "1.0", "1e3", "", " ", "0x10", "1_000", "--1", "true"])
def test_parse_int_refuses_anything_but_ascii_digits(text):
    with pytest.raises(InvalidInput):
        parse_int(text)


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, str(10**20), True, 1.0, None, [], {}])
def test_parse_int_refuses_values_a_64_bit_column_cannot_hold_and_other_types(value):
    with pytest.raises(InvalidInput):
        parse_int(value)


def test_parse_int_reads_signed_ascii_numbers_at_the_edges_of_64_bits():
    assert parse_int(" -9223372036854775808 ") == -(2**63)
    assert parse_int("+9223372036854775807") == INT64_MAX


def test_parse_id_refuses_zero_and_negative_ids():
    with pytest.raises(InvalidInput):
        parse_id("0")
    with pytest.raises(InvalidInput):
        parse_id(-3)


def test_a_unicode_digit_is_not_an_ascii_digit():
    assert "²".isdigit() and not is_ascii_digits("²")
    assert is_ascii_digits("2026")


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000 + "]" * 100_000,  # RecursionError in json.loads
        "[" * 40 + "]" * 40,  # deeper than MAX_JSON_DEPTH without a RecursionError
        '{"points": NaN}',
        '{"points": Infinity}',
        '{"points": -Infinity}',
        '{"points": 1e400}',
        '{"name": "a\\u0000b"}',
        '{"a\\u0000": 1}',
        b'{"name": "\xff"}',
        "{",
    ],
)
def test_loads_json_refuses_what_would_fail_later(raw):
    with pytest.raises(InvalidInput):
        loads_json(raw)


def test_loads_json_reads_an_ordinary_body():
    assert loads_json(b'{"email": "ada@analytical.example", "points": 1.5, "tags": ["a"]}') == {
        "email": "ada@analytical.example",
        "points": 1.5,
        "tags": ["a"],
    }


def test_has_nul_looks_into_keys_and_nested_values():
    assert has_nul({"fields": [{"x": "ok"}, {"y\x00": "ok"}]})
    assert not has_nul({"fields": [{"x": "ok"}]})


@BOUNDED
@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.booleans(), st.none()))
@example("²")
@example(str(2**64))
def test_parse_int_either_returns_a_64_bit_int_or_raises_invalid_input(value):
    try:
        number = parse_int(value)
    except InvalidInput:
        return
    assert isinstance(number, int) and -(2**63) <= number <= INT64_MAX


@BOUNDED
@given(st.text(max_size=200))
@example('{"a": NaN}')
@example("[" * 5000)
def test_loads_json_either_returns_a_document_or_raises_invalid_input(raw):
    try:
        data = loads_json(raw)
    except InvalidInput:
        return
    json.dumps(data, allow_nan=False)  # what it accepts can always be written back out
    assert not has_nul(data)


@pytest.mark.parametrize("value", [True, 1, "1", "true", "TRUE", " yes ", "On"])
def test_parse_bool_reads_the_yes_words_in_any_case(value):
    assert parse_bool(value) is True


@pytest.mark.parametrize("value", [False, 0, "", "0", "false", "no", "off", "y", "maybe", None, "2"])
def test_parse_bool_reads_anything_else_as_no_when_loose(value):
    assert parse_bool(value) is False


@pytest.mark.parametrize(("value", "expected"), [("y", True), ("N", False), ("no", False), (0, False), ("on", True)])
def test_parse_bool_takes_short_words_when_asked(value, expected):
    assert parse_bool(value, strict=True, short_words=True) is expected


@pytest.mark.parametrize("value", ["", "maybe", "2", None, "y", 1.5])
def test_parse_bool_strict_refuses_what_is_neither_yes_nor_no(value):
    with pytest.raises(InvalidInput):
        parse_bool(value, strict=True)


def test_a_boolean_field_still_says_what_is_wrong():
    """contacts' boolean fields read strictly with short words; garbage is a field error, not a 500."""
    from django.core.exceptions import ValidationError

    from tidings.contacts.fields import coerce
    from tidings.contacts.models import FieldType

    assert coerce(FieldType.BOOLEAN, "Y") is True
    with pytest.raises(ValidationError):
        coerce(FieldType.BOOLEAN, "perhaps")
