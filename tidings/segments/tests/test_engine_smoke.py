from tidings.contacts.actions import contact_create
from tidings.segments import actions, selectors
from tidings.tests.principals import system


def test_smoke(in_acme):
    p = system()
    a = contact_create(
        {"email": "a@x.example", "firstname": "Ann", "city": "London", "points": 5}, tags=["vip"], principal=p
    )
    b = contact_create({"email": "b@x.example", "firstname": "Bo", "city": "Paris", "points": 1}, principal=p)
    seg = actions.segment_create(
        principal=p,
        name="Londoners",
        definition={
            "match": "any",
            "filters": [
                {"kind": "field", "field": "city", "operator": "equals", "value": "London"},
                {"kind": "field", "field": "email", "operator": "equals", "value": "b@x.example"},
            ],
        },
    )
    assert set(selectors.segment_member_ids(seg.pk)) == {a.pk, b.pk}
    stored = selectors.segment_get(seg.pk).definition
    assert "b@x.example" not in str(stored)
    actions.segment_update(
        seg.pk,
        principal=p,
        definition={"filters": [{"kind": "field", "field": "points", "operator": "gt", "value": 3}]},
    )
    assert set(selectors.segment_member_ids(seg.pk)) == {a.pk}
    actions.segment_members_add(seg.pk, [b.pk], principal=p)
    r = actions.segment_rebuild(seg.pk, principal=p)
    assert set(selectors.segment_member_ids(seg.pk)) == {a.pk, b.pk}
    actions.segment_members_remove(seg.pk, [a.pk], principal=p)
    actions.segment_rebuild(seg.pk, principal=p)
    assert set(selectors.segment_member_ids(seg.pk)) == {b.pk}
    from tidings.contacts.models import Tag

    vip = Tag.objects.get(name="vip").pk  # not 1 on PostgreSQL, whose sequences run on across tests
    s2 = actions.segment_create(
        principal=p,
        name="Inside",
        definition={
            "filters": [
                {"kind": "segment", "operator": "in", "value": [seg.pk]},
                {"kind": "event", "event": "contact.created", "operator": "has", "within_days": 3},
                {"kind": "tag", "operator": "not_in", "value": [vip]},
                {"kind": "field", "field": "date_added", "operator": "in_last_days", "value": 2},
            ]
        },
    )
    assert set(selectors.segment_member_ids(s2.pk)) == {b.pk}
    print(r)
