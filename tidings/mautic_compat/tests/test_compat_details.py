"""Mautic details that real clients rely on: deleted ids, batch-delete ids, sorting, select[] and published.

Facts from Mautic 5.1 (read, not copied): deleteEntityAction serialises after removing the
entity, and Doctrine nulls a generated id on removal, so a single delete answers "id": null;
deleteEntitiesAction serialises before removing, so a batch delete keeps the ids.
BatchIdToEntityHelper reads ?ids=1,2, ?ids=1, ids[] or, without ids, every query parameter,
and keys the answer as the request did. Lists sort by orderBy/orderByDir or order[] (order[]
wins), select[] limits what is read and drops nulls, published=1 keeps published entities.
"""

import json

import pytest

from tidings.tenancy.context import use_workspace


def _json(client, method, path, body, headers):
    return getattr(client, method)(path, json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def system(acme):
    from tidings.accounts.permissions import system_principal

    return system_principal(acme, reason="test:fixture")


@pytest.fixture
def people(acme, system):
    """Three Acme contacts with points 30, 10 and 20, created in that order."""
    from tidings.contacts import actions

    with use_workspace(acme):
        return [
            actions.contact_create({"email": f"p{points}@contact.example", "points": points}, principal=system)
            for points in (30, 10, 20)
        ]


def _error(response, status=400):
    assert response.status_code == status, response.content
    return response.json()["errors"][0]


# ==============================================================================================
# Deleted entities answer "id": null


def _created(client, headers, kind):
    """Create one entity of kind through the API; return its delete path and its plural key."""
    bodies = {
        "contacts": {"email": "ada@analytical.example"},
        "companies": {"companyname": "Analytical Engines"},
        "tags": {"tag": "vip"},
        "fields/contact": {"label": "Shoe size", "type": "number"},
    }
    response = _json(client, "post", f"/api/{kind}/new", bodies[kind], headers)
    assert response.status_code == 201, response.content
    one = next(iter(response.json().values()))
    return f"/api/{kind}/{one['id']}/delete"


@pytest.mark.parametrize(
    ("kind", "one"), [("contacts", "contact"), ("companies", "company"), ("tags", "tag"), ("fields/contact", "field")]
)
def test_a_deleted_entity_is_answered_with_id_null(client, alice_basic, acme, kind, one):
    response = client.delete(_created(client, alice_basic, kind), **alice_basic)
    assert response.status_code == 200
    assert response.json()[one]["id"] is None


def test_a_deleted_note_is_answered_with_id_null(client, alice_basic, people):
    note = _json(client, "post", "/api/notes/new", {"lead": people[0].id, "text": "Hello."}, alice_basic).json()["note"]
    assert client.delete(f"/api/notes/{note['id']}/delete", **alice_basic).json()["note"]["id"] is None


def test_a_deleted_contacts_flat_fields_lose_the_id_too(client, alice_basic, people):
    contact = client.delete(f"/api/contacts/{people[0].id}/delete", **alice_basic).json()["contact"]
    assert contact["fields"]["all"]["id"] is None
    assert contact["fields"]["all"]["email"] == "p30@contact.example"


def test_a_batch_delete_keeps_the_ids_as_mautic_serialises_before_removing(client, alice_basic, people):
    body = client.delete(f"/api/contacts/batch/delete?ids={people[0].id},{people[1].id}", **alice_basic).json()
    assert [c["id"] for c in body["contacts"]] == [people[0].id, people[1].id]


# ==============================================================================================
# Batch delete ids, read as Mautic's BatchIdToEntityHelper reads them


def test_a_batch_delete_takes_a_scalar_id_keyed_by_its_name(client, alice_basic, acme, people):
    response = client.delete(f"/api/contacts/batch/delete?id={people[0].id}", **alice_basic)
    assert response.status_code == 200
    assert list(response.json()["contacts"]) == ["id"]
    assert response.json()["contacts"]["id"]["fields"]["all"]["email"] == "p30@contact.example"
    assert client.get(f"/api/contacts/{people[0].id}", **alice_basic).status_code == 404


def test_a_batch_delete_takes_a_single_id_in_ids(client, alice_basic, people):
    body = client.delete(f"/api/contacts/batch/delete?ids={people[1].id}", **alice_basic).json()
    assert [c["id"] for c in body["contacts"]] == [people[1].id]


def test_a_batch_delete_keeps_the_keys_of_an_ids_object(client, alice_basic, people):
    missing = 999_999_999_999  # beyond any sequence the suite reaches
    body = client.delete(f"/api/contacts/batch/delete?ids[first]={people[0].id}&ids[x]={missing}", **alice_basic).json()
    assert list(body["contacts"]) == ["first"]
    assert body["errors"] == {"x": {"message": "Item was not found.", "code": 404, "type": "api"}}


def test_a_batch_delete_takes_ids_from_objects_of_the_query(client, alice_basic, people):
    body = client.delete(f"/api/contacts/batch/delete?0[id]={people[0].id}&1[id]={people[2].id}", **alice_basic)
    assert [c["id"] for c in body.json()["contacts"]] == [people[0].id, people[2].id]


def test_a_batch_delete_scalar_works_for_tags_too(client, alice_basic, acme):
    tag = _json(client, "post", "/api/tags/new", {"tag": "vip"}, alice_basic).json()["tag"]
    body = client.delete(f"/api/tags/batch/delete?id={tag['id']}", **alice_basic).json()
    assert body["tags"] == {"id": {"id": tag["id"], "tag": "vip", "description": None}}


@pytest.mark.parametrize("raw", ["²", "99999999999999999999999", "-1", "abc"])
def test_a_batch_delete_answers_an_impossible_id_as_not_found(client, alice_basic, acme, raw):
    body = client.delete("/api/contacts/batch/delete", {"id": raw}, QUERY_STRING=f"id={raw}", **alice_basic)
    assert body.status_code == 200
    assert body.json()["errors"] == {"id": {"message": "Item was not found.", "code": 404, "type": "api"}}


# ==============================================================================================
# Sorting: honoured, or refused naming what is supported; never ignored


def _points(client, headers, query):
    response = client.get(f"/api/contacts?{query}", **headers)
    assert response.status_code == 200, response.content
    return [c["points"] for c in response.json()["contacts"].values()]


def test_contacts_sort_by_order_by_and_direction(client, alice_basic, people):
    assert _points(client, alice_basic, "orderBy=points") == [10, 20, 30]
    assert _points(client, alice_basic, "orderBy=points&orderByDir=DESC") == [30, 20, 10]


def test_contacts_sort_by_order_array_which_wins_over_order_by(client, alice_basic, people):
    query = "order[0][col]=points&order[0][dir]=DESC&orderBy=id"
    assert _points(client, alice_basic, query) == [30, 20, 10]


def test_contacts_sort_by_date_added_with_an_id_tie_breaker(client, alice_basic, people):
    assert _points(client, alice_basic, "orderBy=date_added,id&orderByDir=DESC") == [20, 10, 30]


def test_sorting_contacts_by_an_encrypted_field_is_refused_naming_the_sortable_columns(client, alice_basic, people):
    error = _error(client.get("/api/contacts?orderBy=email", **alice_basic))
    assert error["message"] == (
        "orderBy: cannot sort by email (its values are encrypted); "
        "sortable columns: date_added, id, last_active, points."
    )
    assert "orderBy" in error["details"]


def test_sorting_contacts_by_an_unindexed_column_is_refused(client, alice_basic, people):
    error = _error(client.get("/api/contacts?order[0][col]=city&order[0][dir]=ASC", **alice_basic))
    assert error["message"].startswith("order: cannot sort by city (it is not sortable); sortable columns: ")


def test_sorting_contacts_by_two_columns_is_refused(client, alice_basic, people):
    error = _error(client.get("/api/contacts?orderBy=points,last_active", **alice_basic))
    assert "one column at a time" in error["message"]


def test_companies_sort_by_name_either_way_and_by_id(client, alice_basic, acme, system):
    from tidings.contacts import actions

    with use_workspace(acme):
        for name in ("Babbage & Co", "Analytical Engines", "Difference Works"):
            actions.company_create({"companyname": name}, principal=system)

    def names(query):
        body = client.get(f"/api/companies?{query}", **alice_basic).json()
        return [c["fields"]["all"]["companyname"] for c in body["companies"].values()]

    assert names("orderBy=companyname&orderByDir=DESC") == ["Difference Works", "Babbage & Co", "Analytical Engines"]
    assert names("orderBy=id") == ["Babbage & Co", "Analytical Engines", "Difference Works"]
    assert _error(client.get("/api/companies?orderBy=companycity", **alice_basic))["code"] == 400


def test_tags_sort_by_id_descending(client, alice_basic, acme):
    for name in ("vip", "lead", "newsletter"):
        _json(client, "post", "/api/tags/new", {"tag": name}, alice_basic)
    body = client.get("/api/tags?orderBy=id&orderByDir=DESC", **alice_basic).json()
    assert [t["tag"] for t in body["tags"].values()] == ["newsletter", "lead", "vip"]


def test_the_tag_list_counts_and_pages_past_its_first_200(client, alice_basic, acme, system):
    from tidings.contacts import actions

    with use_workspace(acme):
        for i in range(205):
            actions.tag_create(f"t{i:03}", principal=system)
    body = client.get("/api/tags?start=200&limit=10", **alice_basic).json()
    assert body["total"] == 205
    assert [t["tag"] for t in body["tags"].values()] == ["t200", "t201", "t202", "t203", "t204"]


def test_fields_sort_by_label_descending(client, alice_basic, acme):
    body = client.get("/api/fields/contact?orderBy=label&orderByDir=DESC&limit=200", **alice_basic).json()
    labels = [f["label"] for f in body["fields"].values()]
    assert labels == sorted(labels, reverse=True)


def test_notes_sort_oldest_first_when_asked(client, alice_basic, people):
    for text in ("First.", "Second."):
        _json(client, "post", "/api/notes/new", {"lead": people[0].id, "text": text}, alice_basic)
    oldest = client.get("/api/notes?orderBy=dateAdded&orderByDir=ASC", **alice_basic).json()["notes"]
    newest = client.get(f"/api/contacts/{people[0].id}/notes?orderBy=dateAdded", **alice_basic).json()["notes"]
    assert [n["text"] for n in oldest.values()] == ["First.", "Second."]
    assert [n["text"] for n in newest.values()] == ["Second.", "First."]  # this route defaults to DESC in Mautic


def test_sorting_notes_by_their_encrypted_text_is_refused(client, alice_basic, people):
    error = _error(client.get("/api/notes?orderBy=text", **alice_basic))
    assert "(its values are encrypted)" in error["message"]


def test_activity_in_mautics_default_order_is_answered(client, alice_basic, people):
    response = client.get(f"/api/contacts/{people[0].id}/activity?order[]=timestamp&order[]=DESC", **alice_basic)
    assert response.status_code == 200
    assert response.json()["order"] == ["timestamp", "DESC"]


def test_activity_oldest_first_is_refused_rather_than_ignored(client, alice_basic, people):
    error = _error(client.get(f"/api/contacts/{people[0].id}/activity?order[]=timestamp&order[]=ASC", **alice_basic))
    assert error["message"] == "order: activity is listed newest first only: order[]=timestamp&order[]=DESC."


# ==============================================================================================
# select[]


def test_select_limits_a_contacts_fields_and_drops_nulls(client, alice_basic, people):
    body = client.get("/api/contacts?select[]=email&select[]=points&orderBy=id", **alice_basic).json()
    contact = body["contacts"][str(people[0].id)]
    assert contact["fields"]["all"] == {"id": people[0].id, "email": "p30@contact.example", "points": 30}
    assert list(contact["fields"]["core"]) == ["email", "points"]
    assert "color" not in contact and "owner" not in contact  # nulls are left out, as Mautic does
    assert contact["points"] == 30


def test_select_works_on_a_single_contact(client, alice_basic, people):
    contact = client.get(f"/api/contacts/{people[0].id}?select[]=email", **alice_basic).json()["contact"]
    assert contact["fields"]["all"] == {"id": people[0].id, "email": "p30@contact.example"}


def test_select_limits_a_companys_fields(client, alice_basic, acme):
    body = {"companyname": "Analytical Engines", "companycity": "London"}
    _json(client, "post", "/api/companies/new", body, alice_basic)
    company = next(iter(client.get("/api/companies?select[]=companyname", **alice_basic).json()["companies"].values()))
    assert set(company["fields"]["all"]) == {"id", "companyname"}


def test_select_limits_a_tags_properties(client, alice_basic, acme):
    _json(client, "post", "/api/tags/new", {"tag": "vip", "description": "Our best"}, alice_basic)
    tags = client.get("/api/tags?select[]=tag", **alice_basic).json()["tags"]
    assert [set(t) for t in tags.values()] == [{"id", "tag"}]


def test_select_of_a_field_property_by_its_column_name(client, alice_basic, acme):
    fields = client.get("/api/fields/contact?select[]=alias&select[]=date_added", **alice_basic).json()["fields"]
    assert all(set(f) == {"id", "alias", "dateAdded"} for f in fields.values())


@pytest.mark.parametrize("path", ["/api/contacts", "/api/tags", "/api/fields/contact"])
def test_select_of_an_unknown_column_is_refused(client, alice_basic, people, path):
    error = _error(client.get(f"{path}?select[]=shoe_size", **alice_basic))
    assert error["details"] == {"select": [error["message"].removeprefix("select: ").removesuffix(".")]}
    assert "shoe_size" in error["message"]


# ==============================================================================================
# published


def test_published_keeps_only_published_fields(client, alice_basic, acme):
    field = _json(client, "post", "/api/fields/contact/new", {"label": "Shoe size"}, alice_basic).json()["field"]
    client.delete(f"/api/fields/contact/{field['id']}/delete", **alice_basic)
    everything = client.get("/api/fields/contact?limit=200", **alice_basic).json()["fields"]
    published = client.get("/api/fields/contact?limit=200&published=1", **alice_basic).json()["fields"]
    assert str(field["id"]) in everything
    assert str(field["id"]) not in published
    assert all(f["isPublished"] for f in published.values())


def test_published_contacts_are_all_contacts(client, alice_basic, people):
    body = client.get("/api/contacts?publishedOnly=1", **alice_basic).json()
    assert body["total"] == "3"


def test_published_is_refused_for_tags_which_have_no_published_state(client, alice_basic, acme):
    error = _error(client.get("/api/tags?published=1", **alice_basic))
    assert error["message"] == "published: tags have no published state; leave published out."
