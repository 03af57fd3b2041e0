"""Mautic's segment filters to a Tidings definition and back (tidings.mautic_compat.segment_filters).

Payloads are shaped as Mautic 5 stores and answers them (glue, field, object, type, operator,
properties.filter, and the legacy top-level filter/display). The module is pure: a small fake
lookup stands for the workspace.
"""

import json

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.mautic_compat.segment_filters import PASS_THROUGH, from_mautic, to_mautic

# Runs on SQLite only (bin/test): nothing here reaches the database engine; conftest.py checks that.
pytestmark = pytest.mark.engine_independent

SECRET = "ada.lovelace@analytical.example"  # a value that must never come back in an error

CONTACT_FIELDS = {
    "email": "email",
    "firstname": "text",
    "city": "text",
    "score": "number",
    "birthday": "date",
    "renewal": "datetime",
    "vip": "boolean",
}
COMPANY_FIELDS = {"companyname": "text", "companyemployees": "number"}
TAGS = {"3": 3, "4": 4}  # the tag ids Mautic clients send are the ids Tidings' tag API shows, as text
SEGMENTS = {"7": 7, "8": 8}


class Acme:
    """The Acme workspace as the caller's lookup answers it."""

    def field_type(self, object, alias):
        return (CONTACT_FIELDS if object == "contact" else COMPANY_FIELDS).get(alias)

    def tag_id(self, value):
        return TAGS.get(value)

    def segment_id(self, value):
        return SEGMENTS.get(value)


ACME = Acme()


def mautic(field, operator, value=None, *, glue="and", object="lead", type="text", legacy=False):
    """One filter as Mautic's API shows it (legacy: the value in the old top-level "filter" only)."""
    item = {"glue": glue, "field": field, "object": object, "type": type, "operator": operator, "display": None}
    if legacy:
        item["filter"] = value
    else:
        item["properties"] = {"filter": value}
    return item


def event(name, operator="has", **changes):
    node = {
        "kind": "event",
        "event": name,
        "operator": operator,
        "min_count": 1,
        "max_count": None,
        "within_days": None,
        "since": None,
        "until": None,
        "data": {},
    }
    return {**node, **changes}


def field(alias, operator, *value, object="contact"):
    node = {"kind": "field", "object": object, "field": alias, "operator": operator}
    return {**node, "value": value[0]} if value else node


def one(item):
    """Translate a single Mautic filter and return its Tidings node."""
    definition = from_mautic([item], lookup=ACME)
    assert definition["match"] == "all" and len(definition["filters"]) == 1
    return definition["filters"][0]


def errors_of(filters):
    with pytest.raises(ValidationError) as caught:
        from_mautic(filters, lookup=ACME)
    return caught.value.message_dict


# Glue: Mautic's precedence ------------------------------------------------------------------------


A = mautic("city", "=", "Prague")
B = mautic("score", "gt", "10", type="number")
C = mautic("tags", "in", ["3"], type="tags")
D = mautic("vip", "=", "1", type="boolean")
NA, NB, NC, ND = (
    field("city", "equals", "Prague"),
    field("score", "gt", 10),
    {"kind": "tag", "operator": "in", "value": [3]},
    field("vip", "equals", True),
)


def test_and_only_is_one_group():
    assert from_mautic([A, B], lookup=ACME) == {"match": "all", "filters": [NA, NB]}


def test_or_starts_a_new_and_group():
    """Mautic reads a AND b OR c AND d as (a AND b) OR (c AND d), not a AND (b OR c) AND d."""
    filters = [A, B, {**C, "glue": "or"}, D]
    assert from_mautic(filters, lookup=ACME) == {
        "match": "any",
        "filters": [
            {"kind": "group", "match": "all", "filters": [NA, NB]},
            {"kind": "group", "match": "all", "filters": [NC, ND]},
        ],
    }


def test_or_between_single_filters_needs_no_groups():
    filters = [A, {**B, "glue": "or"}, {**C, "glue": "or"}]
    assert from_mautic(filters, lookup=ACME) == {"match": "any", "filters": [NA, NB, NC]}


def test_the_first_filters_glue_is_ignored_as_mautic_does():
    assert from_mautic([{**A, "glue": "or"}, B], lookup=ACME) == {"match": "all", "filters": [NA, NB]}


def test_glue_is_case_insensitive_and_defaults_to_and():
    no_glue = {key: value for key, value in B.items() if key != "glue"}
    assert from_mautic([A, no_glue], lookup=ACME)["match"] == "all"
    assert from_mautic([A, {**B, "glue": "OR"}], lookup=ACME)["match"] == "any"


def test_no_filters_is_an_empty_definition():
    assert from_mautic([], lookup=ACME) == {"match": "all", "filters": []}
    assert from_mautic(None, lookup=ACME) == {"match": "all", "filters": []}


# Fields --------------------------------------------------------------------------------------------

FIELD_CASES = [
    (mautic("city", "=", "Prague"), field("city", "equals", "Prague")),
    (mautic("city", "!=", "Prague"), field("city", "not_equals", "Prague")),
    (mautic("city", "empty"), field("city", "empty")),
    (mautic("city", "!empty"), field("city", "not_empty")),
    (mautic("city", "in", ["Prague", "Brno"]), field("city", "in", ["Prague", "Brno"])),
    (mautic("city", "!in", ["Prague"]), field("city", "not_in", ["Prague"])),
    (mautic("city", "=", ["Prague", "Brno"]), field("city", "in", ["Prague", "Brno"])),  # old segments
    (mautic("city", "like", "Pra"), field("city", "contains", "Pra")),  # Mautic wraps a bare value in %
    (mautic("city", "like", "%Pra%"), field("city", "contains", "Pra")),
    (mautic("city", "like", "Pra%"), field("city", "starts_with", "Pra")),
    (mautic("city", "like", "%gue"), field("city", "ends_with", "gue")),
    (mautic("city", "like", "P%g_e"), field("city", "regex", "^P.*g.e$")),
    (mautic("city", "!like", "%Pra%"), field("city", "not_contains", "Pra")),
    (mautic("city", "!like", "Pra%"), field("city", "not_regex", "^Pra.*$")),
    (mautic("city", "like", "%50\\%%"), field("city", "contains", "50%")),  # an escaped wildcard is text
    (mautic("city", "contains", "ag"), field("city", "contains", "ag")),
    (mautic("city", "startsWith", "Pr"), field("city", "starts_with", "Pr")),
    (mautic("city", "endsWith", "ue"), field("city", "ends_with", "ue")),
    (mautic("city", "regexp", "^Pr(a|o)"), field("city", "regex", "^Pr(a|o)")),
    (mautic("city", "!regexp", "^Pr"), field("city", "not_regex", "^Pr")),
    (mautic("score", "gt", "10", type="number"), field("score", "gt", 10)),
    (mautic("score", "gte", "2.5", type="number"), field("score", "gte", 2.5)),
    (mautic("score", "lt", 3, type="number"), field("score", "lt", 3)),
    (mautic("score", "lte", "3", type="number"), field("score", "lte", 3)),
    (mautic("score", "between", ["1", "5"], type="number"), field("score", "between", [1, 5])),
    (mautic("vip", "=", "1", type="boolean"), field("vip", "equals", True)),
    (mautic("vip", "=", "0", type="boolean"), field("vip", "equals", False)),
    (mautic("birthday", "=", "1990-04-01", type="date"), field("birthday", "equals", "1990-04-01")),
    (mautic("birthday", "gt", "2020-01-01", type="date"), field("birthday", "gt", "2020-01-01")),
    (mautic("companyname", "=", "Acme", object="company"), field("companyname", "equals", "Acme", object="company")),
    (mautic("owner_id", "=", "5", type="lookup_id"), field("owner", "equals", 5)),
    (mautic("owner_id", "empty", type="lookup_id"), field("owner", "empty")),
    (mautic("stage", "=", "2", type="stage"), field("stage", "equals", 2)),
    (mautic("stage", "!=", "2", type="stage"), field("stage", "not_equals", 2)),
    (mautic("points", "gte", "50", type="number"), field("points", "gte", 50)),
    (mautic("date_added", "lt", "2024-01-01", type="date"), field("date_added", "lt", "2024-01-01")),
    (
        mautic("renewal", "=", "2024-05-01", type="datetime"),
        field("renewal", "between", ["2024-05-01T00:00:00", "2024-05-01T23:59:59"]),
    ),
    (
        mautic("last_active", "gt", "2024-01-01 10:00:00", type="datetime"),
        field("last_active", "gt", "2024-01-01 10:00:00"),
    ),
]


@pytest.mark.parametrize(("item", "expected"), FIELD_CASES, ids=lambda case: json.dumps(case)[:60])
def test_field_filters(item, expected):
    assert one(item) == expected


def test_the_legacy_top_level_filter_key_is_read():
    assert one(mautic("city", "=", "Prague", legacy=True)) == field("city", "equals", "Prague")


def test_the_api_docs_examples():
    """The shapes Mautic's API documentation shows: no object (contact by default), the value in "filter"."""
    get_answer = {"glue": "and", "field": "city", "type": "text", "filter": "Prague", "display": None, "operator": "="}
    new_body = {
        "glue": "and",
        "field": "email",
        "object": "lead",
        "type": "email",
        "filter": "*@gmail.com",
        "operator": "like",
    }
    assert from_mautic([get_answer, new_body], lookup=ACME) == {
        "match": "all",
        "filters": [field("city", "equals", "Prague"), field("email", "contains", "*@gmail.com")],
    }


def test_properties_filter_wins_over_the_legacy_key():
    item = {**mautic("city", "=", "Prague"), "filter": "Brno"}
    assert one(item) == field("city", "equals", "Prague")


def test_not_between_leaves_out_contacts_without_a_value():
    assert one(mautic("score", "!between", ["1", "5"], type="number")) == {
        "kind": "group",
        "match": "any",
        "filters": [field("score", "lt", 1), field("score", "gt", 5)],
    }


RELATIVE_CASES = [
    (mautic("date_added", "=", "today", type="date"), field("date_added", "today")),
    (mautic("date_added", "=", "yesterday", type="date"), field("date_added", "yesterday")),
    (mautic("date_added", "gt", "-7 days", type="date"), field("date_added", "in_last_days", 7)),
    (mautic("date_added", "gte", "-2 weeks", type="date"), field("date_added", "in_last_days", 14)),
    (mautic("last_active", "lt", "-30 days", type="datetime"), field("last_active", "more_than_days_ago", 30)),
    (mautic("last_active", "lte", "30 days ago", type="datetime"), field("last_active", "more_than_days_ago", 30)),
    (mautic("birthday", "=", "anniversary", type="date"), field("birthday", "anniversary")),
    (mautic("birthday", "=", "birthday", type="date"), field("birthday", "anniversary")),
]


@pytest.mark.parametrize(("item", "expected"), RELATIVE_CASES, ids=lambda case: json.dumps(case)[:60])
def test_relative_dates(item, expected):
    assert one(item) == expected


@pytest.mark.parametrize(
    ("operator", "value"),
    [
        ("=", "this month"),
        ("gt", "last week"),
        ("=", "tomorrow"),
        ("!=", "today"),
        ("gt", "today"),
        ("=", "-7 days"),
        ("gt", "+7 days"),
        ("gt", "-1 month"),
        ("gt", "first day of next month"),
    ],
)
def test_relative_dates_tidings_cannot_state_are_refused(operator, value):
    errors = errors_of([mautic("date_added", operator, value, type="date")])
    assert set(errors) <= {"filters.0.operator", "filters.0.properties.filter"}
    assert "not supported" in " ".join(sum(errors.values(), []))


# Special filters -----------------------------------------------------------------------------------


SPECIAL_CASES = [
    (mautic("tags", "in", ["3", "4"], type="tags"), {"kind": "tag", "operator": "in", "value": [3, 4]}),
    (mautic("tags", "!in", ["4"], type="tags"), {"kind": "tag", "operator": "not_in", "value": [4]}),
    (mautic("leadlist", "in", ["7"], type="leadlist"), {"kind": "segment", "operator": "in", "value": [7]}),
    (
        mautic("leadlist", "!in", ["7", "8"], type="leadlist"),
        {"kind": "segment", "operator": "not_in", "value": [7, 8]},
    ),
    (
        mautic("dnc_bounced", "=", "1", type="boolean"),
        {"kind": "dnc", "operator": "is", "channel": "email", "reason": "bounced"},
    ),
    (
        mautic("dnc_unsubscribed", "=", "0", type="boolean"),
        {"kind": "dnc", "operator": "is_not", "channel": "email", "reason": "unsubscribed"},
    ),
    (
        mautic("dnc_unsubscribed", "!=", "0", type="boolean"),
        {"kind": "dnc", "operator": "is", "channel": "email", "reason": "unsubscribed"},
    ),
    (
        mautic("dnc_manual_email", "=", "1", type="boolean"),
        {"kind": "dnc", "operator": "is", "channel": "email", "reason": "manual"},
    ),
    (
        mautic("dnc_bounced_sms", "!=", "1", type="boolean"),
        {"kind": "dnc", "operator": "is_not", "channel": "sms", "reason": "bounced"},
    ),
    (
        mautic("dnc_unsubscribed_sms", "=", "1", type="boolean"),
        {"kind": "dnc", "operator": "is", "channel": "sms", "reason": "unsubscribed"},
    ),
    (
        mautic("dnc_manual_sms", "=", "1", type="boolean"),
        {"kind": "dnc", "operator": "is", "channel": "sms", "reason": "manual"},
    ),
    (
        mautic("hit_url", "=", "https://acme.example/pricing"),
        event("page.hit", data={"url": "https://acme.example/pricing"}),
    ),
    (
        mautic("hit_url", "!=", "https://acme.example/pricing"),
        event("page.hit", "has_not", data={"url": "https://acme.example/pricing"}),
    ),
    (mautic("hit_url", "like", "%pricing%"), event("page.hit", data={"url__contains": "pricing"})),
    (mautic("hit_url", "contains", "pricing"), event("page.hit", data={"url__contains": "pricing"})),
    (mautic("hit_url", "!like", "pricing"), event("page.hit", "has_not", data={"url__contains": "pricing"})),
    (
        mautic("hit_url", "startsWith", "https://acme.example/"),
        event("page.hit", data={"url__startswith": "https://acme.example/"}),
    ),
    (mautic("hit_url", "empty"), event("page.hit", "has_not")),
    (mautic("hit_url_count", "gte", "3", type="number"), event("page.hit", min_count=3)),
    (mautic("hit_url_count", "gt", "3", type="number"), event("page.hit", min_count=4)),
    (mautic("hit_url_count", "=", "2", type="number"), event("page.hit", min_count=2, max_count=2)),
    (mautic("hit_url_count", "=", "0", type="number"), event("page.hit", "has_not")),
    (mautic("hit_url_count", "lt", "3", type="number"), event("page.hit", "has_not", min_count=3)),
    (mautic("hit_url_count", "lte", "3", type="number"), event("page.hit", "has_not", min_count=4)),
    (mautic("hit_url_date", "gt", "-7 days", type="datetime"), event("page.hit", within_days=7)),
    (mautic("hit_url_date", "gte", "2024-03-01", type="datetime"), event("page.hit", since="2024-03-01")),
    (mautic("hit_url_date", "lt", "2024-03-01", type="datetime"), event("page.hit", until="2024-03-01")),
    (
        mautic("hit_url_date", "=", "2024-03-01", type="datetime"),
        event("page.hit", since="2024-03-01T00:00:00", until="2024-03-01T23:59:59"),
    ),
    (
        mautic("hit_url_date", "!=", "2024-03-01", type="datetime"),
        event("page.hit", "has_not", since="2024-03-01T00:00:00", until="2024-03-01T23:59:59"),
    ),
    (
        mautic("lead_email_received", "in", ["12"], type="lead_email_received"),
        event("email.opened", data={"email_id": 12}),
    ),
    (
        mautic("lead_email_received", "in", ["12", "13"], type="lead_email_received"),
        {
            "kind": "group",
            "match": "any",
            "filters": [event("email.opened", data={"email_id": 12}), event("email.opened", data={"email_id": 13})],
        },
    ),
    (
        mautic("lead_email_received", "!in", ["12", "13"], type="lead_email_received"),
        {
            "kind": "group",
            "match": "all",
            "filters": [
                event("email.opened", "has_not", data={"email_id": 12}),
                event("email.opened", "has_not", data={"email_id": 13}),
            ],
        },
    ),
    (
        mautic("lead_email_sent", "in", ["12"], type="lead_email_received"),
        event("email.sent", data={"email_id": 12}),
    ),
    (mautic("lead_email_read_count", "gte", "2", type="number"), event("email.opened", min_count=2)),
    (mautic("lead_email_read_date", "gt", "-30 days", type="datetime"), event("email.opened", within_days=30)),
    (mautic("lead_email_sent_date", "gte", "2024-01-01", type="datetime"), event("email.sent", since="2024-01-01")),
    (mautic("email_id", "=", "1", type="boolean"), event("email.clicked")),
    (mautic("email_id", "=", "0", type="boolean"), event("email.clicked", "has_not")),
    (mautic("email_clicked_link_date", "gt", "-7 days", type="datetime"), event("email.clicked", within_days=7)),
    (mautic("lead_asset_download", "in", ["4"], type="assets"), event("asset.download", data={"asset_id": 4})),
    (mautic("lead_asset_download", "!empty", type="assets"), event("asset.download")),
]


@pytest.mark.parametrize(("item", "expected"), SPECIAL_CASES, ids=lambda case: json.dumps(case)[:70])
def test_special_filters(item, expected):
    assert one(item) == expected


def test_behaviour_filters_may_say_object_behaviors():
    item = mautic("hit_url", "contains", "pricing", object="behaviors")
    assert one(item) == event("page.hit", data={"url__contains": "pricing"})


@pytest.mark.parametrize(
    "name",
    [
        "globalcategory", "source", "referer", "sessions", "page_id", "redirect_id", "notification",
        "sms_clicked_link", "date_modified",
    ],
)  # fmt: skip
def test_filters_tidings_has_no_data_for_are_not_supported(name):
    assert errors_of([A, mautic(name, "=", "1")]) == {
        "filters.1.field": ["this Mautic filter is not supported in Tidings"]
    }


@pytest.mark.parametrize(
    "item",
    [
        mautic("hit_url", "endsWith", "/pricing"),
        mautic("hit_url", "regexp", "pricing$"),
        mautic("hit_url", "!regexp", "pricing$"),
        mautic("tags", "empty", type="tags"),
        mautic("leadlist", "gt", "7", type="leadlist"),
        mautic("hit_url_date", "=", "today", type="datetime"),
        mautic("hit_url_date", "lt", "-7 days", type="datetime"),
        mautic("lead_email_read_count", "!=", "2", type="number"),
    ],
    ids=lambda item: f"{item['field']} {item['operator']}",
)
def test_operators_tidings_cannot_state_on_behaviour_filters_are_refused(item):
    errors = errors_of([item])
    assert set(errors) <= {"filters.0.operator", "filters.0.properties.filter"}
    assert "not supported" in " ".join(sum(errors.values(), []))


# Errors --------------------------------------------------------------------------------------------


def test_errors_are_keyed_by_position_and_all_reported():
    errors = errors_of([A, mautic("nosuchfield", "=", SECRET), mautic("city", "like~", SECRET), {**B, "glue": "xor"}])
    assert errors == {
        "filters.1.field": ["unknown contact field"],
        "filters.2.operator": ["unknown operator"],
        "filters.3.glue": ["glue is and or or"],
    }


def test_unknown_company_field():
    assert errors_of([mautic("nosuch", "=", "x", object="company")]) == {"filters.0.field": ["unknown company field"]}


def test_unknown_tag_and_segment_never_echo_the_value():
    errors = errors_of([mautic("tags", "in", [SECRET], type="tags"), mautic("leadlist", "in", ["99"], type="leadlist")])
    assert errors == {
        "filters.0.properties.filter": ["unknown tag"],
        "filters.1.properties.filter": ["unknown segment"],
    }


@pytest.mark.parametrize(
    "item",
    [
        mautic("score", "gt", SECRET, type="number"),
        mautic("score", "gt", "1e400", type="number"),
        mautic("score", "gt", "\u0661\u0662", type="number"),  # digits of another script
        mautic("vip", "=", SECRET, type="boolean"),
        mautic("birthday", "gt", SECRET, type="date"),
        mautic("city", "=", {"email": SECRET}),
        mautic("city", "between", [SECRET]),
        mautic("hit_url_count", "gt", SECRET, type="number"),
        mautic("lead_email_received", "in", [SECRET], type="lead_email_received"),
        mautic("dnc_bounced", "=", SECRET, type="boolean"),
        mautic("hit_url", "like", f"%{SECRET}_x%"),
    ],
    ids=lambda item: f"{item['field']} {item['operator']}",
)
def test_wrong_values_are_refused_without_the_value(item):
    errors = errors_of([item])
    assert list(errors) == ["filters.0.properties.filter"]
    assert SECRET not in json.dumps(errors)


def test_more_filters_than_a_segment_holds():
    assert errors_of([A] * 101) == {"filters": ["at most 100 filters in a segment"]}


@pytest.mark.parametrize("filters", [{}, "city", 3, [None], ["city"], [[A]]])
def test_malformed_lists(filters):
    errors_of(filters)


# to_mautic and round trips ------------------------------------------------------------------------


def test_to_mautic_shape_has_the_legacy_keys():
    [item] = to_mautic({"match": "all", "filters": [NA]})
    assert item == {
        "glue": "and",
        "field": "city",
        "object": "lead",
        "type": "text",
        "operator": "=",
        "properties": {"filter": "Prague"},
        "filter": "Prague",
        "display": None,
    }


def test_to_mautic_uses_the_lookup_for_field_types():
    [item] = to_mautic({"match": "all", "filters": [field("birthday", "gt", "2020-01-01")]}, lookup=ACME)
    assert item["type"] == "date"


ROUND_TRIP = [case for case, _ in FIELD_CASES + RELATIVE_CASES + SPECIAL_CASES] + [
    mautic("score", "!between", ["1", "5"], type="number"),
]


@pytest.mark.parametrize("item", ROUND_TRIP, ids=lambda item: json.dumps(item)[:70])
def test_round_trip_single_filters(item):
    """to_mautic(from_mautic(x)) means what x means: reading it back gives the same definition."""
    definition = from_mautic([item], lookup=ACME)
    assert from_mautic(to_mautic(definition, lookup=ACME), lookup=ACME) == definition


def test_round_trip_keeps_the_mautic_shape_of_canonical_filters():
    filters = [
        mautic("city", "=", "Prague"),
        mautic("tags", "in", ["3", "4"], type="tags"),
        mautic("lead_email_received", "in", ["12", "13"], type="lead_email_received", glue="or"),
        mautic("date_added", "gte", "-7 days", type="date"),
        mautic("hit_url_count", "lt", 3, type="number"),
    ]
    assert to_mautic(from_mautic(filters, lookup=ACME), lookup=ACME) == [
        {**item, "filter": item["properties"]["filter"]} for item in filters
    ]


def test_an_or_inside_an_and_is_expanded():
    """a AND (b OR c) is (a AND b) OR (a AND c) in Mautic's one-level form."""
    definition = {"match": "all", "filters": [NA, {"kind": "group", "match": "any", "filters": [NB, NC]}]}
    items = to_mautic(definition)
    assert [(item["glue"], item["field"]) for item in items] == [
        ("and", "city"),
        ("and", "score"),
        ("or", "city"),
        ("and", "tags"),
    ]
    assert from_mautic(items, lookup=ACME) == {
        "match": "any",
        "filters": [
            {"kind": "group", "match": "all", "filters": [NA, NB]},
            {"kind": "group", "match": "all", "filters": [NA, NC]},
        ],
    }


def test_a_group_too_large_to_expand_passes_through_whole():
    pairs = [
        {"kind": "group", "match": "any", "filters": [field("score", "equals", n), field("score", "equals", -n)]}
        for n in range(1, 9)
    ]
    definition = {"match": "all", "filters": pairs}  # 2**8 AND-groups once expanded
    items = to_mautic(definition)
    assert len(items) == 1 and items[0]["field"] == PASS_THROUGH
    assert from_mautic(items, lookup=ACME) == {
        "match": "all",
        "filters": [{"kind": "group", "match": "all", "filters": pairs}],
    }


@pytest.mark.parametrize(
    "node",
    [
        {"kind": "dnc", "operator": "is", "channel": "email", "reason": ""},
        {"kind": "dnc", "operator": "is", "channel": "push", "reason": "manual"},
        event("form.submitted", data={"form_id": 3}),
        event("page.hit", within_days=7, data={"url__contains": "pricing"}),
        field("firstname", "has_words", "Ada"),
        field("renewal", "in_next_days", 30),
    ],
    ids=lambda node: json.dumps(node)[:60],
)
def test_what_mautic_cannot_say_passes_through_and_comes_back(node):
    items = to_mautic({"match": "all", "filters": [NA, node]})
    assert items[1]["field"] == PASS_THROUGH and items[1]["properties"]["filter"] == node
    assert from_mautic(items, lookup=ACME) == {"match": "all", "filters": [NA, node]}


def test_a_pass_through_item_cannot_carry_a_sealed_value():
    node = {**field("email", "equals", "x"), "value_sealed": "v1:forged"}
    item = mautic(PASS_THROUGH, "=", node, object="tidings", type="tidings")
    assert list(errors_of([item])) == ["filters.0.properties.filter"]


def test_tag_all_is_one_mautic_filter_per_tag():
    items = to_mautic({"match": "all", "filters": [{"kind": "tag", "operator": "all", "value": [3, 4]}]})
    assert [(item["operator"], item["filter"]) for item in items] == [("in", ["3"]), ("in", ["4"])]


def test_to_mautic_of_an_empty_definition():
    assert to_mautic({"match": "all", "filters": []}) == []
    assert to_mautic(None) == []


# Properties ---------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [*CONTACT_FIELDS, *COMPANY_FIELDS, "tags", "leadlist", "hit_url", "hit_url_date", "hit_url_count", "owner_id",
     "stage", "points", "date_added", "last_active", "dnc_bounced", "email_id", "lead_email_received",
     "lead_email_read_count", "lead_asset_download", "campaign", PASS_THROUGH, "nosuch"]
)  # fmt: skip
OPERATOR_TEXT = st.sampled_from(
    ["=", "!=", "gt", "gte", "lt", "lte", "empty", "!empty", "like", "!like", "between", "!between", "in", "!in",
     "regexp", "!regexp", "startsWith", "endsWith", "contains", "date", "=="]
)  # fmt: skip
VALUES = JSON_VALUES | st.sampled_from(
    ["today", "yesterday", "-7 days", "7 days ago", "+3 days", "anniversary", "last week", "2024-02-30",
     "2024-01-01", "%a_b%", "\\", "1e400", "nan", "99999999999999999999999", ["3", "4"], ["1", "5"]]
)  # fmt: skip
MAUTIC_FILTERS = st.lists(
    st.fixed_dictionaries(
        {
            "glue": st.sampled_from(["and", "or", "AND", None, 3]),
            "field": FIELDS | JSON_VALUES,
            "object": st.sampled_from(["lead", "company", "behaviors", "tidings", None]),
            "type": st.sampled_from(["text", "number", "date", "datetime", "boolean", None]),
            "operator": OPERATOR_TEXT | JSON_VALUES,
            "properties": st.fixed_dictionaries({"filter": VALUES}) | JSON_VALUES,
            "filter": VALUES,
        }
    ),
    max_size=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(filters=MAUTIC_FILTERS | JSON_VALUES)
def test_any_json_is_translated_or_refused_with_a_validation_error(filters):
    try:
        definition = from_mautic(filters, lookup=ACME)
    except ValidationError:
        return
    # What was accepted turns back into Mautic's shape, and reading that again changes nothing.
    again = from_mautic(to_mautic(definition, lookup=ACME), lookup=ACME)
    assert from_mautic(to_mautic(again, lookup=ACME), lookup=ACME) == again


@settings(max_examples=200, deadline=None)
@given(secret=st.text(min_size=4, max_size=30).map(lambda text: f"@{text}@"), name=FIELDS, operator=OPERATOR_TEXT)
def test_errors_never_repeat_the_filter_value(secret, name, operator):
    for value in (secret, [secret], {"0": secret}, f"%{secret}%", ["1", secret]):
        try:
            from_mautic([mautic(name, operator, value)], lookup=ACME)
        except ValidationError as error:
            assert secret not in json.dumps(error.message_dict, ensure_ascii=False)


NODES = st.recursive(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["field", "tag", "segment", "dnc", "event"]),
            "object": st.sampled_from(["contact", "company", 3]),
            "field": st.sampled_from(["city", "owner", "date_added", None]),
            "event": st.sampled_from(["page.hit", "email.opened", "email.sent", "email.clicked", "asset.download", 1]),
            "operator": st.sampled_from(
                ["equals", "in", "not_in", "all", "has", "has_not", "is", "contains", "lt", "gt", "in_last_days", None]
            ),
            "value": JSON_VALUES,
            "channel": st.sampled_from(["email", "sms", None]),
            "reason": st.sampled_from(["bounced", "", None]),
            "min_count": JSON_VALUES,
            "max_count": JSON_VALUES,
            "within_days": JSON_VALUES,
            "since": st.sampled_from([None, "2024-01-01T00:00:00", "2024-01-01", 5]),
            "until": st.sampled_from([None, "2024-01-01T23:59:59", "x"]),
            "data": st.dictionaries(st.sampled_from(["url", "url__contains", "email_id", "asset_id"]), JSON_VALUES),
        }
    ),
    lambda children: st.fixed_dictionaries(
        {
            "kind": st.just("group"),
            "match": st.sampled_from(["all", "any", None]),
            "filters": st.lists(children, max_size=4),
        }
    ),
    max_leaves=10,
)


@settings(max_examples=100, deadline=None)
@given(
    definition=JSON_VALUES
    | st.fixed_dictionaries(
        {"match": st.sampled_from(["all", "any"]), "filters": st.lists(NODES | JSON_VALUES, max_size=5)}
    )
)
def test_to_mautic_answers_any_json_without_raising(definition):
    assert isinstance(to_mautic(definition), list)
