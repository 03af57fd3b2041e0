"""The contacts list on the data table: sort headers, chosen columns, density, totals, selection, empty states."""

import pytest
from django.db import connections

from tidings.contacts import actions, selectors
from tidings.contacts.views import lists
from tidings.tests.principals import system

LIST = "/w/acme/contacts/"


def _names(response) -> list[str]:
    return [row["contact"].name for row in response.context["rows"]]


def _headers(response) -> dict[str, object]:
    return {header.column.key: header for header in response.context["table"].headers()}


@pytest.fixture
def people(in_acme):
    """Twelve made-up contacts: Person Number0..11, every third tagged "vip", points equal to their number."""
    return [
        actions.contact_create(
            {"email": f"person{i}@people.example", "firstname": "Person", "lastname": f"Number{i}", "points": i},
            tags=["vip"] if i % 3 == 0 else [],
            principal=system(),
        )
        for i in range(12)
    ]


@pytest.fixture
def marco(acme, make_user):
    """marco, a marketer of Acme (he sees, edits and exports contacts)."""
    from tidings.accounts.actions import membership_create

    user = make_user("marco@acme.example")
    membership_create(workspace=acme, user=user, role="marketer", principal=system(acme))
    return user


# ---------------------------------------------------------------------------------------------
# Sorting


def test_a_sortable_header_is_a_link_that_sorts_on_the_server(alice_client, ada):
    response = alice_client.get(LIST)

    assert _headers(response)["company"].url == "?sort=company_name"
    assert b'href="?sort=company_name"' in response.content


def test_an_encrypted_column_is_not_a_link_and_says_why(alice_client, ada):
    response = alice_client.get(LIST)

    assert _headers(response)["email"].url == ""
    assert b'<span class="dt-unsortable" title="Stored encrypted, each contact under its own key' in response.content


def test_the_sorted_column_is_marked_and_its_link_reverses_the_order(alice_client, ada):
    response = alice_client.get(LIST, {"sort": "points", "tag": "mathematics"})
    points = _headers(response)["points"]

    assert points.aria_sort == "ascending"
    assert points.url == "?tag=mathematics&sort=-points"
    assert b'aria-sort="ascending"' in response.content


def test_sorting_by_company_orders_the_rows(alice_client, in_acme):
    for company, name in [("Zephyr Works", "Zed"), ("Lumen Studios", "Lu"), ("Acorn Ltd", "Ann")]:
        actions.contact_create({"firstname": name, "company": company}, principal=system())

    assert _names(alice_client.get(LIST, {"sort": "company_name"})) == ["Ann", "Lu", "Zed"]
    assert _names(alice_client.get(LIST, {"sort": "-company_name"})) == ["Zed", "Lu", "Ann"]


# ---------------------------------------------------------------------------------------------
# Column chooser and density, saved per member


def test_a_member_chooses_the_columns_shown(alice_client, ada):
    alice_client.post("/w/acme/contacts/table/", {"columns": ["name", "city", "points"], "next": LIST})
    response = alice_client.get(LIST)

    assert [c.key for c in response.context["table"].visible] == ["name", "city", "points"]
    assert b"London" in response.content
    assert b"<td>ada@analytical.example</td>" not in response.content


def test_the_name_column_cannot_be_hidden(alice_client, ada):
    alice_client.post("/w/acme/contacts/table/", {"columns": ["points"], "next": LIST})

    assert [c.key for c in alice_client.get(LIST).context["table"].visible] == ["name", "points"]


def test_chosen_columns_belong_to_the_member_who_chose_them(alice_client, client, marco, ada):
    alice_client.post("/w/acme/contacts/table/", {"columns": ["name", "city"], "next": LIST})
    client.force_login(marco)

    assert "email" in {c.key for c in client.get(LIST).context["table"].visible}


def test_dense_rows_are_remembered(alice_client, ada):
    alice_client.post("/w/acme/contacts/table/", {"density": "dense", "next": LIST})

    assert b'class="dt dt-dense"' in alice_client.get(LIST).content


def test_an_unknown_density_is_refused_with_a_message(alice_client, ada):
    response = alice_client.post("/w/acme/contacts/table/", {"density": "cosy", "next": LIST}, follow=True)

    assert b"choose one of comfortable, dense" in response.content


def test_a_custom_field_can_be_a_column(alice_client, ada):
    actions.field_create(alias="shoe_size", label="Shoe size", type="number", principal=system())
    actions.contact_update(ada.id, {"shoe_size": 38}, principal=system())
    alice_client.post("/w/acme/contacts/table/", {"columns": ["name", "f:shoe_size"], "next": LIST})

    response = alice_client.get(LIST)

    assert [c.label for c in response.context["table"].visible] == ["Name", "Shoe size"]
    assert b"<td>38</td>" in response.content


# ---------------------------------------------------------------------------------------------
# Totals


def test_the_total_is_exact_under_the_cap(alice_client, people):
    response = alice_client.get(LIST, {"tag": "vip"})

    assert b"<strong>4</strong> contacts" in response.content


def test_beyond_the_cap_sqlite_says_over_the_cap(alice_client, people, monkeypatch):
    if connections["region_eu"].vendor != "sqlite":
        pytest.skip("SQLite's path")
    monkeypatch.setattr(selectors, "EXACT_COUNT_CAP", 5)

    assert selectors.contacts_total() == selectors.Total(5, False, at_least=True)
    assert b"<strong>over 5</strong> contacts" in alice_client.get(LIST).content


def test_beyond_the_cap_postgresql_gives_an_estimate(people, monkeypatch):
    if connections["region_eu"].vendor != "postgresql":
        pytest.skip("PostgreSQL's path")
    monkeypatch.setattr(selectors, "EXACT_COUNT_CAP", 5)

    total = selectors.contacts_total()

    assert total.exact is False
    assert total.value >= 6


def test_an_estimated_total_reads_about_two_significant_figures():
    from tidings.ui.datatable import total_text

    assert total_text(123_456, False) == "about 120,000"
    assert total_text(10_000, False, at_least=True) == "over 10,000"
    assert total_text(9_876, True) == "9,876"


# ---------------------------------------------------------------------------------------------
# Selection and bulk actions on every matching contact


def test_select_all_matching_tags_every_matching_contact_not_only_the_page(alice_client, people, monkeypatch):
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    alice_client.post(
        "/w/acme/contacts/bulk/", {"scope": "matching", "query": "tag=vip", "action": "tag_add", "tag": "picked"}
    )

    assert selectors.contacts_total(filters={"tag": "picked"}).value == 4


def test_the_table_offers_select_all_matching_with_the_total(alice_client, people, monkeypatch):
    monkeypatch.setattr(lists, "PAGE_SIZE", 5)
    response = alice_client.get(LIST)

    assert b'data-dt-total="12"' in response.content
    assert b"Select all 12 matching" in response.content


def test_deleting_every_matching_contact_asks_first_with_the_count(alice_client, people):
    response = alice_client.post(
        "/w/acme/contacts/bulk/", {"scope": "matching", "query": "tag=vip", "action": "delete"}
    )

    assert b"Delete 4 contacts?" in response.content
    assert selectors.contacts_total().value == 12


def test_deleting_every_matching_contact_once_confirmed(alice_client, people):
    alice_client.post(
        "/w/acme/contacts/bulk/",
        {"scope": "matching", "query": "tag=vip", "action": "delete", "confirmed": "1"},
    )

    assert selectors.contacts_total().value == 8


def test_a_matching_action_on_too_many_contacts_is_refused(alice_client, people, monkeypatch):
    monkeypatch.setattr(lists, "MATCHING_MAX", 3)
    response = alice_client.post(
        "/w/acme/contacts/bulk/",
        {"scope": "matching", "query": "", "action": "tag_add", "tag": "picked"},
        follow=True,
    )

    assert b"More than 3 contacts match" in response.content
    assert selectors.contacts_total(filters={"tag": "picked"}).value == 0


def test_export_selected_goes_to_the_export_of_those_contacts(alice_client, ada, grace):
    response = alice_client.post("/w/acme/contacts/bulk/", {"ids": [ada.id], "action": "export_csv"})

    assert response.status_code == 302
    assert response["Location"] == f"/w/acme/contacts/export/csv/?ids={ada.id}"


def test_each_row_has_an_action_menu(alice_client, ada):
    content = alice_client.get(LIST).content

    assert b'<summary aria-label="Actions for Ada Quillfeather">' in content
    assert f'href="/w/acme/contacts/{ada.id}/edit/"'.encode() in content
    assert f'href="/w/acme/contacts/{ada.id}/delete/"'.encode() in content


def test_the_table_scrolls_inside_its_box(alice_client, ada):
    content = alice_client.get(LIST).content

    assert b'<div class="dt-scroll" role="region"' in content
    assert b"datatable.css" in content and b"datatable.js" in content


def test_the_page_has_no_inline_script_or_style(alice_client, ada):
    content = alice_client.get(LIST).content.decode()

    assert "<script>" not in content and "style=" not in content and "<style" not in content
    assert " onclick=" not in content and " onchange=" not in content


# ---------------------------------------------------------------------------------------------
# Empty states


def test_an_empty_workspace_says_how_to_add_contacts(alice_client, in_acme):
    content = alice_client.get(LIST).content

    assert b"No contacts yet" in content
    assert b'href="/w/acme/contacts/import/"' in content
    assert b'href="/w/acme/contacts/new/"' in content


def test_no_match_offers_to_clear_the_filters(alice_client, ada):
    content = alice_client.get(LIST, {"tag": "nobody-has-this"}).content

    assert b"No contacts match" in content
    assert b'href="/w/acme/contacts/">Clear filters' in content


# ---------------------------------------------------------------------------------------------
# Permissions


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", LIST),
        ("post", "/w/acme/contacts/table/"),
        ("post", "/w/acme/contacts/views/"),
    ],
)
def test_an_analyst_may_not_use_the_list(arun_client, method, path):
    assert getattr(arun_client, method)(path).status_code == 403


def test_a_saved_view_with_chosen_columns_costs_a_bounded_number_of_queries(
    alice_client, alice, acme, people, django_assert_max_num_queries
):
    from tidings.accounts.selectors import principal_for_user
    from tidings.contacts import actions

    view = actions.saved_view_save(
        "contacts",
        name="VIPs",
        query={"tag": "vip"},
        columns=["name", "city"],
        principal=principal_for_user(alice, acme),
    )
    alice_client.get(LIST)  # warm the keyring cache and the core field seeding
    # The list's twelve (see test_views_contacts) and the view itself.
    with django_assert_max_num_queries(13, using="region_eu"):
        response = alice_client.get(LIST, {"view": view.pk})

    assert len(response.context["rows"]) == 4


def test_a_plain_text_search_costs_a_bounded_number_of_queries(alice_client, people, django_assert_max_num_queries):
    alice_client.get(LIST)
    # The list's twelve, and for the page and the total each: the companies and the city probed,
    # and the index key of the name words; whatever the number of rows.
    with django_assert_max_num_queries(18, using="region_eu"):
        response = alice_client.get(LIST, {"q": "person"})

    assert len(response.context["rows"]) == 12


def test_the_next_page_by_htmx_renders_rows_with_the_chosen_columns(alice_client, people, monkeypatch):
    monkeypatch.setattr(lists, "PAGE_SIZE", 5)
    alice_client.post("/w/acme/contacts/table/", {"columns": ["name", "points"], "next": LIST})
    cursor = alice_client.get(LIST, {"sort": "id"}).context["page"].next_cursor

    response = alice_client.get(LIST, {"sort": "id", "after": cursor}, HTTP_HX_REQUEST="true")

    assert response.content.lstrip().startswith(b"<tr>")
    assert b'<td class="num">5</td>' in response.content
