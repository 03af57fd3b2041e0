"""Traffic (UTM and device) and consent filters: the SQL against the oracle, their checks, and the refresh.

The generated workspace (tidings.segments.tests.data) holds page hits with labels as tracking
writes them and consent decisions over time, some by devices identified as the contact. Each
filter is compared with the plain-Python evaluation on the whole workspace (a rebuild) and
restricted to some contacts (the incremental refresh reads only theirs).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tidings.contacts.actions import contact_create
from tidings.contacts.conditions import contacts_where
from tidings.events.actions import events_record, visitor_create, visitor_identify
from tidings.events.registry import code_for
from tidings.events.selectors import label_part_pattern
from tidings.segments import actions, selectors
from tidings.segments.selectors import condition_of, definition_check
from tidings.segments.tests.data import NOW
from tidings.segments.tests.oracle import Oracle
from tidings.tests.principals import system

SECRET = "leaky-needle-4711"

TRAFFIC = [
    ("utm_source", "equals", "google"),
    ("utm_source", "equals", "GOOGLE"),
    ("utm_source", "starts_with", "google"),
    ("utm_source", "contains", "%"),
    ("utm_source", "equals", "bäckerei"),
    ("utm_source", "in", ["news", "newsletter"]),
    ("utm_source", "not_empty", None),
    ("utm_medium", "equals", "email"),
    ("utm_medium", "equals", "_x_"),
    ("utm_medium", "contains", "_"),
    ("utm_medium", "contains", "äpf"),
    ("utm_medium", "not_empty", None),
    ("utm_campaign", "equals", "spring_sale"),
    ("utm_campaign", "starts_with", "spring_sale"),
    ("utm_campaign", "contains", "sale"),
    ("utm_campaign", "equals", "50%"),
    ("utm_campaign", "equals", "ZÜRICH"),
    ("utm_campaign", "not_empty", None),
    ("device", "equals", "mobile"),
    ("device", "in", ["tablet", "Desktop"]),
    ("device", "not_empty", None),
    ("os", "equals", "ios"),
    ("os", "contains", "os"),
    ("os", "not_empty", None),
    ("browser", "equals", "chrome"),
    ("browser", "starts_with", "chrome"),
    ("browser", "contains", "|"),
    ("browser", "not_empty", None),
]
WINDOWS = [
    {"operator": "has"},
    {"operator": "has_not"},
    {"operator": "has", "min_count": 2},
    {"operator": "has", "within_days": 7},
    {"operator": "has_not", "within_days": 30, "min_count": 2},
]


def _traffic(attribute, comparison, value, **window):
    node = {"kind": "traffic", "attribute": attribute, "comparison": comparison, **window}
    if value is not None:
        node["value"] = value
    return {"match": "all", "filters": [node]}


def _compare(world, definition) -> set[int]:
    checked = definition_check(definition, known=world.lookups)
    expected = Oracle(world.snapshot, NOW).members(checked)
    whole = set(contacts_where(condition_of(checked, known=world.lookups, now=NOW)).values_list("id", flat=True))
    assert whole == expected, checked
    some = world.contact_ids[::4]
    restricted = condition_of(checked, known=world.lookups, now=NOW, contact_ids=some)
    assert set(contacts_where(restricted).filter(id__in=some).values_list("id", flat=True)) == expected & set(some)
    return expected


@pytest.mark.parametrize(("attribute", "comparison", "value"), TRAFFIC, ids=lambda v: str(v))
def test_traffic_filters_match_the_oracle(generated, attribute, comparison, value):
    for window in WINDOWS:
        _compare(generated, _traffic(attribute, comparison, value, **window))


def test_traffic_filters_find_someone_and_not_everyone(generated):
    everyone = set(generated.contact_ids)
    for attribute, comparison, value in [("utm_source", "equals", "google"), ("device", "equals", "MOBILE"),
                                         ("utm_campaign", "equals", "50%"), ("os", "equals", "ios")]:  # fmt: skip
        found = _compare(generated, _traffic(attribute, comparison, value))
        assert found and found != everyone, (attribute, value)
    # Parts are whole: "spring" is not the campaign "spring_sale", nor a source.
    spring = _compare(generated, _traffic("utm_campaign", "equals", "spring"))
    assert spring < _compare(generated, _traffic("utm_campaign", "starts_with", "spring"))


@pytest.mark.parametrize("purpose", ["marketing_email", "profiling", "partner_offers", "retired", "tracking"])
def test_consent_filters_match_the_oracle(generated, purpose):
    given = _compare(generated, {"match": "all", "filters": [{"kind": "consent", "purpose": purpose}]})
    refused = _compare(
        generated, {"match": "all", "filters": [{"kind": "consent", "purpose": purpose, "operator": "has_not"}]}
    )
    assert given | refused == set(generated.contact_ids) and not given & refused
    if purpose == "retired":  # inactive: allows nobody
        assert not given
    if purpose == "partner_offers":  # legitimate interests: everyone who did not object
        assert len(given) > len(refused) > 0
    if purpose == "marketing_email":
        assert given and refused


def test_label_part_patterns_read_values_literally():
    assert label_part_pattern(1, "", "a.b") == r"^[^|]*\|a\.b(\||$)"
    assert label_part_pattern(0, "in", ["x|y", "z"]) == r"^(x/y|z)(\||$)"
    assert label_part_pattern(2, "set", True) == r"^[^|]*\|[^|]*\|[^|]"


@pytest.mark.parametrize(
    ("node", "path"),
    [
        ({"kind": "traffic", "attribute": SECRET, "value": "x"}, "filters.0.attribute"),
        ({"kind": "traffic", "attribute": "utm_source", "comparison": SECRET, "value": "x"}, "filters.0.comparison"),
        ({"kind": "traffic", "attribute": "utm_source"}, "filters.0.value"),
        ({"kind": "traffic", "attribute": "utm_source", "value": SECRET * 20}, "filters.0.value"),
        ({"kind": "traffic", "attribute": "utm_source", "value": "  "}, "filters.0.value"),
        ({"kind": "traffic", "attribute": "os", "comparison": "in", "value": [SECRET, 3]}, "filters.0.value"),
        ({"kind": "traffic", "attribute": "os", "comparison": "in", "value": []}, "filters.0.value"),
        ({"kind": "traffic", "attribute": "os", "value": "x", "min_count": 0}, "filters.0.min_count"),
        ({"kind": "traffic", "attribute": "os", "value": "x", "operator": SECRET}, "filters.0.operator"),
        ({"kind": "consent", "purpose": SECRET}, "filters.0.purpose"),
        ({"kind": "consent"}, "filters.0.purpose"),
        ({"kind": "consent", "purpose": "marketing_email", "operator": "is"}, "filters.0.operator"),
    ],
)
def test_bad_traffic_and_consent_filters_are_refused_by_path(in_acme, node, path):
    with pytest.raises(ValidationError) as caught:
        definition_check({"filters": [node]})
    assert path in caught.value.message_dict
    assert SECRET not in str(caught.value.message_dict)


def test_a_pipe_in_a_value_is_read_as_tracking_stores_it(in_acme):
    checked = definition_check(_traffic("utm_campaign", "in", ["a|b", "c"]))
    assert checked["filters"][0]["value"] == ["a/b", "c"]


def test_a_consent_decision_moves_the_contact_at_the_next_refresh(in_acme, monkeypatch):
    from tidings.consent.actions import consent_record

    monkeypatch.setattr(actions, "_commit_margin", lambda: None)
    p = system()
    segment = actions.segment_create(
        principal=p, name="Mailable", definition={"filters": [{"kind": "consent", "purpose": "marketing_email"}]}
    )
    ada = contact_create({"email": "ada@consent.example"}, principal=p)
    actions.segments_refresh_changed(principal=p)
    assert set(selectors.segment_member_ids(segment.pk)) == set()

    consent_record(purpose="marketing_email", given=True, method="form", contact_id=ada.pk, principal=p)
    assert actions.segments_refresh_changed(principal=p).changes == {segment.pk: (1, 0)}
    assert set(selectors.segment_member_ids(segment.pk)) == {ada.pk}

    # A device's withdrawal counts once the device is identified as the contact (identifying marks her changed).
    device = visitor_create(principal=p)
    consent_record(purpose="marketing_email", given=False, method="tracker", visitor_id=device.pk, principal=p)
    visitor_identify(device.pk, ada.pk, principal=p)
    assert actions.segments_refresh_changed(principal=p).changes == {segment.pk: (0, 1)}
    assert actions.segment_rebuild(segment.pk, principal=p).added == 0


def test_a_page_hit_with_utm_tags_moves_the_contact_at_the_next_refresh(in_acme, monkeypatch):
    monkeypatch.setattr(actions, "_commit_margin", lambda: None)
    p = system()
    definition = _traffic("utm_source", "equals", "newsletter")
    definition["filters"].append({"kind": "traffic", "attribute": "device", "comparison": "equals", "value": "mobile"})
    segment = actions.segment_create(principal=p, name="Newsletter on mobile", definition=definition)
    bo = contact_create({"email": "bo@utm.example"}, principal=p)
    actions.segments_refresh_changed(principal=p)
    hit = {"type": code_for("page.hit"), "contact_id": bo.pk, "data": {"url": "https://utm.example/"}}
    events_record([{**hit, "data": {**hit["data"], "utm": "Newsletter|email|may", "ctx": "desktop|Linux|Firefox|"}}],
                  principal=p)  # fmt: skip
    assert actions.segments_refresh_changed(principal=p).changes == {}
    events_record([{**hit, "data": {**hit["data"], "ctx": "mobile|iOS|Mobile_Safari|DE"}}], principal=p)
    assert actions.segments_refresh_changed(principal=p).changes == {segment.pk: (1, 0)}
    assert actions.segment_rebuild(segment.pk, principal=p).removed == 0
