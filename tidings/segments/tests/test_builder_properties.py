"""Property-based tests of the builder and its preview: whatever a browser posts, the answer is never a 5xx.

Hypothesis generates definitions close to real ones (known kinds, fields, operators, with any JSON
values, NaN and huge numbers included) and raw texts, posted to the preview and the builder. The
examples are fixed (derandomize) and few, so CI runs the same bounded set every time.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REQUESTS = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=10),
    st.sampled_from(["2026-13-40", "12-31", "²", "(", "[a-", "1e400", "", "London"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3), max_leaves=5)
FIELDS = st.sampled_from(["city", "email", "firstname", "points", "date_added", "last_active", "country",
                          "companyname", "nope", 7])  # fmt: skip
OPERATORS = st.sampled_from(["equals", "not_equals", "in", "not_in", "gt", "between", "empty", "contains", "regex",
                             "has_words", "anniversary", "today", "in_last_days", "is", "has", "all", "x"])  # fmt: skip
CONDITIONS = st.fixed_dictionaries(
    {"kind": st.sampled_from(["field", "tag", "segment", "dnc", "event", "nope"])},
    optional={
        "object": st.sampled_from(["contact", "company", "user"]),
        "field": FIELDS,
        "operator": OPERATORS,
        "value": VALUES,
        "channel": st.sampled_from(["email", "sms", "pigeon"]),
        "reason": st.sampled_from(["", "bounced", "?"]),
        "event": st.sampled_from(["page.hit", "email.opened", "nope"]),
        "min_count": VALUES,
        "within_days": VALUES,
        "since": VALUES,
        "data": st.dictionaries(st.sampled_from(["url__contains", "email_id", "x__y"]), SCALARS, max_size=2),
    },
)
DEFINITIONS = st.recursive(
    CONDITIONS,
    lambda inner: st.fixed_dictionaries(
        {"filters": st.lists(inner, max_size=3)},
        optional={"kind": st.just("group"), "match": st.sampled_from(["all", "any", "some"])},
    ),
    max_leaves=6,
)
TEXTS = st.one_of(
    DEFINITIONS.map(json.dumps),
    st.text(max_size=30),
    st.sampled_from(["", "null", "[]", "{}", '{"filters": 3}', '{"match": "all", "filters": [1, "x", null]}']),
)


@REQUESTS
@given(text=TEXTS)
def test_the_preview_never_fails(alice_client, ada, text):
    response = alice_client.post("/w/acme/segments/preview/", {"definition": text})

    assert response.status_code == 200


@REQUESTS
@given(text=TEXTS, name=st.text(max_size=20), alias=st.text(max_size=12))
def test_saving_from_the_builder_never_fails(alice_client, ada, text, name, alias):
    response = alice_client.post("/w/acme/segments/new/", {"name": name, "alias": alias, "definition": text})

    assert response.status_code in (302, 400)
