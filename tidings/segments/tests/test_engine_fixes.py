"""Bugs the oracle found in the filter engine, each pinned by a small test of its own."""

from __future__ import annotations

import datetime

from tidings.segments import actions, selectors
from tidings.segments.compiler import relative_range
from tidings.segments.definition import date_added_capability
from tidings.tests.principals import system

UTC = datetime.UTC


def _contact(values, **kwargs):
    from tidings.contacts.actions import contact_create

    return contact_create(values, principal=system(), **kwargs)


def test_a_segment_with_no_filter_is_created_and_rebuilt_empty(in_acme, ada):
    segment = actions.segment_create(principal=system(), name="Nobody yet", definition={"filters": []})
    result = actions.segment_rebuild(segment.pk, principal=system())
    assert (result.added, result.members) == (0, 0)


def test_an_empty_group_inside_all_makes_the_segment_empty(in_acme, ada):
    definition = {"match": "all", "filters": [
        {"kind": "field", "field": "city", "operator": "equals", "value": "London"},
        {"kind": "group", "match": "any", "filters": []},
    ]}  # fmt: skip
    segment = actions.segment_create(principal=system(), name="Never", definition=definition)
    assert list(selectors.segment_member_ids(segment.pk)) == []
    anyone = {"match": "any", "filters": definition["filters"]}
    actions.segment_update(segment.pk, principal=system(), definition=anyone)
    assert list(selectors.segment_member_ids(segment.pk)) == [ada.pk]


def test_relative_dates_on_instants_count_whole_utc_days():
    cap = date_added_capability()
    now = datetime.datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
    midnight = datetime.datetime(2026, 3, 1, tzinfo=UTC)
    day = datetime.timedelta(days=1)
    assert relative_range(cap, "in_last_days", 7, now) == (midnight - 7 * day, midnight + day)
    assert relative_range(cap, "in_last_days", 0, now) == relative_range(cap, "today", None, now)
    assert relative_range(cap, "more_than_days_ago", 30, now) == (None, midnight - 30 * day)
    assert relative_range(cap, "in_next_days", 2, now) == (midnight, midnight + 3 * day)


def test_a_contact_added_tomorrow_is_not_in_the_last_days(in_acme):
    from tidings.contacts.models import Contact
    from tidings.segments.tests.data import NOW

    tomorrow = _contact({"email": "tomorrow@future.example"})
    earlier_today = _contact({"email": "today@future.example"})
    Contact.objects.filter(pk=tomorrow.pk).update(created_at=NOW + datetime.timedelta(days=1))
    Contact.objects.filter(pk=earlier_today.pk).update(created_at=NOW - datetime.timedelta(minutes=30))
    definition = {"filters": [{"kind": "field", "field": "date_added", "operator": "in_last_days", "value": 7}]}
    checked = selectors.definition_check(definition)
    assert set(selectors.matching_contacts(checked, now=NOW).values_list("id", flat=True)) == {earlier_today.pk}


def test_a_rebuild_counts_the_members_it_added(in_acme, ada, grace):
    definition = {"filters": [{"kind": "field", "field": "email", "operator": "not_empty"}]}
    segment = actions.segment_create(principal=system(), name="Everyone", definition=definition)
    actions.segment_members_remove(segment.pk, [ada.pk, grace.pk], principal=system())
    actions.segment_members_reset(segment.pk, [ada.pk, grace.pk], principal=system())
    from tidings.segments.models import SegmentMembership

    SegmentMembership.objects.filter(segment_id=segment.pk).delete()
    result = actions.segment_rebuild(segment.pk, principal=system())
    assert (result.added, result.removed, result.members) == (2, 0, 2)


def _members(definition, now=None) -> set[int]:
    checked = selectors.definition_check(definition)
    return set(selectors.matching_contacts(checked, now=now).values_list("id", flat=True))


def test_company_negations_are_not_of_any_linked_company(in_acme):
    from tidings.contacts.actions import company_create, company_link

    shop = company_create({"companyname": "Shop", "companyindustry": "Retail"}, principal=system())
    code = company_create({"companyname": "Code"}, principal=system())
    both = _contact({"email": "both@companies.example"})
    coder = _contact({"email": "coder@companies.example"})
    alone = _contact({"email": "alone@companies.example"})
    company_link(both.pk, shop.pk, principal=system())
    company_link(both.pk, code.pk, principal=system())
    company_link(coder.pk, code.pk, principal=system())

    def node(operator, value=None):
        return {"filters": [{"kind": "field", "object": "company", "field": "companyindustry", "operator": operator}
                            | ({} if value is None else {"value": value})]}  # fmt: skip

    assert _members(node("equals", "Retail")) == {both.pk}
    assert _members(node("not_equals", "Retail")) == {coder.pk, alone.pk}
    assert _members(node("not_in", ["Retail"])) == {coder.pk, alone.pk}
    assert _members(node("not_contains", "ret")) == {coder.pk, alone.pk}
    assert _members(node("not_empty")) == {both.pk}
    assert _members(node("empty")) == {coder.pk, alone.pk}


def test_whole_number_fields_refuse_fractions(in_acme):
    from django.core.exceptions import ValidationError

    for operator, value in (("gte", 2.5), ("equals", 1.5), ("in", [1, 2.5]), ("between", [0.5, 3])):
        definition = {"filters": [{"kind": "field", "field": "points", "operator": operator, "value": value}]}
        try:
            selectors.definition_check(definition)
        except ValidationError as error:
            assert "filters.0.value" in error.message_dict
        else:
            raise AssertionError(f"points {operator} a fraction was accepted")
    assert _members({"filters": [{"kind": "field", "field": "points", "operator": "gte", "value": 2.0}]}) == set()


def test_anniversary_without_a_value_is_today(in_acme):
    from tidings.contacts.actions import field_create

    field_create(alias="birthday", label="Birthday", type="date", principal=system())
    leap = _contact({"email": "leap@birthday.example", "birthday": "2000-02-29"})
    eve = _contact({"email": "eve@birthday.example", "birthday": "1990-02-28"})
    march = _contact({"email": "march@birthday.example", "birthday": "1985-03-01"})
    definition = {"filters": [{"kind": "field", "field": "birthday", "operator": "anniversary"}]}
    on = lambda *day: datetime.datetime(*day, 9, tzinfo=UTC)  # noqa: E731
    assert _members(definition, now=on(2026, 3, 1)) == {march.pk}
    assert _members(definition, now=on(2026, 2, 28)) == {eve.pk, leap.pk}  # no February 29th in 2026
    assert _members(definition, now=on(2028, 2, 28)) == {eve.pk}
    assert _members(definition, now=on(2028, 2, 29)) == {leap.pk}
    fixed = {"filters": [{"kind": "field", "field": "birthday", "operator": "anniversary", "value": "02-29"}]}
    assert _members(fixed, now=on(2026, 2, 28)) == {leap.pk}


def test_regular_expressions_that_postgresql_and_python_read_differently_are_refused():
    from django.core.exceptions import ValidationError

    from tidings.contacts.capabilities import check_pattern

    for pattern in ("\\bnew", "o\\B", "[[:alpha:]]", "x{,3}", "end\\Z", "\\Ahead", "[\\D]", "\\y", "trailing\\"):
        try:
            check_pattern(pattern, field="city")
        except ValidationError as error:
            assert pattern not in str(error.message_dict)
        else:
            raise AssertionError(f"{pattern!r} was accepted")
    for pattern in ("^lon", "\\d+", "a\\.b", "[\\d]", "[^]a]", "x{1,3}", "\\w+\\s\\w+", "(paris|london)$"):
        check_pattern(pattern, field="city")


def test_contains_ignores_the_case_of_accented_letters_too(in_acme):
    from tidings.contacts.actions import field_create

    field_create(alias="tier", label="Tier", type="text", principal=system())
    zurich = _contact({"email": "z@city.example", "city": "Zürich", "tier": "Ölig"})
    _contact({"email": "l@city.example", "city": "London", "tier": "gold"})

    def node(field, operator, value):
        return {"filters": [{"kind": "field", "field": field, "operator": operator, "value": value}]}

    for field, operator, value in (("city", "contains", "ZÜR"), ("city", "starts_with", "zü"),
                                   ("city", "ends_with", "ÜRICH"[2:]), ("tier", "contains", "öL"),
                                   ("tier", "starts_with", "ÖLI"), ("tier", "ends_with", "LIG")):  # fmt: skip
        assert _members(node(field, operator, value)) == {zurich.pk}, (field, operator)
    assert zurich.pk not in _members(node("city", "not_contains", "ÜR"))


def test_event_urls_match_whatever_their_case(in_acme):
    from tidings.events.actions import events_record
    from tidings.events.registry import code_for

    pricing = _contact({"email": "p@shop.example"})
    blog = _contact({"email": "b@shop.example"})
    hit = code_for("page.hit")
    events_record([{"type": hit, "contact_id": pricing.pk, "data": {"url": "https://shop.example/Pricing"}},
                   {"type": hit, "contact_id": blog.pk, "data": {"url": "https://shop.example/blog/Über"}}],
                  principal=system())  # fmt: skip

    def visited(**data):
        return _members({"filters": [{"kind": "event", "event": "page.hit", "operator": "has", "data": data}]})

    assert visited(url__contains="PRICING") == {pricing.pk}
    assert visited(url__startswith="HTTPS://SHOP.EXAMPLE/P") == {pricing.pk}
    assert visited(url__contains="über") == {blog.pk}
    assert visited(url__startswith="https://shop.example/BLOG/ÜB") == {blog.pk}
    assert visited(url="https://shop.example/Pricing") == {pricing.pk}
