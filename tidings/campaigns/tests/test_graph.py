"""The graph check: any input becomes a clean graph or errors keyed by path, never an exception of another kind."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.campaigns import graph

pytestmark = pytest.mark.engine_independent


def _errors(raw, **kwargs) -> dict:
    with pytest.raises(ValidationError) as caught:
        graph.check(raw, **kwargs)
    return caught.value.message_dict


def test_a_full_graph_is_returned_clean():
    raw = {
        "sources": [{"kind": "form", "form_id": 2}, {"kind": "manual"}],
        "entry": {"mode": "repeat", "min_gap_seconds": 60},
        "start": 1,
        "steps": [
            {"id": 1, "kind": "delay", "mode": "window", "start_hour": 9, "end_hour": 17, "timezone": "Europe/Paris",
             "next": 2},
            {"id": 2, "kind": "send_email", "email_id": 7, "next": 3},
            {"id": 3, "kind": "decision", "event": "clicked_email", "email_id": 7, "window_seconds": 86400, "yes": 4},
            {"id": 4, "kind": "add_tags", "tags": ["clicked", "clicked"]},
        ],
    }  # fmt: skip
    clean = graph.check(raw)
    assert clean["steps"][3] == {"id": 4, "kind": "add_tags", "tags": ["clicked"], "next": None}
    assert clean["steps"][2]["no"] is None
    assert clean["entry"] == {"mode": "repeat", "min_gap_seconds": 60}


def test_an_unknown_kind_is_named():
    errors = _errors({"start": 1, "steps": [{"id": 1, "kind": "teleport"}]})
    assert list(errors) == ["steps.0.kind"] and "unknown kind" in errors["steps.0.kind"][0]


def test_a_dangling_edge_is_named():
    errors = _errors({"start": 1, "steps": [{"id": 1, "kind": "add_tags", "tags": ["x"], "next": 9}]})
    assert errors == {"steps.0.next": ["leads to a step that does not exist"]}


def test_a_start_that_is_no_step_is_refused():
    assert "start" in _errors({"start": 3, "steps": [{"id": 1, "kind": "exit"}]})


def test_a_loop_without_a_delay_is_refused_and_one_through_a_delay_is_not():
    loop = [{"id": 1, "kind": "add_tags", "tags": ["x"], "next": 2},
            {"id": 2, "kind": "condition", "test": "tag", "tag": "y", "yes": 1, "no": None}]  # fmt: skip
    errors = _errors({"start": 1, "steps": loop})
    assert any("no interval delay" in m for messages in errors.values() for m in messages)
    loop[1]["yes"] = 3
    loop.append({"id": 3, "kind": "delay", "mode": "interval", "seconds": 86400, "next": 1})
    assert graph.check({"start": 1, "steps": loop})["start"] == 1


def test_a_send_email_step_without_an_email_is_named():
    errors = _errors({"start": 1, "steps": [{"id": 1, "kind": "send_email"}]})
    assert errors == {"steps.0.email_id": ["choose the email to send"]}


def test_an_email_segment_or_form_the_workspace_does_not_have_is_named():
    raw = {"sources": [{"kind": "segment", "segment_id": 5}], "start": 1,
           "steps": [{"id": 1, "kind": "send_email", "email_id": 7}]}  # fmt: skip
    errors = _errors(raw, emails=lambda ids: set(), segments=lambda ids: set())
    assert errors == {"sources.0.segment_id": ["a segment of this workspace"],
                      "steps.0.email_id": ["a template email of this workspace"]}  # fmt: skip


def test_duplicate_ids_and_bad_parameters_are_named():
    errors = _errors({"start": 1, "steps": [
        {"id": 1, "kind": "delay", "mode": "until", "until": "tomorrow", "next": 1},
        {"id": 1, "kind": "change_points", "operator": "divide", "delta": 0},
        {"id": 2, "kind": "delay", "mode": "window", "start_hour": 18, "end_hour": 9, "timezone": "Mars/Olympus"},
    ]})  # fmt: skip
    assert {"steps.0.until", "steps.1.id", "steps.1.delta", "steps.2.end_hour", "steps.2.timezone"} <= set(errors)


def test_errors_never_repeat_a_value():
    secret = "ada@analytical.example"
    errors = _errors({"start": 1, "steps": [{"id": 1, "kind": "condition", "test": "field", "field": secret * 9,
                                             "value": {"x": secret}}]})  # fmt: skip
    assert secret not in str(errors)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
step = st.fixed_dictionaries(
    {"id": st.integers(-2, 5), "kind": st.sampled_from([*graph.KINDS, "nope"])},
    optional={name: json_values | st.integers(1, 5) for name in
              ("next", "yes", "no", "email_id", "tags", "segment_id", "mode", "seconds", "event", "window_seconds",
               "test", "field", "operator", "value", "values", "delta", "until", "weekdays", "timezone")},
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(raw=st.fixed_dictionaries({}, optional={"sources": json_values, "entry": json_values,
                                               "start": st.integers(0, 5) | json_values,
                                               "steps": st.lists(step, max_size=6)}) | json_values)  # fmt: skip
def test_any_input_is_a_graph_or_a_validation_error(raw):
    try:
        clean = graph.check(raw)
    except ValidationError as error:
        assert all(isinstance(k, str) for k in error.message_dict)
    else:
        assert graph.check(clean) == clean  # a clean graph stays as it is
