"""The selectors and the action added for the APIs: offset slices, bulk related rows, points."""

import pytest
from django.core.exceptions import ValidationError

from tidings.contacts import actions, selectors
from tidings.tests.principals import system


def test_contacts_slice_reads_an_offset_page_in_order(in_acme):
    for points in (5, 50, 20):
        actions.contact_create({"email": f"p{points}@acme.example", "points": points}, principal=system())
    page = selectors.contacts_page(order="-points", start=1, limit=1).items
    assert [view.get("points") for view in page] == [20]


def test_related_rows_of_many_contacts_are_read_in_bulk(in_acme, ada, grace, django_assert_num_queries):
    actions.dnc_add(ada.id, channel="email", principal=system())
    actions.dnc_add(ada.id, channel="sms", principal=system())
    with django_assert_num_queries(1, using="region_eu"):
        dnc = selectors.contacts_dnc([ada.id, grace.id])
    assert [row.channel for row in dnc[ada.id]] == ["email", "sms"] and grace.id not in dnc
    assert set(selectors.tags_by_name(["mathematics", "unknown"])) == {"mathematics"}


def test_notes_slice_pages_the_workspaces_notes_newest_first(in_acme, ada, grace):
    actions.note_add(ada.id, "First.", principal=system())
    actions.note_add(grace.id, "Second.", principal=system())
    page = selectors.notes_page(start=0, limit=1)
    assert (page.total, [n.text for n in page.items]) == (2, ["Second."])
    assert selectors.notes_page(contact_id=ada.id).total == 1


def test_companies_slice_and_lookup_by_name(in_acme):
    for name in ("Cogsworth & Co", "Analytical Engines"):
        actions.company_create({"companyname": name}, principal=system())
    page = selectors.companies_page(start=1, limit=5, count=True)
    companies, total = page.items, page.total
    assert (total, [c.name for c in companies]) == (2, ["Cogsworth & Co"])
    assert selectors.company_by_name("analytical engines").name == "Analytical Engines"


def test_points_change_in_the_database_and_leave_an_event(in_acme, ada):
    assert actions.contact_points_change(ada.id, "plus", 10, principal=system()) == 10
    assert actions.contact_points_change(ada.id, "times", 3, principal=system()) == 30
    assert actions.contact_points_change(ada.id, "divide", 7, principal=system()) == 4
    assert selectors.timeline_count(ada.id, types=[60]) == 3


@pytest.mark.parametrize(("operator", "delta"), [("divide", 0), ("power", 2)])
def test_points_change_refuses_nonsense(in_acme, ada, operator, delta):
    with pytest.raises(ValidationError):
        actions.contact_points_change(ada.id, operator, delta, principal=system())
