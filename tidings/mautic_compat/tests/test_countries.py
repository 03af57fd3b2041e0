"""Mautic clients send and read country names; Tidings stores the ISO code behind them."""

import json

from tidings.contacts.models import Company, Contact
from tidings.tenancy.context import use_workspace


def _post(client, path, body, headers):
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def test_a_country_name_is_stored_as_its_code(client, alice_basic, acme):
    body = {"email": "anke@hamburg.example", "country": "Germany"}
    contact = _post(client, "/api/contacts/new", body, alice_basic).json()["contact"]

    with use_workspace(acme):
        assert Contact.objects.get(pk=contact["id"]).country == "DE"


def test_the_contact_answer_names_the_country_as_mautic_does(client, alice_basic, acme):
    contact = _post(client, "/api/contacts/new", {"email": "anke@hamburg.example", "country": "de"}, alice_basic)

    fields = contact.json()["contact"]["fields"]
    assert fields["all"]["country"] == "Germany"
    assert fields["core"]["country"]["value"] == "Germany"


def test_an_unknown_country_is_a_400_naming_the_field(client, alice_basic, acme):
    response = _post(client, "/api/contacts/new", {"email": "x@nod.example", "country": "Nod"}, alice_basic)

    assert response.status_code == 400
    assert "Nod" not in response.content.decode()
    assert "country" in response.json()["errors"][0]["details"]


def test_a_company_country_is_stored_as_its_code_and_answered_by_name(client, alice_basic, acme):
    body = {"companyname": "Lumen Studios", "companycountry": "FR"}
    company = _post(client, "/api/companies/new", body, alice_basic).json()["company"]

    assert company["fields"]["all"]["companycountry"] == "France"
    with use_workspace(acme):
        assert Company.objects.get(pk=company["id"]).country == "FR"


def test_the_where_filter_finds_a_country_by_its_name(client, alice_basic, acme):
    _post(client, "/api/contacts/new", {"email": "anke@hamburg.example", "country": "DE"}, alice_basic)
    query = "where[0][col]=country&where[0][expr]=eq&where[0][val]=Germany"

    assert client.get(f"/api/contacts?{query}", **alice_basic).json()["total"] == "1"
