"""definition_check: clear errors keyed by the filter's path, never repeating a value; nothing but ValidationError."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.segments import selectors
from tidings.segments.definition import MAX_CONDITIONS, MAX_DEPTH

SECRET = "leaky-needle-4711"  # a value that must never come back in a message


def _errors(definition) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        selectors.definition_check(definition)
    errors = caught.value.message_dict
    assert SECRET not in str(errors)
    return errors


def _field(field, operator, value=SECRET, **extra):
    return {"filters": [{"kind": "field", "field": field, "operator": operator, "value": value, **extra}]}


def test_an_unknown_field_is_named_by_its_path(in_acme):
    assert list(_errors(_field(SECRET, "equals"))) == ["filters.0.field"]
    assert list(_errors(_field("city", "equals", object="planet"))) == ["filters.0.object"]


def test_an_operator_the_storage_cannot_serve_is_refused_naming_the_storage(in_acme):
    message = _errors(_field("email", "contains"))["filters.0.operator"][0]
    assert "blind_index" in message and "equals" in message
    assert "tokens" in _errors(_field("firstname", "equals"))["filters.0.operator"][0]
    assert "supported" in _errors(_field("address1", "equals"))["filters.0.operator"][0]
    assert "filters.0.operator" in _errors(_field("points", "contains"))
    assert "filters.0.operator" in _errors(_field("date_added", "equals"))


@pytest.mark.parametrize(
    ("field", "operator", "value"),
    [
        ("points", "equals", SECRET),
        ("points", "gt", [SECRET]),
        ("points", "between", [1]),
        ("points", "in", []),
        ("email", "equals", SECRET),
        ("country", "equals", SECRET),
        ("last_active", "gt", SECRET),
        ("date_added", "in_last_days", SECRET),
        ("date_added", "in_last_days", -1),
        ("date_added", "anniversary", SECRET),
        ("city", "regex", SECRET + "(?=x)"),
        ("city", "regex", SECRET + "[unclosed"),
        ("city", "contains", "x" * 500 + SECRET),
        ("city", "contains", "   "),
        ("firstname", "has_words", "!!!"),
    ],
)
def test_a_value_that_does_not_fit_is_refused_at_its_path(in_acme, field, operator, value):
    errors = _errors(_field(field, operator, value))
    assert list(errors) == ["filters.0.value"]
    assert all(SECRET not in message for message in errors["filters.0.value"])


def test_paths_reach_into_nested_groups(in_acme):
    city = {"kind": "field", "field": "city", "operator": "equals", "value": "London"}
    points = {"kind": "field", "field": "points", "operator": "gt", "value": SECRET}
    tag = {"kind": "tag", "operator": "in", "value": [987654]}
    nested = {"match": "any", "filters": [city, {"kind": "group", "match": "all", "filters": [city, points, points]}]}
    assert set(_errors(nested)) == {"filters.1.filters.1.value", "filters.1.filters.2.value"}
    # Shape and names are checked first: values wait until the filters name what exists.
    nested["filters"][1]["filters"][0] = tag
    assert set(_errors(nested)) == {"filters.1.filters.0.value"}


def test_too_deep_and_too_many_filters_are_refused(in_acme):
    node = {"kind": "field", "field": "city", "operator": "equals", "value": "London"}
    deep: dict = {"filters": [node]}
    for _ in range(MAX_DEPTH):
        deep = {"filters": [{"kind": "group", **deep}]}
    assert "groups nest" in str(_errors(deep))
    many = {"filters": [node] * (MAX_CONDITIONS + 1)}
    assert list(_errors(many)) == ["definition"]
    selectors.definition_check({"filters": [node] * MAX_CONDITIONS})


def test_unknown_tags_and_segments_are_refused(in_acme):
    from tidings.contacts.actions import tag_create
    from tidings.tests.principals import system

    tag = tag_create("known", principal=system())
    assert list(_errors({"filters": [{"kind": "tag", "operator": "in", "value": [tag.pk, 987654]}]})) == [
        "filters.0.value"
    ]
    assert "filters.0.value" in _errors({"filters": [{"kind": "tag", "operator": "in", "value": [SECRET]}]})
    assert "filters.0.operator" in _errors({"filters": [{"kind": "tag", "operator": "near", "value": [tag.pk]}]})
    assert "filters.0.value" in _errors({"filters": [{"kind": "segment", "operator": "in", "value": [987654]}]})
    assert "filters.0.value" in _errors({"filters": [{"kind": "segment", "operator": "in", "value": []}]})


def test_unknown_event_types_and_data_keys_are_refused(in_acme):
    def event(**node):
        return {"filters": [{"kind": "event", "operator": "has", **node}]}

    assert list(_errors(event(event=SECRET))) == ["filters.0.event"]
    assert list(_errors(event(event="segment.added"))) == ["filters.0.event"]  # not a filter of segments
    assert list(_errors(event(event="page.hit", data={"ip": SECRET}))) == ["filters.0.data.ip"]
    assert list(_errors(event(event="page.hit", data={"page__contains": SECRET}))) == ["filters.0.data.page__contains"]
    assert list(_errors(event(event="email.opened", data={"email_id": SECRET}))) == ["filters.0.data.email_id"]
    assert list(_errors(event(event="page.hit", min_count=0))) == ["filters.0.min_count"]
    assert list(_errors(event(event="page.hit", min_count=3, max_count=2))) == ["filters.0.max_count"]
    assert list(_errors(event(event="page.hit", since=SECRET))) == ["filters.0.since"]
    assert list(_errors(event(event="page.hit", within_days=SECRET))) == ["filters.0.within_days"]


def test_dnc_channels_and_reasons_are_checked(in_acme):
    errors = _errors({"filters": [{"kind": "dnc", "operator": "is", "channel": SECRET, "reason": SECRET}]})
    assert set(errors) == {"filters.0.channel", "filters.0.reason"}


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
_KEYS = ["kind", "match", "filters", "field", "object", "operator", "value", "value_sealed", "event", "data",
         "min_count", "max_count", "within_days", "since", "until", "channel", "reason"]  # fmt: skip
_WORDS = ["group", "field", "tag", "segment", "dnc", "event", "all", "any", "company", "contact", "city", "email",
          "points", "date_added", "firstname", "address1", "equals", "in", "not_in", "between", "contains",
          "regex", "anniversary", "in_last_days", "has", "has_not", "page.hit", "email.opened", "url__contains",
          "email_id__gt", "is", "sms", "bounced", "2026-02-30", "1e999", "NaN", "-1", "02-29", "\x00"]  # fmt: skip
_NEAR = st.recursive(
    st.sampled_from(_WORDS) | _JSON,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(_KEYS), children | st.sampled_from(_WORDS), max_size=6)
    ),
    max_leaves=30,
)


@settings(max_examples=120, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(definition=_JSON | _NEAR | st.fixed_dictionaries({"filters": st.lists(_NEAR, max_size=4)}))
def test_any_json_is_checked_or_refused_with_a_validation_error(in_acme, definition):
    try:
        checked = selectors.definition_check(definition)
    except ValidationError as error:
        assert error.message_dict  # keyed by path
        return
    # What checks runs: previewing it raises nothing either.
    selectors.segment_preview(checked)
