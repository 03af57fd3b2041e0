"""Mautic-compatible contacts and notes, with payloads as the official PHP client (mautic/api-library) sends them.

The client sends bodies JSON-encoded, or form-encoded with PHP's http_build_query
(tags[0]=a&doNotContact[0][reason]=1); both are exercised.
"""

import json
from urllib.parse import urlencode

import pytest

from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system


def _json(client, method, path, body, headers):
    return getattr(client, method)(path, json.dumps(body), content_type="application/json", **headers)


def _form(client, method, path, pairs, headers):
    return getattr(client, method)(path, urlencode(pairs), content_type="application/x-www-form-urlencoded", **headers)


@pytest.fixture
def ada(acme):
    from tidings.contacts import actions

    with use_workspace(acme):
        contact = actions.contact_create(
            {"email": "ada@analytical.example", "firstname": "Ada", "lastname": "Quillfeather", "city": "London"},
            tags=["mathematics"],
            principal=system(),
        )
    return contact


def test_get_contact_answers_mautics_full_shape(client, alice_basic, ada):
    response = client.get(f"/api/contacts/{ada.id}", **alice_basic)
    assert response.status_code == 200
    contact = response.json()["contact"]
    for key in (
        "id",
        "isPublished",
        "dateAdded",
        "dateModified",
        "points",
        "color",
        "fields",
        "lastActive",
        "owner",
        "ipAddresses",
        "tags",
        "utmtags",
        "stage",
        "dateIdentified",
        "doNotContact",
        "frequencyRules",
    ):
        assert key in contact, key
    assert set(contact["fields"]) == {"core", "social", "personal", "professional", "all"}
    assert contact["fields"]["core"]["firstname"]["value"] == "Ada"
    assert contact["fields"]["core"]["firstname"]["type"] == "text"
    assert contact["fields"]["all"]["email"] == "ada@analytical.example"
    assert contact["fields"]["all"]["id"] == ada.id
    assert contact["fields"]["personal"] == [] and contact["fields"]["professional"] == []
    assert isinstance(contact["points"], int)
    assert contact["tags"][0]["tag"] == "mathematics"
    assert contact["dateAdded"].endswith("+00:00")


def test_the_list_keys_contacts_by_id_with_a_string_total(client, alice_basic, ada):
    body = client.get("/api/contacts", **alice_basic).json()
    assert body["total"] == "1"
    assert list(body["contacts"]) == [str(ada.id)]


def test_an_empty_list_is_an_object_with_total_0(client, alice_basic, acme):
    assert client.get("/api/contacts", **alice_basic).json() == {"total": 0, "contacts": {}}


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("email:ada@analytical.example", True),
        ("email:grace@navy.example", False),
        ("tag:mathematics", True),
        ("quillfeather", True),
        ("is:anonymous", False),
        ("company:Analytical", False),
    ],
)
def test_search_commands(client, alice_basic, ada, search, found):
    body = client.get("/api/contacts", {"search": search}, **alice_basic).json()
    assert (str(ada.id) in body["contacts"]) is found


def test_ids_and_owner_search_commands(client, alice_basic, alice, acme, ada):
    from tidings.contacts import actions

    with use_workspace(acme):
        actions.contact_update(ada.id, {"owner": alice.pk}, principal=system())
        other = actions.contact_create({"email": "grace@navy.example"}, principal=system())
    assert list(client.get("/api/contacts", {"search": f"ids:{other.id}"}, **alice_basic).json()["contacts"]) == [
        str(other.id)
    ]
    by_owner = client.get("/api/contacts", {"search": "owner:alice@acme.example"}, **alice_basic).json()
    assert list(by_owner["contacts"]) == [str(ada.id)]
    assert list(client.get("/api/contacts", {"search": "is:mine"}, **alice_basic).json()["contacts"]) == [str(ada.id)]


def test_where_start_limit_and_order(client, alice_basic, acme):
    from tidings.contacts import actions

    with use_workspace(acme):
        for i, points in enumerate((5, 50, 20, 70)):
            actions.contact_create(
                {"email": f"p{i}@acme.example", "points": points, "country": "Portugal"}, principal=system()
            )
    query = (
        "where[0][col]=points&where[0][expr]=gte&where[0][val]=20"
        "&where[1][col]=country&where[1][expr]=eq&where[1][val]=Portugal"
        "&orderBy=points&orderByDir=DESC&start=1&limit=1"
    )
    body = client.get(f"/api/contacts?{query}", **alice_basic).json()
    assert body["total"] == "3"
    assert [c["points"] for c in body["contacts"].values()] == [50]


def test_where_on_an_encrypted_substring_is_refused(client, alice_basic, ada):
    query = "where[0][col]=email&where[0][expr]=like&where[0][val]=%25ada%25"
    response = client.get(f"/api/contacts?{query}", **alice_basic)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 400


def test_minimal_lists_the_list_shape(client, alice_basic, ada):
    contact = client.get("/api/contacts", {"minimal": "true"}, **alice_basic).json()["contacts"][str(ada.id)]
    assert set(contact) == {"id", "points", "color", "fields"}


def test_new_creates_with_201_and_location(client, alice_basic, acme):
    body = {
        "firstname": "Jim",
        "email": "jim@contact.example",
        "tags": ["a", "b"],
        "ipAddress": "192.0.2.4",
        "doNotContact": [{"reason": 1, "channel": "email"}],
        "title": "Mr",
    }
    response = _json(client, "post", "/api/contacts/new", body, alice_basic)
    assert response.status_code == 201
    contact = response.json()["contact"]
    assert response["Location"].endswith(f"/api/contacts/{contact['id']}")
    assert sorted(t["tag"] for t in contact["tags"]) == ["a", "b"]
    assert contact["doNotContact"][0]["reason"] == 1
    assert contact["fields"]["all"]["firstname"] == "Jim"


def test_new_with_a_known_email_updates_that_contact_with_200(client, alice_basic, ada):
    pairs = [
        ("email", "ada@analytical.example"),
        ("city", "Paris"),
        ("firstname", ""),
        ("tags[0]", "-mathematics"),
        ("tags[1]", "poetry"),
    ]
    response = _form(client, "post", "/api/contacts/new", pairs, alice_basic)
    assert response.status_code == 200
    contact = response.json()["contact"]
    assert contact["id"] == ada.id
    assert contact["fields"]["all"]["city"] == "Paris"
    assert contact["fields"]["all"]["firstname"] == "Ada"  # a blank does not overwrite without overwriteWithBlank
    assert [t["tag"] for t in contact["tags"]] == ["poetry"]


def test_overwrite_with_blank_clears_fields(client, alice_basic, ada):
    body = {"email": "ada@analytical.example", "city": "", "overwriteWithBlank": True}
    contact = _json(client, "post", "/api/contacts/new", body, alice_basic).json()["contact"]
    assert contact["fields"]["all"]["city"] is None


def test_owner_and_last_active_are_set_on_new(client, alice_basic, alice, acme):
    body = {"email": "jim@contact.example", "owner": alice.pk, "lastActive": "2024-05-01 10:00:00"}
    contact = _json(client, "post", "/api/contacts/new", body, alice_basic).json()["contact"]
    assert contact["owner"]["username"] == "alice@acme.example"
    assert contact["lastActive"] == "2024-05-01T10:00:00+00:00"


def test_invalid_values_answer_400_in_mautics_form_error_shape(client, alice_basic, acme):
    response = _json(client, "post", "/api/contacts/new", {"email": "not an address"}, alice_basic)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["message"].startswith("email:")
    assert "email" in error["details"]


def test_patch_of_a_missing_contact_is_404_and_put_creates_it(client, alice_basic, acme):
    missing = "/api/contacts/999999999999/edit"  # an id beyond any sequence the suite reaches
    assert _json(client, "patch", missing, {"firstname": "Jim"}, alice_basic).status_code == 404
    response = _json(client, "put", missing, {"email": "jim@contact.example"}, alice_basic)
    assert response.status_code == 201


def test_patch_changes_given_fields_and_put_clears_the_rest(client, alice_basic, ada):
    patched = _json(client, "patch", f"/api/contacts/{ada.id}/edit", {"city": "Paris"}, alice_basic).json()
    assert patched["contact"]["fields"]["all"]["firstname"] == "Ada"
    put = _json(client, "put", f"/api/contacts/{ada.id}/edit", {"email": "ada@analytical.example"}, alice_basic)
    assert put.status_code == 200
    assert put.json()["contact"]["fields"]["all"]["firstname"] is None


def test_edit_merges_a_duplicate_found_by_email(client, alice_basic, acme, ada):
    from tidings.contacts import actions

    with use_workspace(acme):
        other = actions.contact_create(
            {"email": "ada.l@analytical.example", "city": "Paris"}, tags=["poetry"], principal=system()
        )
    body = {"email": "ada@analytical.example"}
    response = _json(client, "patch", f"/api/contacts/{other.id}/edit", body, alice_basic)
    assert response.status_code == 200
    contact = response.json()["contact"]
    assert contact["id"] == other.id
    assert sorted(t["tag"] for t in contact["tags"]) == ["mathematics", "poetry"]
    assert client.get(f"/api/contacts/{ada.id}", **alice_basic).status_code == 404


def test_delete_answers_the_contact_as_it_was(client, alice_basic, ada):
    response = client.delete(f"/api/contacts/{ada.id}/delete", **alice_basic)
    assert response.json()["contact"]["fields"]["all"]["email"] == "ada@analytical.example"
    assert client.get(f"/api/contacts/{ada.id}", **alice_basic).status_code == 404


def test_batch_new_reports_status_codes_and_errors(client, alice_basic, ada):
    batch = [{"email": "ada@analytical.example", "city": "Paris"}, {"email": "new@contact.example"}, {"email": "x"}]
    response = _json(client, "post", "/api/contacts/batch/new", batch, alice_basic)
    assert response.status_code == 201
    body = response.json()
    assert body["statusCodes"] == [200, 201, 400]
    # PHP sends an array keyed 0..n-1 as a JSON list, any other as an object: so do we.
    assert [c["fields"]["all"]["email"] for c in body["contacts"]] == ["ada@analytical.example", "new@contact.example"]
    assert body["errors"]["2"]["code"] == 400


def test_batch_edit_needs_ids_and_answers_404_for_patch_of_unknown_ones(client, alice_basic, ada):
    pairs = [("0[id]", str(ada.id)), ("0[city]", "Paris"), ("1[id]", "999999999999"), ("1[city]", "Rome")]
    body = _form(client, "patch", "/api/contacts/batch/edit", pairs, alice_basic).json()
    assert body["statusCodes"] == [200, 404]
    assert body["errors"]["1"] == {"message": "Item was not found.", "code": 404, "type": "api"}
    assert body["contacts"][0]["fields"]["all"]["city"] == "Paris"


def test_batch_delete_takes_ids_from_the_query(client, alice_basic, ada):
    body = client.delete(f"/api/contacts/batch/delete?ids={ada.id},999999999999", **alice_basic).json()
    assert body["contacts"][0]["id"] == ada.id
    assert body["errors"] == {"1": {"message": "Item was not found.", "code": 404, "type": "api"}}


def test_batches_are_capped(client, alice_basic, acme):
    batch = [{"email": f"p{i}@acme.example"} for i in range(201)]
    response = _json(client, "post", "/api/contacts/batch/new", batch, alice_basic)
    assert response.status_code == 400


def test_bobs_batch_delete_of_acmes_contact_is_a_404_item(client, ada, bob, globex):
    import base64

    from tidings.tests.principals import allow_password_basic

    allow_password_basic(globex)
    raw = base64.b64encode(b"bob@globex.example:correct horse battery staple").decode()
    headers = {"HTTP_AUTHORIZATION": f"Basic {raw}"}
    body = client.delete(f"/api/contacts/batch/delete?ids={ada.id}", **headers).json()
    assert body == {"contacts": [], "errors": [{"message": "Item was not found.", "code": 404, "type": "api"}]}


@pytest.mark.parametrize("route", ["dnc/email/add", "dnc/add/email"])
def test_dnc_add_in_both_route_forms(client, alice_basic, ada, route):
    response = _form(
        client, "post", f"/api/contacts/{ada.id}/{route}", [("reason", "2"), ("comments", "Bounced")], alice_basic
    )
    assert response.status_code == 200
    assert response.json()["contact"]["doNotContact"][0]["reason"] == 2


def test_dnc_reason_0_is_refused(client, alice_basic, ada):
    response = _form(client, "post", f"/api/contacts/{ada.id}/dnc/email/add", [("reason", "0")], alice_basic)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Invalid reason code given"


@pytest.mark.parametrize("route", ["dnc/email/remove", "dnc/remove/email"])
def test_dnc_remove_says_whether_a_record_was_found(client, alice_basic, ada, route):
    client.post(f"/api/contacts/{ada.id}/dnc/email/add", **alice_basic)
    body = client.post(f"/api/contacts/{ada.id}/{route}", **alice_basic).json()
    assert body["recordFound"] is True
    assert body["contact"]["doNotContact"] == []


def test_contact_notes_companies_segments_and_activity(client, alice_basic, acme, ada):
    from tidings.contacts import actions

    with use_workspace(acme):
        note = actions.note_add(ada.id, "Met at the Royal Society.", type="meeting", principal=system())
        company = actions.company_create({"companyname": "Analytical Engines"}, principal=system())
        actions.company_link(ada.id, company.id, principal=system())
    notes = client.get(f"/api/contacts/{ada.id}/notes", **alice_basic).json()
    assert notes["total"] == 1
    assert notes["notes"][str(note.id)]["text"] == "Met at the Royal Society."
    companies = client.get(f"/api/contacts/{ada.id}/companies", **alice_basic).json()
    assert companies["companies"][0]["companyname"] == "Analytical Engines"
    assert companies["companies"][0]["is_primary"] == 1
    assert client.get(f"/api/contacts/{ada.id}/segments", **alice_basic).json() == {"total": 0, "lists": []}
    activity = client.get(f"/api/contacts/{ada.id}/activity", **alice_basic).json()
    assert {"events", "filters", "order", "types", "total", "page", "limit", "maxPages"} <= set(activity)
    # Newest first: the company link and the note (they write events too) come before the creation.
    assert [e["event"] for e in activity["events"]][:2] == ["contact.company_linked", "contact.note_added"]
    assert "contact.created" in [e["event"] for e in activity["events"]]


def test_points_change(client, alice_basic, ada):
    assert client.post(f"/api/contacts/{ada.id}/points/plus/15", **alice_basic).json() == {"success": 1}
    client.post(f"/api/contacts/{ada.id}/points/minus/5", **alice_basic)
    assert client.get(f"/api/contacts/{ada.id}", **alice_basic).json()["contact"]["points"] == 10


def test_list_fields_and_owners(client, alice_basic, alice, acme):
    fields = client.get("/api/contacts/list/fields", **alice_basic).json()
    assert "email" in {f["alias"] for f in fields.values()}
    owners = client.get("/api/contacts/list/owners", **alice_basic).json()
    assert owners == [{"id": alice.pk, "firstName": alice.first_name, "lastName": alice.last_name}]


def test_notes_standard_routes(client, alice_basic, ada):
    created = _json(client, "post", "/api/notes/new", {"lead": ada.id, "text": "Hello.", "type": "call"}, alice_basic)
    assert created.status_code == 201
    note = created.json()["note"]
    assert note["lead"]["id"] == ada.id
    edited = _json(client, "patch", f"/api/notes/{note['id']}/edit", {"text": "Hello again."}, alice_basic)
    assert edited.json()["note"]["text"] == "Hello again."
    assert client.get("/api/notes", **alice_basic).json()["total"] == 1
    assert client.delete(f"/api/notes/{note['id']}/delete", **alice_basic).status_code == 200
    missing_lead = _json(client, "post", "/api/notes/new", {"text": "Orphan."}, alice_basic)
    assert missing_lead.json()["errors"][0]["message"] == "lead ID is mandatory"


def test_the_workspace_base_serves_the_same_contacts(client, alice_bearer, acme, ada):
    assert client.get(f"/m/{acme.slug}/api/contacts/{ada.id}", **alice_bearer).status_code == 200


def test_without_contacts_view_the_answer_is_403(client, acme, make_user):
    import base64

    from tidings.accounts.actions import membership_create
    from tidings.tests.principals import allow_password_basic

    allow_password_basic(acme)
    membership_create(workspace=acme, user=make_user("ivan@acme.example"), role="analyst", principal=system(acme))
    raw = base64.b64encode(b"ivan@acme.example:correct horse battery staple").decode()
    response = client.get("/api/contacts", HTTP_AUTHORIZATION=f"Basic {raw}")
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == "You do not have access to the requested area/action."


def test_the_contact_list_costs_the_same_queries_for_2_or_20_contacts(client, alice_bearer, acme):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from tidings.contacts import actions

    def measure():
        client.get("/api/contacts", **alice_bearer)
        with CaptureQueriesContext(connections["default"]) as g, CaptureQueriesContext(connections["region_eu"]) as r:
            body = client.get("/api/contacts", **alice_bearer).json()
        return len(g.captured_queries) + len(r.captured_queries), len(body["contacts"])

    with use_workspace(acme):
        few_contacts = [
            actions.contact_create({"email": f"few{i}@acme.example"}, tags=[f"t{i}"], principal=system())
            for i in range(2)
        ]
        actions.dnc_add(few_contacts[0].id, principal=system())
    few = measure()
    with use_workspace(acme):
        for i in range(18):
            contact = actions.contact_create({"email": f"many{i}@acme.example"}, tags=[f"m{i}"], principal=system())
            actions.dnc_add(contact.id, principal=system())
    many = measure()
    assert (few[1], many[1]) == (2, 20)
    assert many[0] == few[0]
