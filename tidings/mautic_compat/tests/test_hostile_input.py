"""Hostile input to the Mautic-compatible API: every request the review saw answered 500 is now a 4xx in Mautic's shape.

One parametrised case per 500 found (integers beyond 64 bits, Unicode digits, year-0 dates,
1e400/NaN points, deeply nested and oversized bodies, wrong types), then the silent failures:
a JSON body sent as text/plain, NUL characters, and tag names that used to be cut.
"""

import json

import pytest

from tidings.tenancy.context import use_workspace

BIG = "99999999999999999999"  # beyond 64 bits
DEEP = "[" * 100_000 + "]" * 100_000
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def ada_id(acme):
    from tidings.accounts.permissions import system_principal
    from tidings.contacts import actions

    with use_workspace(acme):
        principal = system_principal(acme, reason="test fixture")
        return actions.contact_create({"email": "ada@analytical.example"}, principal=principal).id


def _call(client, headers, method, path, body=None, content_type=JSON):
    call = getattr(client, method.lower())
    if body is None:
        return call(path, **headers)
    return call(path, data=body, content_type=content_type, **headers)


def _new(**values) -> str:
    return json.dumps({"email": "lin@acme.example", **values})


# (method, path, body, content type, expected status); "{ada}" is a contact of Acme.
CASES = {
    "start beyond 64 bits": ("GET", f"/api/contacts?start={BIG}", None, None, 400),
    "ids: beyond 64 bits": ("GET", f"/api/contacts?search=ids:{BIG}", None, None, 400),
    "ids: a Unicode digit": ("GET", "/api/contacts?search=ids:²", None, None, 400),
    "owner: a Unicode digit": ("GET", "/api/contacts?search=owner:²", None, None, 200),
    "where id beyond 64 bits": (
        "GET", f"/api/contacts?where[0][col]=id&where[0][expr]=eq&where[0][val]={BIG}", None, None, 400),
    "where with a Unicode digit key": (
        "GET", "/api/contacts?where[²][col]=id&where[²][expr]=eq&where[²][val]=1", None, None, 200),
    "where last_active in year 0": (
        "GET", "/api/contacts?where[0][col]=last_active&where[0][expr]=gt&where[0][val]=0000-01-01", None, None, 400),
    "notes start beyond 64 bits": ("GET", f"/api/notes?start={BIG}", None, None, 400),
    "companies start beyond 64 bits": ("GET", f"/api/companies?start={BIG}", None, None, 400),
    "points beyond 64 bits": ("POST", "/api/contacts/new", _new(points=BIG), JSON, 400),
    "points 1e400": ("POST", "/api/contacts/new", '{"email": "lin@acme.example", "points": 1e400}', JSON, 400),
    "points NaN": ("POST", "/api/contacts/new", '{"email": "lin@acme.example", "points": NaN}', JSON, 400),
    "points Infinity": ("POST", "/api/contacts/new", '{"email": "lin@acme.example", "points": Infinity}', JSON, 400),
    "points beyond the column": ("POST", "/api/contacts/new", _new(points=3_000_000_000), JSON, 400),
    "lastActive in year 0": ("POST", "/api/contacts/new", _new(lastActive="0000-01-01"), JSON, 400),
    "lastActive past year 9999 in UTC": (
        "POST", "/api/contacts/new", _new(lastActive="9999-12-31T23:59:59-05:00"), JSON, 400),
    "tags a number": ("POST", "/api/contacts/new", _new(tags=5), JSON, 400),
    "owner beyond 64 bits": ("POST", "/api/contacts/new", _new(owner=BIG), JSON, 400),
    "companies beyond 64 bits": ("POST", "/api/contacts/new", _new(companies=[BIG]), JSON, 400),
    "doNotContact a number": ("POST", "/api/contacts/new", _new(doNotContact=5), JSON, 400),
    "a deeply nested body": ("POST", "/api/contacts/new", DEEP, JSON, 400),
    "a deeply nested object": ("POST", "/api/contacts/new", '{"a":' * 50_000 + "1" + "}" * 50_000, JSON, 400),
    "a body over the size limit": ("POST", "/api/contacts/new", "x" * (3 * 1024 * 1024), JSON, 413),
    "a deeply nested batch": ("POST", "/api/contacts/batch/new", DEEP, JSON, 400),
    "a batch edit id in Unicode digits": ("PATCH", "/api/contacts/batch/edit", json.dumps([{"id": "²"}]), JSON, 200),
    "a batch keyed by a Unicode digit": (
        "POST", "/api/contacts/batch/new", json.dumps({"²": {"email": "lin@acme.example"}}), JSON, 201),
    "a points delta beyond 64 bits": ("POST", f"/api/contacts/{{ada}}/points/plus/{BIG}", None, None, 404),
    "a points delta beyond the column": ("POST", "/api/contacts/{ada}/points/plus/3000000000", None, None, 400),
    "a DNC channelId beyond 64 bits": (
        "POST", "/api/contacts/{ada}/dnc/email/add", json.dumps({"channelId": BIG}), JSON, 400),
    "a JSON body sent as text/plain": ("POST", "/api/contacts/new", _new(), "text/plain", 415),
    "a NUL character in a field": ("POST", "/api/contacts/new", _new(firstname="a\x00b"), JSON, 400),
    "a NUL character in a form": (
        "POST", "/api/contacts/new", "email=lin%40acme.example&firstname=a%00b", FORM, 400),
    "a NUL character in a query": ("GET", "/api/contacts?search=a%00b", None, None, 400),
    "a NUL character in a company name": (
        "POST", "/api/companies/new", json.dumps({"companyname": "x\x00"}), JSON, 400),
    "a tag name longer than a tag holds": ("POST", "/api/contacts/new", _new(tags=["x" * 101]), JSON, 400),
    "a tag given as a list": ("POST", "/api/tags/new", json.dumps({"tag": ["x"]}), JSON, 400),
    "a new tag longer than a tag holds": ("POST", "/api/tags/new", json.dumps({"tag": "x" * 101}), JSON, 400),
    "a field label longer than a label holds": (
        "POST", "/api/fields/contact/new", json.dumps({"label": "x" * 200, "alias": "shoe"}), JSON, 400),
    "a company search of a million characters": ("GET", f"/api/companies?search={'x' * 1_000_000}", None, None, 422),
}  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "content_type", "status"), CASES.values(), ids=CASES.keys())
def test_hostile_input_is_a_client_error_in_mautics_shape(
    client, alice_bearer, ada_id, method, path, body, content_type, status
):
    response = _call(client, alice_bearer, method, path.replace("{ada}", str(ada_id)), body, content_type)

    assert response.status_code == status, response.content[:300]
    if status >= 400:
        assert response.json()["errors"][0]["code"] == status
        assert response["Mautic-Version"]


def test_a_json_body_sent_as_text_plain_creates_no_contact(client, alice_bearer, acme):
    from tidings.contacts import selectors

    _call(client, alice_bearer, "POST", "/api/contacts/new", _new(), "text/plain")

    with use_workspace(acme):
        assert selectors.contacts_count() == 0


def test_a_form_encoded_body_still_creates_a_contact(client, alice_bearer):
    response = _call(client, alice_bearer, "POST", "/api/contacts/new", "email=lin%40acme.example", FORM)

    assert response.status_code == 201
    assert response.json()["contact"]["fields"]["all"]["email"] == "lin@acme.example"


def test_a_tag_name_longer_than_a_tag_holds_is_not_cut_into_another_tag(client, alice_bearer, acme):
    from tidings.contacts import selectors

    _call(client, alice_bearer, "POST", "/api/contacts/new", _new(tags=["x" * 101]))

    with use_workspace(acme):
        assert selectors.tags() == []


def test_more_tags_than_the_limit_in_one_request_are_refused(client, alice_bearer, acme, settings):
    from tidings.contacts import selectors

    settings.TIDINGS_MAX_TAGS_PER_REQUEST = 5
    response = _call(client, alice_bearer, "POST", "/api/contacts/new", _new(tags=[f"t{i}" for i in range(6)]))

    assert response.status_code == 400
    assert "at most 5 tags" in response.json()["errors"][0]["message"]
    with use_workspace(acme):
        assert selectors.tags() == []


def test_a_points_change_past_the_column_leaves_the_points_alone(client, alice_bearer, acme, ada_id):
    from tidings.contacts import selectors

    _call(client, alice_bearer, "POST", f"/api/contacts/{ada_id}/points/plus/2000000000")
    response = _call(client, alice_bearer, "POST", f"/api/contacts/{ada_id}/points/times/2")

    assert response.status_code == 400
    with use_workspace(acme):
        assert selectors.contact_get(ada_id).fields["points"] == 2_000_000_000


def test_a_search_longer_than_the_limit_is_a_400(client, alice_bearer):
    from tidings.contacts.search_query import MAX_SEARCH_LENGTH

    response = client.get("/api/contacts", {"search": "x" * (MAX_SEARCH_LENGTH + 1)}, **alice_bearer)

    assert response.status_code == 400
    assert response.json()["errors"][0]["details"] == {"search": [f"at most {MAX_SEARCH_LENGTH} characters"]}
