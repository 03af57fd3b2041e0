"""The hot paths' JSON (orjson) writes what the standard library reads back, and refuses what it refuses."""

import dataclasses
import datetime
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings import fastjson

# What JSON columns and spooled hits hold: nested dicts and lists of text, integers, floats, booleans and null.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)


@given(json_values)
def test_what_is_written_reads_back_as_the_standard_library_writes_it(value):
    assert json.loads(fastjson.dumps(value)) == json.loads(json.dumps(value))
    assert json.loads(fastjson.dumps_bytes(value)) == json.loads(json.dumps(value))


def test_values_orjson_refuses_are_written_by_the_standard_library():
    assert fastjson.dumps(2**70) == str(2**70)
    assert json.loads(fastjson.dumps("\ud800x")) == "\ud800x"  # an unpaired surrogate, escaped
    assert json.loads(fastjson.dumps_bytes({"a": "\udfff"})) == {"a": "\udfff"}
    assert fastjson.dumps({1: "one"}) == '{"1":"one"}'  # non-text keys become text, as json.dumps does


def test_what_json_dumps_refuses_stays_refused():
    @dataclasses.dataclass
    class Point:
        x: int

    for value in (datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC), Point(1), object(), {1.5j: 1}):
        with pytest.raises(TypeError):
            fastjson.dumps(value)
        with pytest.raises(TypeError):
            fastjson.dumps_bytes(value)


def test_compact_and_utf_8():
    assert fastjson.dumps_bytes({"a": [1, "é"]}) == '{"a":[1,"é"]}'.encode()


@pytest.mark.parametrize("text", [b"", b"{", b"[NaN]", b"Infinity", b'"\\ud800"', b"[" * 2000, b"\xff"])
def test_loads_refuses_what_is_not_json_with_a_value_error(text):
    with pytest.raises(ValueError):
        fastjson.loads(text)
