"""The graph check of the decisions on downloads and unsubscriptions and the conditions on points, device and time:
clean steps, errors keyed by path, and any input a graph or a ValidationError."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.campaigns import graph

pytestmark = pytest.mark.engine_independent


def _one(step: dict, **kwargs) -> dict:
    return graph.check({"start": 1, "steps": [{"id": 1, **step}]}, **kwargs)["steps"][0]


def _errors(step: dict, **kwargs) -> dict:
    with pytest.raises(ValidationError) as caught:
        graph.check({"start": 1, "steps": [{"id": 1, **step}]}, **kwargs)
    return caught.value.message_dict


def test_new_decisions_and_conditions_come_back_clean():
    assert _one({"kind": "decision", "event": "downloaded_asset", "asset_id": 3, "window_seconds": 600}) == {
        "id": 1, "kind": "decision", "event": "downloaded_asset", "asset_id": 3, "window_seconds": 600, "yes": None,
        "no": None}  # fmt: skip
    assert _one({"kind": "decision", "event": "unsubscribed", "window_seconds": 600})["email_id"] is None
    assert _one({"kind": "condition", "test": "points", "operator": "between", "value": 1, "value_to": 9}) == {
        "id": 1, "kind": "condition", "test": "points", "operator": "between", "value": 1, "value_to": 9, "yes": None,
        "no": None}  # fmt: skip
    assert _one({"kind": "condition", "test": "device", "os": "iOS"})["device"] is None
    time = _one({"kind": "condition", "test": "time", "weekdays": [5, 6, 5], "timezone": "Asia/Tokyo"})
    assert (time["start_hour"], time["end_hour"], time["weekdays"], time["timezone"]) == (9, 17, [5, 6], "Asia/Tokyo")


@pytest.mark.parametrize(("step", "errors"), [
    ({"kind": "decision", "event": "replied", "window_seconds": 600}, {"steps.0.event"}),
    ({"kind": "decision", "event": "downloaded_asset", "asset_id": "x", "window_seconds": 600}, {"steps.0.asset_id"}),
    ({"kind": "condition", "test": "points", "operator": ">", "value": 1}, {"steps.0.operator"}),
    ({"kind": "condition", "test": "points", "operator": "gte"}, {"steps.0.value"}),
    ({"kind": "condition", "test": "points", "operator": "between", "value": 9, "value_to": 1}, {"steps.0.value_to"}),
    ({"kind": "condition", "test": "device"}, {"steps.0.device"}),
    ({"kind": "condition", "test": "device", "device": "watch"}, {"steps.0.device"}),
    ({"kind": "condition", "test": "device", "os": "x" * 33}, {"steps.0.os"}),
    ({"kind": "condition", "test": "time", "start_hour": 17, "end_hour": 9}, {"steps.0.end_hour"}),
    ({"kind": "condition", "test": "time", "weekdays": [7]}, {"steps.0.weekdays"}),
    ({"kind": "condition", "test": "time", "timezone": "Mars/Olympus"}, {"steps.0.timezone"}),
])  # fmt: skip
def test_bad_parameters_are_named_by_path(step, errors):
    assert set(_errors(step)) == errors


def test_an_asset_the_workspace_does_not_have_is_named():
    step = {"kind": "decision", "event": "downloaded_asset", "asset_id": 3, "window_seconds": 600}
    assert _errors(step, assets=lambda ids: set()) == {"steps.0.asset_id": ["an asset of this workspace"]}
    assert _one(step, assets=lambda ids: set(ids))["asset_id"] == 3


def test_errors_never_repeat_a_value():
    secret = "ada@analytical.example"
    assert secret not in str(_errors({"kind": "condition", "test": "device", "os": secret * 2, "device": secret}))


values = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.text(max_size=40)
    | st.lists(st.integers(-1, 8), max_size=8)
)
new_step = st.fixed_dictionaries(
    {"id": st.just(1), "kind": st.sampled_from(["decision", "condition"])},
    optional={
        "event": st.sampled_from(["downloaded_asset", "unsubscribed", "replied"]),
        "test": st.sampled_from(["points", "device", "time"]),
        "operator": st.sampled_from([*graph.POINTS_TESTS, "gt"]) | values,
        **{name: values for name in ("asset_id", "email_id", "window_seconds", "value", "value_to", "device", "os",
                                     "start_hour", "end_hour", "weekdays", "timezone")},
    },
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(step=new_step)
def test_any_new_step_is_a_graph_or_a_validation_error(step):
    try:
        clean = graph.check({"start": 1, "steps": [step]})
    except ValidationError as error:
        assert all(isinstance(k, str) and k.startswith("steps.0") for k in error.message_dict)
    else:
        assert graph.check(clean) == clean  # a clean graph stays as it is
