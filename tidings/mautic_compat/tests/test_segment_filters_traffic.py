"""Mautic's UTM and device segment filters to Tidings traffic filters and back; what Tidings does not record is refused.

Mautic reads them as existence tests on the contact's UTM tags and devices (= / in / like: has
one with; != / !in / !like: has none with; empty / !empty: has none / has one). Tidings answers
them from tracking's page hits (their "source|medium|campaign" and "device|os|browser" labels).
"""

import json

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tidings.mautic_compat.segment_filters import PASS_THROUGH, from_mautic, to_mautic
from tidings.mautic_compat.tests.test_segment_filters import ACME, mautic

# Runs on SQLite only (bin/test): nothing here reaches the database engine; conftest.py checks that.
pytestmark = pytest.mark.engine_independent

SECRET = "ada.lovelace@analytical.example"


def traffic(attribute, comparison, value=None, operator="has", **changes):
    node = {"kind": "traffic", "attribute": attribute, "operator": operator, "min_count": 1, "max_count": None,
            "within_days": None, "since": None, "until": None, "comparison": comparison, **changes}  # fmt: skip
    if value is not None:
        node["value"] = value
    return node


def one(item):
    return from_mautic([item], lookup=ACME)["filters"][0]


CASES = [
    (mautic("utm_source", "=", "newsletter"), traffic("utm_source", "equals", "newsletter")),
    (mautic("utm_medium", "!=", "cpc"), traffic("utm_medium", "equals", "cpc", "has_not")),
    (mautic("utm_campaign", "like", "%spring%"), traffic("utm_campaign", "contains", "spring")),
    (mautic("utm_campaign", "like", "spring"), traffic("utm_campaign", "contains", "spring")),
    (mautic("utm_campaign", "like", "spring%"), traffic("utm_campaign", "starts_with", "spring")),
    (mautic("utm_campaign", "like", "50\\%%"), traffic("utm_campaign", "starts_with", "50%")),
    (mautic("utm_source", "contains", "goo"), traffic("utm_source", "contains", "goo")),
    (mautic("utm_source", "startsWith", "goo"), traffic("utm_source", "starts_with", "goo")),
    (mautic("utm_source", "in", ["b", "a", "b"]), traffic("utm_source", "in", ["a", "b"])),
    (mautic("utm_source", "!in", ["a"]), traffic("utm_source", "in", ["a"], "has_not")),
    (mautic("utm_source", "empty"), traffic("utm_source", "not_empty", operator="has_not")),
    (mautic("utm_medium", "!empty"), traffic("utm_medium", "not_empty")),
    (mautic("device_type", "=", "smartphone", type="select"), traffic("device", "equals", "mobile")),
    (mautic("device_type", "in", ["Desktop", "tablet"], type="select"), traffic("device", "in", ["desktop", "tablet"])),
    (mautic("device_type", "!in", ["smartphone"], type="select"), traffic("device", "in", ["mobile"], "has_not")),
    (mautic("device_os", "=", "iOS", type="select"), traffic("os", "equals", "iOS")),
    (mautic("device_os", "in", ["Android", "iOS"], type="select"), traffic("os", "in", ["Android", "iOS"])),
]


@pytest.mark.parametrize(("item", "expected"), CASES, ids=lambda v: json.dumps(v)[:60])
def test_utm_and_device_filters_become_traffic_filters(item, expected):
    assert one(item) == expected


@pytest.mark.parametrize(("item", "_expected"), CASES, ids=lambda v: json.dumps(v)[:60])
def test_round_trip(item, _expected):
    definition = from_mautic([item], lookup=ACME)
    back = to_mautic(definition, lookup=ACME)
    assert back[0]["field"] == item["field"]  # said in Mautic's words, not passed through
    assert from_mautic(back, lookup=ACME) == definition


@pytest.mark.parametrize("name", ["utm_content", "utm_term", "device_brand", "device_model"])
def test_what_tidings_does_not_record_is_refused_naming_the_field(name):
    with pytest.raises(ValidationError) as caught:
        from_mautic([mautic(name, "=", SECRET)], lookup=ACME)
    assert caught.value.message_dict == {
        "filters.0.field": [f"{name} is not recorded by Tidings' tracking: not supported in Tidings"]
    }


@pytest.mark.parametrize(
    "item",
    [
        mautic("device_type", "=", "console", type="select"),
        mautic("device_type", "in", ["desktop", "tv"], type="select"),
        mautic("device_type", "like", "%desk%"),
        mautic("utm_source", "endsWith", "gle"),
        mautic("utm_source", "regexp", "^g"),
        mautic("utm_source", "like", "g_gle"),
        mautic("utm_source", "=", ""),
        mautic("utm_source", "gt", "a"),
    ],
    ids=lambda item: f"{item['field']} {item['operator']} {item['properties']['filter']}",
)
def test_what_a_label_part_cannot_state_is_refused(item):
    with pytest.raises(ValidationError) as caught:
        from_mautic([item], lookup=ACME)
    assert set(caught.value.message_dict) <= {"filters.0.operator", "filters.0.properties.filter"}


@pytest.mark.parametrize(
    "node",
    [
        traffic("utm_source", "equals", "x", min_count=2),
        traffic("utm_source", "equals", "x", within_days=7),
        traffic("utm_source", "contains", "x", "has_not"),
        traffic("browser", "equals", "Firefox"),
        traffic("device", "equals", "MOBILE"),
        traffic("utm_source", "equals", " padded "),
        {"kind": "consent", "purpose": "marketing_email", "operator": "has"},
    ],
    ids=lambda node: json.dumps(node)[:70],
)
def test_what_mautic_cannot_say_passes_through_and_comes_back(node):
    definition = {"match": "all", "filters": [node]}
    (item,) = to_mautic(definition)
    assert item["field"] == PASS_THROUGH
    assert from_mautic([item], lookup=ACME) == definition


def test_contains_with_like_wildcards_is_said_as_an_escaped_pattern():
    definition = {"match": "all", "filters": [traffic("utm_campaign", "contains", "50%_off")]}
    (item,) = to_mautic(definition)
    assert (item["operator"], item["properties"]["filter"]) == ("like", "%50\\%\\_off%")
    assert from_mautic([item], lookup=ACME) == definition


TRAFFIC_FIELDS = st.sampled_from(["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term",
                                  "device_type", "device_os", "device_brand", "device_model"])  # fmt: skip
OPERATORS = st.sampled_from(["=", "!=", "empty", "!empty", "like", "!like", "in", "!in", "regexp", "startsWith",
                             "endsWith", "contains", "gt", "between"])  # fmt: skip
VALUES = (
    st.none()
    | st.integers()
    | st.text(max_size=12)
    | st.lists(st.text(max_size=8), max_size=3)
    | st.sampled_from(["smartphone", "desktop", "%a_b%", "\\", "x|y", ["tablet", "mobile"], " a ", {"0": "a"}])
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=TRAFFIC_FIELDS, operator=OPERATORS, value=VALUES, secret=st.sampled_from([SECRET]))
@example(field="utm_source", operator="=", value=" ", secret=SECRET)  # blank labels were stored once, then refused
@example(field="utm_medium", operator="like", value="% %", secret=SECRET)
@example(field="utm_campaign", operator="in", value=["a", "  "], secret=SECRET)
def test_any_utm_or_device_filter_is_translated_or_refused_without_the_value(field, operator, value, secret):
    for sent in (value, secret):
        try:
            definition = from_mautic([mautic(field, operator, sent)], lookup=ACME)
        except ValidationError as error:
            assert secret not in json.dumps(error.message_dict)
            continue
        again = from_mautic(to_mautic(definition, lookup=ACME), lookup=ACME)
        assert again == definition
