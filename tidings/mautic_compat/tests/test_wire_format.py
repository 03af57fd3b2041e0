"""Mautic's list parameters, request bodies and list envelopes."""

import json

import pytest
from django.http import QueryDict
from django.test import RequestFactory

from tidings.mautic_compat.parsing import Condition, parse_list_params, php_params, request_data
from tidings.mautic_compat.responses import MauticError, list_envelope

# Runs on SQLite only (bin/test): nothing here reaches the database engine; conftest.py checks that.
pytestmark = pytest.mark.engine_independent

COLUMNS = {"id", "email", "firstname", "points", "date_added"}


def _q(query: str) -> QueryDict:
    return QueryDict(query)


def test_list_params_default_as_mautic_does():
    params = parse_list_params(_q(""), columns=COLUMNS)
    assert (params.start, params.limit, params.order_by_dir, params.search) == (0, 30, "ASC", "")
    assert not params.published_only and not params.minimal and params.where == ()


def test_list_params_read_search_paging_order_and_flags():
    params = parse_list_params(
        _q("search=email:ada&start=60&limit=20&orderBy=l.email,points&orderByDir=desc&publishedOnly=1&minimal=true"),
        columns=COLUMNS,
    )
    assert params.search == "email:ada"
    assert (params.start, params.limit) == (60, 20)
    assert params.order_by == ("email", "points")
    assert params.order_by_dir == "DESC"
    assert params.published_only and params.minimal


def test_published_is_read_as_well_as_published_only():
    assert parse_list_params(_q("published=1")).published_only


def test_where_statements_nest_and_carry_lists():
    query = (
        "where[0][col]=points&where[0][expr]=gte&where[0][val]=10"
        "&where[1][expr]=orX"
        "&where[1][val][0][col]=email&where[1][val][0][expr]=like&where[1][val][0][val]=%25@acme.example"
        "&where[1][val][1][col]=id&where[1][val][1][expr]=in&where[1][val][1][val][]=1&where[1][val][1][val][]=2"
        "&where[2][col]=firstname&where[2][expr]=isNull"
    )
    where = parse_list_params(_q(query), columns=COLUMNS).where
    assert where[0] == Condition(expr="gte", col="points", val="10")
    assert where[1].expr == "orX"
    assert where[1].val == (
        Condition(expr="like", col="email", val="%@acme.example"),
        Condition(expr="in", col="id", val=("1", "2")),
    )
    assert where[2] == Condition(expr="isNull", col="firstname", val=None)


def test_internal_where_statements_are_dropped():
    query = "where[0][col]=id&where[0][expr]=eq&where[0][val]=1&where[0][internal]=1"
    assert parse_list_params(_q(query), columns=COLUMNS).where == ()


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("where[0][col]=email&where[0][expr]=regexp&where[0][val]=x", "where[0][expr]"),
        ("where[0][col]=password&where[0][expr]=eq&where[0][val]=x", "where[0][col]"),
        ("orderBy=email;DROP TABLE", "orderBy"),
        ("orderByDir=sideways", "orderByDir"),
        ("limit=500", "limit"),
        ("start=-1", "start"),
        ("limit=ten", "limit"),
    ],
)
def test_bad_list_params_answer_400_naming_the_parameter(query, param):
    with pytest.raises(MauticError) as raised:
        parse_list_params(_q(query), columns=COLUMNS)
    assert raised.value.status == 400
    assert param in raised.value.details


def test_php_bracket_parameters_nest():
    assert php_params(_q("a[b][]=1&a[b][]=2&c=3")) == {"a": {"b": ["1", "2"]}, "c": "3"}


def test_request_bodies_may_be_json_or_form_encoded():
    factory = RequestFactory()
    as_json = factory.post("/api/x", json.dumps({"firstname": "Ada"}), content_type="application/json")
    as_form = factory.post(
        "/api/x", "firstname=Ada&tags[]=a&tags[]=-b", content_type="application/x-www-form-urlencoded"
    )
    patched = factory.patch("/api/x", "firstname=Ada", content_type="application/x-www-form-urlencoded")
    assert request_data(as_json) == {"firstname": "Ada"}
    assert request_data(as_form) == {"firstname": "Ada", "tags": ["a", "-b"]}
    assert request_data(patched) == {"firstname": "Ada"}


def test_a_malformed_json_body_answers_400():
    request = RequestFactory().post("/api/x", "{not json", content_type="application/json")
    with pytest.raises(MauticError) as raised:
        request_data(request)
    assert raised.value.status == 400


def test_list_envelopes_key_results_by_id():
    body = list_envelope("tags", [{"id": 3, "tag": "vip"}, {"id": 5, "tag": "lead"}])
    assert body == {"total": 2, "tags": {"3": {"id": 3, "tag": "vip"}, "5": {"id": 5, "tag": "lead"}}}


def test_empty_lists_are_arrays_except_where_mautic_sends_objects():
    assert list_envelope("tags", []) == {"total": 0, "tags": []}
    assert list_envelope("contacts", [], empty_as_object=True, total_as_string=True) == {"total": 0, "contacts": {}}
    assert list_envelope("contacts", [{"id": 1}], total_as_string=True)["total"] == "1"
