"""Property-based tests of the Mautic-compatible API: whatever a client sends, the answer is never a 5xx.

Hypothesis generates contact bodies (known aliases and properties with any JSON values, NaN
and infinities included), list queries (start, limit, order, search commands, where[]) and
batches, and the parsers are fed raw input. The examples are fixed (derandomize) and few, so CI
runs the same bounded set every time; a failure prints the example that broke.
"""

from __future__ import annotations

import json

import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.mautic_compat.parsing import parse_list_params, php_params
from tidings.mautic_compat.responses import MauticError

REQUESTS = settings(
    max_examples=20,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PARSERS = settings(max_examples=300, derandomize=True, database=None, deadline=None)

NUMBERS = st.one_of(
    st.integers(),
    st.sampled_from(["²", "٣", "99999999999999999999", "-1", "0", "1e400", "1.5", " 7 "]),
)
TEXT = st.one_of(st.text(max_size=12), NUMBERS.map(str))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
CONTACT_KEYS = st.sampled_from(
    ["email", "firstname", "lastname", "points", "owner", "stage", "lastActive", "tags", "doNotContact",
     "companies", "overwriteWithBlank", "country", "city", "phone", "website", "id", "ipAddress"]
)  # fmt: skip
CONTACT_BODIES = st.dictionaries(CONTACT_KEYS | st.text(max_size=6), JSON_VALUES, max_size=5)
SEARCH = st.builds(
    lambda command, value: f"{command}:{value}" if command else value,
    st.sampled_from(["", "ids", "owner", "email", "tag", "is", "company", "domain", "name", "uid", "phone"]),
    TEXT,
)
WHERE_COLUMNS = st.sampled_from(["id", "email", "points", "owner_id", "last_active", "date_identified", "city", "x"])
WHERE_EXPRESSIONS = st.sampled_from(["eq", "neq", "lt", "gte", "in", "like", "isNull", "andX", "orX", "nope"])


def _where(column, expression, value) -> dict:
    return {"where[0][col]": column, "where[0][expr]": expression, "where[0][val]": value}


LIST_QUERIES = st.fixed_dictionaries(
    {},
    optional={
        "start": NUMBERS.map(str),
        "limit": NUMBERS.map(str),
        "search": SEARCH,
        "orderBy": st.sampled_from(["id", "points", "last_active", "email", "x;"]),
        "orderByDir": st.sampled_from(["ASC", "DESC", "up"]),
        "minimal": st.sampled_from(["1", "0", "true"]),
    },
).flatmap(
    lambda query: st.builds(
        lambda where: {**query, **where}, st.builds(_where, WHERE_COLUMNS, WHERE_EXPRESSIONS, TEXT) | st.just({})
    )
)


@pytest.fixture
def mautic(client, alice_bearer, settings):
    """Send requests as alice with a rate limit the examples cannot reach; fail on any 5xx."""
    settings.TIDINGS_API_RATE_LIMIT = 100_000

    def send(method, path, body=None, *, content_type="application/json", **query):
        call = getattr(client, method.lower())
        if body is None:
            response = call(path, query, **alice_bearer)
        else:
            response = call(path, data=body, content_type=content_type, **alice_bearer)
        assert response.status_code < 500, f"{method} {path} {body!r:.300} {query}: {response.content[:300]!r}"
        return response

    return send


@REQUESTS
@given(body=CONTACT_BODIES)
def test_contacts_new_never_answers_a_server_error(mautic, body):
    mautic("POST", "/api/contacts/new", json.dumps(body))


@REQUESTS
@given(body=CONTACT_BODIES, method=st.sampled_from(["PATCH", "PUT"]))
def test_contacts_edit_never_answers_a_server_error(mautic, body, method):
    created = mautic("POST", "/api/contacts/new", json.dumps({"email": "ada@analytical.example"})).json()
    mautic(method, f"/api/contacts/{created['contact']['id']}/edit", json.dumps(body))


@REQUESTS
@given(query=LIST_QUERIES)
def test_contacts_list_never_answers_a_server_error(mautic, query):
    mautic("GET", "/api/contacts", **query)


@REQUESTS
@given(items=st.lists(CONTACT_BODIES | JSON_VALUES, max_size=3), method=st.sampled_from(["new", "edit"]))
def test_contacts_batches_never_answer_a_server_error(mautic, items, method):
    if method == "new":
        mautic("POST", "/api/contacts/batch/new", json.dumps(items))
    else:
        mautic("PATCH", "/api/contacts/batch/edit", json.dumps(items))


@REQUESTS
@given(ids=st.lists(TEXT, max_size=4))
def test_contacts_batch_delete_never_answers_a_server_error(mautic, ids):
    mautic("DELETE", "/api/contacts/batch/delete", ids=",".join(ids))


@REQUESTS
@given(
    body=st.binary(max_size=200),
    content_type=st.sampled_from(
        ["application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", ""]
    ),
)
def test_raw_bodies_never_answer_a_server_error(mautic, body, content_type):
    mautic("POST", "/api/contacts/new", body, content_type=content_type)


@pytest.mark.engine_independent  # pure parsing: SQLite only (bin/test)
@PARSERS
@given(pairs=st.lists(st.tuples(st.text(max_size=20), st.text(max_size=10)), max_size=8))
def test_php_params_reads_any_query_or_raises_a_mautic_error(pairs):
    query = QueryDict(mutable=True)
    for key, value in pairs:
        query.appendlist(key, value)
    try:
        php_params(query)
    except MauticError as error:
        assert error.status == 400


@pytest.mark.engine_independent  # pure parsing: SQLite only (bin/test)
@PARSERS
@given(query=LIST_QUERIES)
def test_parse_list_params_reads_any_list_query_or_raises_a_400(query):
    data = QueryDict(mutable=True)
    for key, value in query.items():
        data[key] = value
    try:
        params = parse_list_params(data, columns={"id", "email", "points", "owner_id", "last_active"})
    except MauticError as error:
        assert error.status == 400
    else:
        assert params.start >= 0 and 1 <= params.limit <= 200
