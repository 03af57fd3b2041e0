"""Lists and search: keyset pages, what can be searched, no N+1, and workspace and region isolation."""

import pytest
from django.core.exceptions import ValidationError

from tidings.contacts import actions, selectors, selectors_fields
from tidings.contacts.models import Contact, Note
from tidings.privacy.models import LawfulBasis
from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system


@pytest.fixture
def crowd(in_acme):
    rows = [
        {"email": f"person{i}@{'acme' if i % 2 else 'initech'}.example", "firstname": f"Person{i}", "points": i % 7}
        for i in range(30)
    ]
    actions.contacts_bulk_upsert(rows, lawful_basis=LawfulBasis.CONSENT, tags=["crowd"], principal=system())
    return list(Contact.objects.order_by("id").values_list("id", flat=True))


@pytest.mark.parametrize("order", ["id", "-id", "points", "-points", "last_active", "-last_active", "email_domain"])
def test_keyset_pages_visit_every_contact_once(crowd, order):
    seen, cursor = [], None
    while True:
        page = selectors.contacts_page(order=order, after=cursor, limit=7)
        seen.extend(v.id for v in page.items)
        if not page.has_more:
            break
        cursor = page.next_cursor
    assert sorted(seen) == crowd and len(seen) == len(set(seen))


def test_a_list_page_costs_the_same_queries_whatever_its_size(crowd, django_assert_max_num_queries):
    selectors_fields.field_definitions()  # core fields seeded before counting
    with django_assert_max_num_queries(6):
        page = selectors.contacts_page(limit=30, filters={"tag": "crowd"})
    assert len(page.items) == 30 and all(v.email for v in page.items) and page.items[0].tags == ("crowd",)


def test_search_finds_exact_email_and_whole_name_words_only(crowd, ada):
    assert [v.id for v in selectors.contact_search("ada@analytical.example").items] == [ada.id]
    assert [v.id for v in selectors.contact_search("email:ADA@Analytical.example").items] == [ada.id]
    assert [v.id for v in selectors.contact_search("Ada QUILLFEATHER").items] == [ada.id]
    assert selectors.contact_search("lovel").items == [], "no substring search on encrypted names, by design"
    assert selectors.contact_search("ada@analytical").items == [], "no partial email search, by design"


def test_search_commands(crowd, ada):
    assert selectors.contacts_count(search="domain:acme.example") == 15
    assert selectors.contacts_count(search="tag:crowd") == 30
    assert selectors.contacts_count(search="tag:mathematics") == 1
    assert selectors.contacts_count(search="is:unowned") == 31
    assert selectors.contacts_count(search=f"ids:{ada.id},{crowd[0]}") == 2
    visitor = actions.contact_create({"city": "Nowhere"}, principal=system())
    assert [v.id for v in selectors.contact_search("is:anonymous").items] == [visitor.id]
    with pytest.raises(ValidationError):
        selectors.contact_search("is:sleepy")


def test_filters(crowd, ada):
    assert selectors.contacts_count(filters={"points__gte": 6}) == 4
    assert selectors.contacts_count(filters={"domain": "initech.example", "points__lte": 0}) == 3
    with pytest.raises(ValidationError):
        selectors.contacts_page(filters={"email__contains": "ada"})


def test_another_workspaces_contact_ids_do_not_exist(ada, globex):
    note = actions.note_add(ada.id, "private", principal=system())
    with use_workspace(globex):
        with pytest.raises(Contact.DoesNotExist):
            selectors.contact_get(ada.id)
        with pytest.raises(Contact.DoesNotExist):
            selectors.timeline(ada.id)
        with pytest.raises(Note.DoesNotExist):
            selectors.note_get(note.id)
        with pytest.raises(Contact.DoesNotExist):
            actions.contact_update(ada.id, {"firstname": "Mallory"}, principal=system())
        with pytest.raises(Contact.DoesNotExist):
            actions.contact_delete(ada.id, principal=system())
        assert selectors.contacts_get([ada.id]) == {}
        assert selectors.contact_search("ada@analytical.example").items == []
    assert selectors.contact_get(ada.id).get("firstname") == "Ada"


def test_an_eu_workspaces_contacts_leave_no_row_in_the_us_database(ada, globex):
    from tidings.tenancy.tests.test_regions import rows_of_workspace

    actions.note_add(ada.id, "EU only", principal=system())
    actions.contacts_bulk_upsert([{"email": "eu@acme.example"}], lawful_basis=LawfulBasis.CONTRACT, principal=system())
    eu_rows = rows_of_workspace("region_eu", ada.workspace_id)
    assert eu_rows["contacts_contact"] == 2 and eu_rows["privacy_contactkey"] == 2
    assert sum(rows_of_workspace("region_us", ada.workspace_id).values()) == 0


def test_an_event_row_stays_within_250_bytes_on_disk(ada):
    from django.db import connections

    from tidings.contacts.models import EventType

    connection = connections["region_eu"]
    if connection.vendor != "sqlite":
        pytest.skip("measured with SQLite's dbstat")
    count = 3000
    actions.events_append(
        [{"contact_id": ada.id, "type": EventType.EMAIL_OPENED, "data": {"email_id": 1234}} for _ in range(count)],
        principal=system(),
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT SUM(pgsize) FROM dbstat WHERE name = 'events_event' OR name LIKE 'events_%_idx'")
        total = cursor.fetchone()[0]
    assert total / count <= 250
