"""Hostile input to the native API (/api/v1): every request the review saw answered 500 is now a 4xx.

Each answer is in the API's one error format ({"error": {"code", "message", "details"}}):
integers beyond 64 bits in queries and bodies, Unicode digits in search commands and event
codes, forged cursors, deeply nested and oversized bodies, NaN/1e400 points, year-0 dates,
NUL characters and names longer than their column.
"""

import base64
import json

import pytest

from tidings.tenancy.context import use_workspace

BIG = 99999999999999999999  # beyond 64 bits
JSON = "application/json"
OBJECT = [{"a": 1}, 1]  # a sort value no cursor of ours holds


def _cursor(position) -> str:
    """Return a cursor the way the contacts selectors write one, around a forged position."""
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


@pytest.fixture
def token(acme, alice):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    _, secret = api_token_create(workspace=acme, user=alice, name="CRM sync", principal=principal_for_user(alice, acme))
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def ada_id(acme):
    from tidings.accounts.permissions import system_principal
    from tidings.contacts import actions

    with use_workspace(acme):
        principal = system_principal(acme, reason="test fixture")
        return actions.contact_create({"email": "ada@analytical.example"}, principal=principal).id


def _contact(**fields) -> str:
    return json.dumps({"fields": {"email": "lin@acme.example", **fields}})


# (method, path, body, expected status); "{ada}" is a contact of Acme.
CASES = {
    "ids: beyond 64 bits": ("GET", f"/contacts?search=ids:{BIG}", None, 422),
    "ids: a Unicode digit": ("GET", "/contacts?search=ids:²", None, 422),
    "owner: a Unicode digit": ("GET", "/contacts?search=owner:²", None, 422),
    "company_id beyond 64 bits": ("GET", f"/contacts?company_id={BIG}", None, 422),
    "a cursor holding a float infinity": ("GET", "/contacts?cursor=WzEsMWU0MDBd", None, 422),
    "a cursor with an id beyond 64 bits": ("GET", f"/contacts?cursor={_cursor(['x', BIG])}", None, 422),
    "a cursor holding an object, by activity": (
        "GET", f"/contacts?order=last_active&cursor={_cursor(OBJECT)}", None, 422),
    "a cursor holding an object, by points": ("GET", f"/contacts?order=-points&cursor={_cursor(OBJECT)}", None, 422),
    "a cursor holding text, by points": ("GET", f"/contacts?order=-points&cursor={_cursor(['x', 1])}", None, 422),
    "a company cursor holding an object": ("GET", f"/companies?cursor={_cursor(OBJECT)}", None, 422),
    "a timeline cursor holding an object": ("GET", f"/contacts/{{ada}}/timeline?before={_cursor(OBJECT)}", None, 422),
    "a timeline cursor in year 0": (
        "GET", f"/contacts/{{ada}}/timeline?before={_cursor(['0000-01-01', 1])}", None, 422),
    "event types beyond 64 bits": ("GET", f"/contacts/{{ada}}/timeline?types={BIG}", None, 422),
    "event types in Unicode digits": ("GET", "/contacts/{ada}/timeline?types=²", None, 422),
    "a body over the size limit": ("POST", "/contacts", "x" * (3 * 1024 * 1024), 413),
    "a company search of a million characters": ("GET", f"/companies?search={'x' * 1_000_000}", None, 422),
    "points beyond 64 bits": ("POST", "/contacts", _contact(points=BIG), 422),
    "points 1e400": ("POST", "/contacts", '{"fields": {"email": "lin@acme.example", "points": 1e400}}', 400),
    "points NaN": ("POST", "/contacts", '{"fields": {"email": "lin@acme.example", "points": NaN}}', 400),
    "points beyond the column": ("POST", "/contacts", _contact(points=3_000_000_000), 422),
    "last_active in year 0": ("POST", "/contacts", _contact(last_active="0000-01-01"), 422),
    "owner beyond 64 bits": ("POST", "/contacts", _contact(owner=BIG), 422),
    "a NUL character in a field": ("POST", "/contacts", _contact(firstname="a\x00b"), 400),
    "a NUL character in a query": ("GET", "/contacts?search=a%00b", None, 400),
    "a tag name longer than a tag holds": (
        "POST", "/contacts", json.dumps({"fields": {"email": "lin@acme.example"}, "tags": ["x" * 101]}), 422),
    "batch delete ids beyond 64 bits": ("POST", "/contacts/batch/delete", json.dumps({"ids": [BIG]}), 422),
    "batch update ids beyond 64 bits": ("POST", "/contacts/batch/update", json.dumps({"items": [{"id": BIG}]}), 422),
    "a DNC channel_id beyond 64 bits": ("PUT", "/contacts/{ada}/dnc/email", json.dumps({"channel_id": BIG}), 422),
    "a field order beyond the column": (
        "POST", "/fields", json.dumps({"alias": "shoe", "label": "Shoe", "order": BIG}), 422),
    "a field label longer than a label holds": (
        "POST", "/fields", json.dumps({"alias": "shoe", "label": "x" * 200}), 422),
    "a tag longer than a tag holds": ("POST", "/tags", json.dumps({"name": "x" * 101}), 422),
    "a NUL character in a tag": ("POST", "/tags", json.dumps({"name": "x\x00"}), 400),
    "a NUL character in a note": ("POST", "/contacts/{ada}/notes", json.dumps({"text": "a\x00"}), 400),
    "a path id just beyond 64 bits": ("POST", f"/contacts/{2**63}/tags", json.dumps({"tags": ["vip"]}), 404),
}  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "status"), CASES.values(), ids=CASES.keys())
def test_hostile_input_is_a_client_error_in_the_native_error_format(client, token, ada_id, method, path, body, status):
    call = getattr(client, method.lower())
    url = "/api/v1" + path.replace("{ada}", str(ada_id))
    response = call(url, **token) if body is None else call(url, data=body, content_type=JSON, **token)

    assert response.status_code == status, response.content[:300]
    error = response.json()["error"]
    assert error["code"] and error["message"]


def test_a_body_over_the_size_limit_names_the_limit(client, token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/api/v1/contacts", data="x" * 1001, content_type=JSON, **token)

    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "payload_too_large",
        "message": "The request body is larger than 1000 bytes.",
        "details": {},
    }


def test_a_nul_character_in_a_body_writes_nothing(client, token, acme):
    from tidings.contacts import selectors

    client.post("/api/v1/contacts", data=_contact(firstname="a\x00b"), content_type=JSON, **token)

    with use_workspace(acme):
        assert selectors.contacts_count() == 0


def test_a_tag_longer_than_a_tag_holds_is_refused_not_cut(client, token, acme):
    from tidings.contacts import selectors

    response = client.post("/api/v1/tags", data=json.dumps({"name": "x" * 101}), content_type=JSON, **token)

    assert response.json()["error"]["details"]["fields"] == {"name": ["a tag name has at most 100 characters"]}
    with use_workspace(acme):
        assert selectors.tags() == []


def test_a_search_longer_than_the_limit_is_refused_before_any_query(client, token):
    from tidings.contacts.search_query import MAX_SEARCH_LENGTH

    response = client.get("/api/v1/contacts", {"search": "word " * (MAX_SEARCH_LENGTH // 5 + 1)}, **token)

    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"] == {"search": [f"at most {MAX_SEARCH_LENGTH} characters"]}
