"""Mautic-compatible companies, fields and tags, with payloads as mautic/api-library sends them."""

import json

from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system


def _json(client, method, path, body, headers):
    return getattr(client, method)(path, json.dumps(body), content_type="application/json", **headers)


def test_companies_new_get_list_edit_delete(client, alice_basic, acme):
    created = _json(
        client,
        "post",
        "/api/companies/new",
        {"companyname": "Analytical Engines", "companycity": "London"},
        alice_basic,
    )
    assert created.status_code == 201
    company = created.json()["company"]
    assert company["fields"]["core"]["companyname"]["value"] == "Analytical Engines"
    assert company["fields"]["all"]["companycity"] == "London"
    listed = client.get("/api/companies", **alice_basic).json()
    assert listed["total"] == 1 and str(company["id"]) in listed["companies"]
    edited = _json(client, "patch", f"/api/companies/{company['id']}/edit", {"companycity": "Paris"}, alice_basic)
    assert edited.json()["company"]["fields"]["all"]["companycity"] == "Paris"
    deleted = client.delete(f"/api/companies/{company['id']}/delete", **alice_basic)
    assert deleted.json()["company"]["fields"]["all"]["companyname"] == "Analytical Engines"
    assert client.get(f"/api/companies/{company['id']}", **alice_basic).status_code == 404


def test_a_new_company_with_a_known_name_edits_it_unless_forced(client, alice_basic, acme):
    first = _json(client, "post", "/api/companies/new", {"companyname": "Analytical Engines"}, alice_basic)
    again = _json(
        client, "post", "/api/companies/new", {"companyname": "analytical engines", "companycity": "Rome"}, alice_basic
    )
    forced = _json(client, "post", "/api/companies/new", {"companyname": "Analytical Engines", "force": 1}, alice_basic)
    assert (first.status_code, again.status_code, forced.status_code) == (201, 200, 201)
    assert again.json()["company"]["id"] == first.json()["company"]["id"]


def test_companies_link_and_unlink_contacts(client, alice_basic, acme):
    from tidings.contacts import actions, selectors

    with use_workspace(acme):
        contact = actions.contact_create({"email": "ada@analytical.example"}, principal=system())
        company = actions.company_create({"companyname": "Analytical Engines"}, principal=system())
    added = client.post(f"/api/companies/{company.id}/contact/{contact.id}/add", **alice_basic)
    assert added.json() == {"success": 1}
    with use_workspace(acme):
        assert [link.company.id for link in selectors.contact_companies(contact.id)] == [company.id]
    client.post(f"/api/companies/{company.id}/contact/{contact.id}/remove", **alice_basic)
    with use_workspace(acme):
        assert selectors.contact_companies(contact.id) == []
    assert client.post(f"/api/companies/{company.id}/contact/999999999999/add", **alice_basic).status_code == 404


def test_contact_fields_list_and_get(client, alice_basic, acme):
    body = client.get("/api/fields/contact", **alice_basic).json()
    email = next(f for f in body["fields"].values() if f["alias"] == "email")
    assert email["object"] == "lead" and email["isFixed"] is True and email["isUniqueIdentifier"] is True
    assert client.get(f"/api/fields/contact/{email['id']}", **alice_basic).json()["field"]["alias"] == "email"
    assert client.get(f"/api/fields/company/{email['id']}", **alice_basic).status_code == 404


def test_a_field_is_created_from_a_label_and_changed(client, alice_basic, acme):
    body = {"label": "Shoe size", "type": "number", "isRequired": False, "isUniqueIdentifier": 0}
    created = _json(client, "post", "/api/fields/contact/new", body, alice_basic)
    assert created.status_code == 201
    field = created.json()["field"]
    assert field["alias"] == "shoe_size"
    edited = _json(client, "patch", f"/api/fields/contact/{field['id']}/edit", {"label": "Shoe size (EU)"}, alice_basic)
    assert edited.json()["field"]["label"] == "Shoe size (EU)"


def test_a_select_fields_options_come_from_properties_list(client, alice_basic, acme):
    body = {
        "label": "Plan",
        "alias": "plan",
        "type": "select",
        "properties": {"list": [{"label": "Free", "value": "free"}, {"label": "Pro", "value": "pro"}]},
    }
    field = _json(client, "post", "/api/fields/contact/new", body, alice_basic).json()["field"]
    assert field["properties"]["list"][1] == {"label": "Pro", "value": "pro"}


def test_deleting_a_field_archives_it_and_keeps_its_values(client, alice_basic, acme):
    from tidings.contacts import actions, selectors

    field = _json(client, "post", "/api/fields/company/new", {"label": "Sector"}, alice_basic).json()["field"]
    with use_workspace(acme):
        company = actions.company_create(
            {"companyname": "Analytical Engines", "sector": "Computing"}, principal=system()
        )
    deleted = client.delete(f"/api/fields/company/{field['id']}/delete", **alice_basic)
    assert deleted.status_code == 200
    assert client.get(f"/api/fields/company/{field['id']}", **alice_basic).json()["field"]["isPublished"] is False
    with use_workspace(acme):
        assert selectors.company_get(company.id).custom["sector"] == "Computing"


def test_core_fields_cannot_be_deleted(client, alice_basic, acme):
    email = next(
        f for f in client.get("/api/fields/contact", **alice_basic).json()["fields"].values() if f["alias"] == "email"
    )
    assert client.delete(f"/api/fields/contact/{email['id']}/delete", **alice_basic).status_code == 400


def test_unknown_field_objects_are_not_found(client, alice_basic, acme):
    assert client.get("/api/fields/planet", **alice_basic).status_code == 404


def test_tags_new_returns_an_existing_tag_with_200(client, alice_basic, acme):
    first = _json(client, "post", "/api/tags/new", {"tag": "vip", "description": "Our best"}, alice_basic)
    again = _json(client, "post", "/api/tags/new", {"tag": "vip"}, alice_basic)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["tag"] == {"id": again.json()["tag"]["id"], "tag": "vip", "description": "Our best"}


def test_tags_list_edit_delete_and_batch(client, alice_basic, acme):
    created = _json(client, "post", "/api/tags/batch/new", [{"tag": "vip"}, {"tag": "lead"}], alice_basic).json()
    assert created["statusCodes"] == [201, 201]
    listed = client.get("/api/tags", **alice_basic).json()
    assert listed["total"] == 2 and {t["tag"] for t in listed["tags"].values()} == {"vip", "lead"}
    tag_id = created["tags"][0]["id"]
    assert _json(client, "put", f"/api/tags/{tag_id}/edit", {"tag": "VIP"}, alice_basic).json()["tag"]["tag"] == "VIP"
    assert client.delete(f"/api/tags/{tag_id}/delete", **alice_basic).json()["tag"]["tag"] == "VIP"
    assert client.get("/api/tags", **alice_basic).json()["total"] == 1


def test_a_tag_needs_a_name(client, alice_basic, acme):
    assert _json(client, "post", "/api/tags/new", {"description": "nameless"}, alice_basic).status_code == 400
