"""Companies pages: list, detail with contacts, create, edit, delete."""

from tidings.contacts import actions, selectors
from tidings.tests.principals import system


def test_create_a_company(alice_client, in_acme):
    response = alice_client.post("/w/acme/companies/new/", {"companyname": "Cogsworth & Co", "companycity": "London"})

    company = selectors.companies_page().items[0]
    assert response.status_code == 302
    assert (company.name, company.city) == ("Cogsworth & Co", "London")


def test_a_company_needs_a_name_and_keeps_what_was_typed(alice_client, in_acme):
    response = alice_client.post("/w/acme/companies/new/", {"companyname": "", "companycity": "Leeds"})

    assert response.status_code == 400
    assert "companyname" in response.context["form"].errors
    assert response.context["form"]["companycity"].value() == "Leeds"


def test_the_list_searches_by_name_prefix(alice_client, in_acme):
    actions.company_create({"companyname": "Analytical Engines"}, principal=system())
    actions.company_create({"companyname": "Difference Ltd"}, principal=system())

    response = alice_client.get("/w/acme/companies/", {"q": "anal"})

    assert [c.name for c in response.context["page"].items] == ["Analytical Engines"]


def test_the_detail_lists_its_contacts(alice_client, ada, grace):
    company = actions.company_create({"companyname": "Analytical Engines"}, principal=system())
    actions.company_link(ada.id, company.id, principal=system())

    response = alice_client.get(f"/w/acme/companies/{company.id}/")

    assert [c.id for c in response.context["contacts"].items] == [ada.id]


def test_edit_a_company(alice_client, in_acme):
    company = actions.company_create({"companyname": "Analytical Engines"}, principal=system())

    alice_client.post(f"/w/acme/companies/{company.id}/edit/", {"companyname": "Analytical Engines plc"})

    assert selectors.company_get(company.id).name == "Analytical Engines plc"


def test_delete_a_company_keeps_its_contacts(alice_client, ada):
    company = actions.company_create({"companyname": "Analytical Engines"}, principal=system())
    actions.company_link(ada.id, company.id, principal=system())

    alice_client.post(f"/w/acme/companies/{company.id}/delete/")

    assert selectors.companies_page().items == []
    assert selectors.contacts_get([ada.id])


# ---------------------------------------------------------------------------------------------- issue 8


def _companies(*names):
    return [actions.company_create({"companyname": name}, principal=system()) for name in names]


def test_the_list_finds_a_company_by_any_word_of_its_name(alice_client, in_acme):
    _companies("Lumen Studios", "Studious Ltd", "Harbour Lights")

    response = alice_client.get("/w/acme/companies/", {"q": "stud"})

    assert sorted(c.name for c in response.context["page"].items) == ["Lumen Studios", "Studious Ltd"]


def test_the_list_shows_contact_counts(alice_client, ada, grace):
    lumen, harbour = _companies("Lumen Studios", "Harbour Lights")
    actions.company_link(ada.id, lumen.id, principal=system())
    actions.company_link(grace.id, lumen.id, principal=system())

    response = alice_client.get("/w/acme/companies/")

    counts = {c.name: c.contact_count for c in response.context["page"].items}
    assert counts == {"Harbour Lights": 0, "Lumen Studios": 2}


def test_the_list_sorts_by_contacts_descending(alice_client, ada, grace):
    lumen, harbour, quiet = _companies("Lumen Studios", "Harbour Lights", "Quiet Co")
    actions.company_link(ada.id, harbour.id, principal=system())
    actions.company_link(grace.id, harbour.id, principal=system())
    actions.company_link(ada.id, lumen.id, principal=system())

    response = alice_client.get("/w/acme/companies/", {"sort": "-contacts"})

    assert [c.name for c in response.context["page"].items] == ["Harbour Lights", "Lumen Studios", "Quiet Co"]
    assert b'aria-sort="descending"' in response.content


def test_sorted_pages_follow_each_other_without_gaps(in_acme):
    _companies(*(f"Company {i:02d}" for i in range(7)))

    first = selectors.companies_page(order="-created", limit=4)
    second = selectors.companies_page(order="-created", limit=4, after=first.next_cursor)

    names = [c.name for c in first.items + second.items]
    assert names == [f"Company {i:02d}" for i in reversed(range(7))]


def test_the_list_counts_in_one_query_whatever_the_page_size(in_acme, ada, django_assert_num_queries):
    for company in _companies(*(f"Company {i}" for i in range(6))):
        actions.company_link(ada.id, company.id, principal=system())

    with django_assert_num_queries(1, using="region_eu"):
        page = selectors.companies_page(order="contacts")

    assert [c.contact_count for c in page.items] == [1] * 6


def test_an_unknown_sort_falls_back_to_name(alice_client, in_acme):
    _companies("Beta", "Alpha")

    response = alice_client.get("/w/acme/companies/", {"sort": "secret_column"})

    assert [c.name for c in response.context["page"].items] == ["Alpha", "Beta"]


def test_creating_a_company_with_an_existing_name_warns_but_creates(alice_client, in_acme):
    _companies("Lumen Studios")

    response = alice_client.post("/w/acme/companies/new/", {"companyname": "lumen  STUDIOS"}, follow=True)

    assert len(selectors.companies_page().items) == 2
    assert "1 other company has the same name" in response.content.decode()


def test_renaming_a_company_to_an_existing_name_warns(alice_client, in_acme):
    _, harbour = _companies("Lumen Studios", "Harbour Lights")

    response = alice_client.post(f"/w/acme/companies/{harbour.id}/edit/", {"companyname": "Lumen Studios"}, follow=True)

    assert selectors.company_get(harbour.id).name == "Lumen Studios"
    assert "1 other company has the same name" in response.content.decode()


def test_a_distinct_name_gives_no_warning(alice_client, in_acme):
    _companies("Lumen Studios")

    response = alice_client.post("/w/acme/companies/new/", {"companyname": "Lumen Studio"}, follow=True)

    assert "same name" not in response.content.decode()
