"""The native contacts API at /api/v1/: contacts, batches, tags, notes, DNC, companies, fields, tags, timeline."""

import json

import pytest

from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api(client, acme, alice):
    """A client calling the API as alice (owner of Acme) with her personal token."""
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    _, secret = api_token_create(workspace=acme, user=alice, name="CRM sync", principal=principal_for_user(alice, acme))
    return _Api(client, {"HTTP_AUTHORIZATION": f"Bearer {secret}"})


class _Api:
    def __init__(self, client, headers):
        self.client, self.headers = client, headers

    def get(self, path, data=None):
        return self.client.get(f"/api/v1{path}", data or {}, **self.headers)

    def send(self, method, path, body=None):
        call = getattr(self.client, method.lower())
        return call(f"/api/v1{path}", json.dumps(body or {}), content_type="application/json", **self.headers)


@pytest.fixture
def analyst_api(client, acme, make_user):
    """Ivan, an analyst of Acme: aggregates only, no contacts:view."""
    from tidings.accounts.actions import membership_create
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    ivan = make_user("ivan@acme.example")
    membership_create(workspace=acme, user=ivan, role="analyst", principal=system(acme))
    _, secret = api_token_create(workspace=acme, user=ivan, name="Reports", principal=principal_for_user(ivan, acme))
    return _Api(client, {"HTTP_AUTHORIZATION": f"Bearer {secret}"})


def _create(api, email, **fields):
    response = api.send("POST", "/contacts", {"fields": {"email": email, **fields}})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_contact_is_created_and_read_back_decrypted(api):
    created = _create(api, "ada@analytical.example", firstname="Ada", city="London")
    body = api.get(f"/contacts/{created['id']}").json()
    assert body["fields"]["email"] == "ada@analytical.example"
    assert body["fields"]["firstname"] == "Ada"
    assert body["email_domain"] == "analytical.example"
    assert body["is_anonymous"] is False


def test_invalid_values_answer_422_naming_the_field(api):
    response = api.send("POST", "/contacts", {"fields": {"email": "not an address"}})
    assert response.status_code == 422
    assert "email" in response.json()["error"]["details"]["fields"]


def test_a_country_is_answered_as_its_iso_code(api):
    created = _create(api, "anke@hamburg.example", country="Germany")
    assert api.get(f"/contacts/{created['id']}").json()["fields"]["country"] == "DE"


def test_an_unknown_country_answers_422_naming_the_field_not_the_value(api):
    response = api.send("POST", "/contacts", {"fields": {"email": "x@nod.example", "country": "Nod"}})
    assert response.status_code == 422
    assert "country" in response.json()["error"]["details"]["fields"]
    assert "Nod" not in response.content.decode()


def test_a_second_contact_with_the_same_email_is_refused(api):
    _create(api, "ada@analytical.example")
    response = api.send("POST", "/contacts", {"fields": {"email": "ADA@analytical.example"}})
    assert response.status_code == 422


def test_search_finds_by_exact_email_and_by_name_word(api):
    _create(api, "ada@analytical.example", firstname="Ada", lastname="Quillfeather")
    _create(api, "grace@navy.example", firstname="Grace", lastname="Brightwater")
    by_email = api.get("/contacts", {"search": "grace@navy.example"}).json()["items"]
    by_name = api.get("/contacts", {"search": "quillfeather"}).json()["items"]
    assert [c["fields"]["firstname"] for c in by_email] == ["Grace"]
    assert [c["fields"]["firstname"] for c in by_name] == ["Ada"]


def test_filters_and_sort_apply(api):
    _create(api, "ada@analytical.example", city="London", points=10)
    _create(api, "grace@navy.example", city="Arlington", points=30)
    _create(api, "alan@bletchley.example", city="London", points=20)
    items = api.get("/contacts", {"city": "London", "order": "-points"}).json()["items"]
    assert [c["fields"]["email"] for c in items] == ["alan@bletchley.example", "ada@analytical.example"]
    assert len(api.get("/contacts", {"points_gte": 20}).json()["items"]) == 2


def test_the_list_is_paginated_by_cursor(api):
    for i in range(5):
        _create(api, f"person{i}@acme.example")
    first = api.get("/contacts", {"limit": 2}).json()
    second = api.get("/contacts", {"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api.get("/contacts", {"limit": 2, "cursor": second["next_cursor"]}).json()
    emails = [c["fields"]["email"] for page in (first, second, third) for c in page["items"]]
    assert emails == [f"person{i}@acme.example" for i in (4, 3, 2, 1, 0)]
    assert third["next_cursor"] is None


def test_the_list_costs_the_same_queries_for_2_or_20_contacts(api, acme, django_assert_num_queries):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    def count_for_list():
        api.get("/contacts", {"limit": 50})  # warm: the token's last use is written once
        with CaptureQueriesContext(connections["default"]) as g, CaptureQueriesContext(connections["region_eu"]) as r:
            response = api.get("/contacts", {"limit": 50})
        assert response.status_code == 200
        return len(g.captured_queries) + len(r.captured_queries), len(response.json()["items"])

    first = [_create(api, f"few{i}@acme.example", firstname="Few") for i in range(2)][0]
    assert api.send("POST", f"/contacts/{first['id']}/tags", {"tags": ["a", "b"]}).status_code == 200
    few, n_few = count_for_list()
    for i in range(18):
        created = _create(api, f"many{i}@acme.example", firstname="Many")
        assert api.send("POST", f"/contacts/{created['id']}/tags", {"tags": [f"t{i}"]}).status_code == 200
    many, n_many = count_for_list()
    assert (n_few, n_many) == (2, 20)
    assert many == few
    assert many <= 16  # credential (2), rate limit (up to 6 on the database cache), the page (about 6)


def test_patch_changes_only_the_given_fields_and_adds_tags(api):
    created = _create(api, "ada@analytical.example", firstname="Ada", city="London")
    response = api.send("PATCH", f"/contacts/{created['id']}", {"fields": {"city": "Paris"}, "tags": ["vip"]})
    assert response.status_code == 200
    body = response.json()
    assert (body["fields"]["city"], body["fields"]["firstname"], body["tags"]) == ("Paris", "Ada", ["vip"])


def test_upsert_answers_201_then_200_for_the_same_email(api):
    first = api.send("POST", "/contacts/upsert", {"fields": {"email": "ada@analytical.example", "firstname": "Ada"}})
    second = api.send("POST", "/contacts/upsert", {"fields": {"email": "ada@analytical.example", "city": "London"}})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["contact"]["id"] == second.json()["contact"]["id"]
    assert second.json()["contact"]["fields"]["firstname"] == "Ada"


def test_delete_erases_the_contact(api):
    created = _create(api, "ada@analytical.example")
    assert api.send("DELETE", f"/contacts/{created['id']}").status_code == 204
    assert api.get(f"/contacts/{created['id']}").status_code == 404


def test_batch_create_reports_each_item(api):
    body = {"items": [{"fields": {"email": "ada@analytical.example"}}, {"fields": {"email": "nope"}}]}
    results = api.send("POST", "/contacts/batch/create", body).json()["results"]
    assert [r["status"] for r in results] == [201, 422]
    assert "email" in results[1]["errors"]


def test_batch_update_reports_unknown_ids_as_404_items(api):
    created = _create(api, "ada@analytical.example")
    body = {"items": [{"id": created["id"], "fields": {"city": "Paris"}}, {"id": 999999, "fields": {}}]}
    results = api.send("POST", "/contacts/batch/update", body).json()["results"]
    assert [r["status"] for r in results] == [200, 404]


def test_batch_delete_leaves_another_workspaces_contacts_alone(api, globex):
    from tidings.contacts import actions, selectors

    with use_workspace(globex):  # ids are per region database: take one Acme does not have
        actions.contact_create({"email": "carol@globex.example"}, principal=system())
        theirs = actions.contact_create({"email": "bob@globex.example"}, principal=system())
    ours = _create(api, "ada@analytical.example")
    results = api.send("POST", "/contacts/batch/delete", {"ids": [ours["id"], theirs.id]}).json()["results"]
    assert [r["status"] for r in results] == [204, 404]
    with use_workspace(globex):
        assert selectors.contact_get(theirs.id).email == "bob@globex.example"


def test_batches_are_capped_at_200_items(api):
    response = api.send("POST", "/contacts/batch/delete", {"ids": list(range(1, 202))})
    assert response.status_code == 422


def test_tags_are_added_and_removed_with_a_leading_minus(api):
    created = _create(api, "ada@analytical.example")
    api.send("POST", f"/contacts/{created['id']}/tags", {"tags": ["vip", "lead"]})
    body = api.send("POST", f"/contacts/{created['id']}/tags", {"tags": ["-lead"]}).json()
    assert body["tags"] == ["vip"]
    assert api.get(f"/contacts/{created['id']}/tags").json() == ["vip"]


def test_notes_are_added_listed_changed_and_deleted(api):
    created = _create(api, "ada@analytical.example")
    note = api.send("POST", f"/contacts/{created['id']}/notes", {"text": "Called about the engine.", "type": "call"})
    assert note.status_code == 201
    note_id = note.json()["id"]
    assert api.send("PATCH", f"/notes/{note_id}", {"text": "Called twice."}).json()["text"] == "Called twice."
    assert [n["text"] for n in api.get(f"/contacts/{created['id']}/notes").json()] == ["Called twice."]
    assert api.send("DELETE", f"/notes/{note_id}").status_code == 204
    assert api.get(f"/contacts/{created['id']}/notes").json() == []


def test_do_not_contact_is_set_listed_and_lifted(api):
    created = _create(api, "ada@analytical.example")
    marked = api.send("PUT", f"/contacts/{created['id']}/dnc/email", {"reason": "unsubscribed"})
    assert marked.json()["reason"] == "unsubscribed"
    assert [d["channel"] for d in api.get(f"/contacts/{created['id']}/dnc").json()] == ["email"]
    assert api.send("DELETE", f"/contacts/{created['id']}/dnc/email").json() == {"removed": True}
    assert api.get(f"/contacts/{created['id']}/dnc").json() == []


def test_companies_are_created_linked_listed_and_unlinked(api):
    contact = _create(api, "ada@analytical.example")
    company = api.send("POST", "/companies", {"fields": {"companyname": "Analytical Engines", "companycity": "London"}})
    assert company.status_code == 201
    company_id = company.json()["id"]
    link = api.send("PUT", f"/companies/{company_id}/contacts/{contact['id']}", {})
    assert link.json()["is_primary"] is True
    links = api.get(f"/contacts/{contact['id']}/companies").json()
    assert [entry["company"]["name"] for entry in links] == ["Analytical Engines"]
    assert api.get(f"/contacts/{contact['id']}").json()["fields"]["company"] == "Analytical Engines"
    assert api.send("DELETE", f"/companies/{company_id}/contacts/{contact['id']}").status_code == 204
    assert api.get(f"/contacts/{contact['id']}/companies").json() == []


def test_companies_are_listed_changed_and_deleted(api):
    for name in ("Cogsworth & Co", "Analytical Engines"):
        api.send("POST", "/companies", {"fields": {"companyname": name}})
    page = api.get("/companies").json()
    assert [c["name"] for c in page["items"]] == ["Analytical Engines", "Cogsworth & Co"]
    company_id = page["items"][0]["id"]
    changed = api.send("PATCH", f"/companies/{company_id}", {"fields": {"companycity": "London"}}).json()
    assert changed["fields"]["companycity"] == "London"
    assert api.send("DELETE", f"/companies/{company_id}").status_code == 204
    assert api.get(f"/companies/{company_id}").status_code == 404


def test_a_company_needs_a_name(api):
    assert api.send("POST", "/companies", {"fields": {"companycity": "London"}}).status_code == 422


def test_custom_fields_are_created_used_changed_and_archived(api):
    response = api.send("POST", "/fields", {"alias": "shoe_size", "label": "Shoe size", "type": "number"})
    assert response.status_code == 201
    field_id = response.json()["id"]
    contact = _create(api, "ada@analytical.example", shoe_size=38)
    assert api.get(f"/contacts/{contact['id']}").json()["fields"]["shoe_size"] == 38
    assert api.send("PATCH", f"/fields/{field_id}", {"label": "Shoe size (EU)"}).json()["label"] == "Shoe size (EU)"
    assert api.send("POST", f"/fields/{field_id}/archive").json()["archived"] is True
    assert "shoe_size" not in [f["alias"] for f in api.get("/fields").json()]
    assert "shoe_size" in [f["alias"] for f in api.get("/fields", {"include_archived": True}).json()]
    assert api.send("POST", f"/fields/{field_id}/restore").json()["archived"] is False


def test_a_health_field_needs_an_acknowledgment(api):
    body = {"alias": "allergies", "label": "Allergies", "category": "user.health_and_medical"}
    assert api.send("POST", "/fields", body).status_code == 422


def test_core_fields_cannot_be_archived(api):
    email = next(f for f in api.get("/fields").json() if f["alias"] == "email")
    assert api.send("POST", f"/fields/{email['id']}/archive").status_code == 422


def test_tags_have_crud(api):
    created = api.send("POST", "/tags", {"name": "vip", "description": "Our best"})
    assert created.status_code == 201
    tag_id = created.json()["id"]
    assert api.send("PATCH", f"/tags/{tag_id}", {"name": "VIP"}).json()["name"] == "VIP"
    assert [t["name"] for t in api.get("/tags").json()] == ["VIP"]
    assert api.send("POST", "/tags", {"name": "VIP"}).status_code == 422
    assert api.send("DELETE", f"/tags/{tag_id}").status_code == 204
    assert api.get(f"/tags/{tag_id}").status_code == 404


def test_the_timeline_lists_events_newest_first(api):
    created = _create(api, "ada@analytical.example")
    api.send("PUT", f"/contacts/{created['id']}/dnc/email", {"reason": "manual"})
    items = api.get(f"/contacts/{created['id']}/timeline").json()["items"]
    assert [e["type"] for e in items] == ["contact.dnc_added", "contact.created"]


def test_reading_contacts_needs_contacts_view(analyst_api):
    response = analyst_api.get("/contacts")
    assert response.status_code == 403
    assert response.json()["error"]["details"] == {"permission": "contacts:view"}


def test_another_workspaces_contact_is_not_found(api, globex):
    from tidings.contacts import actions

    with use_workspace(globex):
        theirs = actions.contact_create({"email": "bob@globex.example"}, principal=system())
    assert api.get(f"/contacts/{theirs.id}").status_code == 404
    assert api.send("PATCH", f"/contacts/{theirs.id}", {"fields": {"city": "Paris"}}).status_code == 404


def test_the_openapi_document_describes_the_contact_endpoints(client, acme):
    document = client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    for route in (
        "/api/v1/contacts",
        "/api/v1/contacts/{contact_id}",
        "/api/v1/contacts/batch/create",
        "/api/v1/companies/{company_id}/contacts/{contact_id}",
        "/api/v1/fields",
        "/api/v1/tags/{tag_id}",
    ):
        assert route in paths, route
    schemas = document["components"]["schemas"]
    assert {"ContactOut", "ContactIn", "BatchOut", "CompanyOut", "FieldOut", "TagOut", "NoteOut"} <= set(schemas)
    assert paths["/api/v1/contacts"]["get"]["responses"]["200"]["content"]
