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
