"""The native API's endpoints, error format, rate limits and contract (OpenAPI)."""

import json

import pytest
from django.test import Client, override_settings

from tidings.accounts.selectors import principal_for_user
from tidings.api.actions import api_token_create
from tidings.tests.principals import system


def test_me_describes_the_principal(client, alice_token, bearer):
    body = client.get("/api/v1/me", **bearer(alice_token[1])).json()
    assert set(body) == {"user", "workspace", "region", "role", "permissions", "via"}
    assert body["role"] == "owner"
    assert "settings:manage" in body["permissions"]


def test_members_are_listed_a_page_at_a_time(client, alice_token, bearer, dave, make_user, acme):
    from tidings.accounts.actions import membership_create

    for name in ("erin", "frank", "grace"):
        membership_create(
            workspace=acme, user=make_user(f"{name}@acme.example"), role="analyst", principal=system(acme)
        )
    first = client.get("/api/v1/members?limit=2", **bearer(alice_token[1])).json()
    assert [m["email"] for m in first["items"]] == ["alice@acme.example", "dave@acme.example"]
    second = client.get(f"/api/v1/members?limit=2&cursor={first['next_cursor']}", **bearer(alice_token[1])).json()
    third = client.get(f"/api/v1/members?limit=2&cursor={second['next_cursor']}", **bearer(alice_token[1])).json()
    assert [m["email"] for m in second["items"] + third["items"]] == [
        "erin@acme.example",
        "frank@acme.example",
        "grace@acme.example",
    ]
    assert third["next_cursor"] is None


def test_the_members_list_costs_a_fixed_number_of_queries(
    client, alice_token, bearer, make_user, acme, django_assert_max_num_queries
):
    from tidings.accounts.actions import membership_create

    for index in range(12):
        membership_create(
            workspace=acme, user=make_user(f"member{index}@acme.example"), role="analyst", principal=system(acme)
        )
    client.get("/api/v1/me", **bearer(alice_token[1]))  # last_used_at is written once, not counted below
    # Token and membership (2), the rate-limit counter (up to 6 with the database cache,
    # 1 round trip with Redis), one page of members with their users (1): none per member.
    with django_assert_max_num_queries(10):
        response = client.get("/api/v1/members?limit=10", **bearer(alice_token[1]))
    assert len(response.json()["items"]) == 10


def test_the_audit_log_needs_audit_view(client, bearer, acme, dave):
    _, secret = api_token_create(workspace=acme, user=dave, name="Marketing", principal=principal_for_user(dave, acme))
    response = client.get("/api/v1/audit", **bearer(secret))
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "forbidden",
            "message": "You need the audit:view permission.",
            "details": {"permission": "audit:view"},
        }
    }


def test_the_audit_log_pages_backwards_by_sequence(client, alice_token, bearer):
    from tidings.audit.actions import audit_outbox_forward

    audit_outbox_forward()  # member.added waits in the outbox for a commit the test never makes
    first = client.get("/api/v1/audit?limit=2", **bearer(alice_token[1])).json()
    seqs = [entry["seq"] for entry in first["items"]]
    assert seqs == sorted(seqs, reverse=True)
    rest = client.get(f"/api/v1/audit?limit=50&cursor={first['next_cursor']}", **bearer(alice_token[1])).json()
    assert all(entry["seq"] < seqs[-1] for entry in rest["items"])
    assert rest["items"][-1]["seq"] == 1


def test_a_member_lists_creates_and_revokes_their_tokens(client, alice_token, bearer):
    headers = bearer(alice_token[1])
    created = client.post(
        "/api/v1/tokens",
        json.dumps({"name": "Reporting", "permissions": ["reports:view"]}),
        content_type="application/json",
        **headers,
    )
    assert created.status_code == 201
    new = created.json()
    assert new["secret"].startswith(new["token"]["prefix"])
    listed = client.get("/api/v1/tokens", **headers).json()
    assert {t["name"] for t in listed} == {"CRM sync", "Reporting"}
    assert client.delete(f"/api/v1/tokens/{new['token']['id']}", **headers).status_code == 204
    assert client.get("/api/v1/me", **bearer(new["secret"])).status_code == 401


def test_a_token_cannot_mint_a_wider_token(client, bearer, acme, alice):
    _, narrow = api_token_create(
        workspace=acme,
        user=alice,
        name="Narrow",
        permissions=["workspace:view"],
        principal=principal_for_user(alice, acme),
    )
    response = client.post(
        "/api/v1/tokens",
        json.dumps({"name": "Wide", "permissions": ["contacts:export"]}),
        content_type="application/json",
        **bearer(narrow),
    )
    assert response.status_code == 403
    by_default = client.post(
        "/api/v1/tokens", json.dumps({"name": "Default"}), content_type="application/json", **bearer(narrow)
    )
    assert by_default.json()["token"]["permissions"] == ["workspace:view"]


def test_revoking_someone_elses_token_answers_404(client, alice_token, bearer, acme, dave):
    _, dave_secret = api_token_create(
        workspace=acme, user=dave, name="Dave's", principal=principal_for_user(dave, acme)
    )
    response = client.delete(f"/api/v1/tokens/{alice_token[0].pk}", **bearer(dave_secret))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_validation_errors_use_the_one_error_format(client, alice_token, bearer):
    response = client.post("/api/v1/tokens", json.dumps({}), content_type="application/json", **bearer(alice_token[1]))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "body.payload.name" in error["details"]["fields"]


def test_a_blank_token_name_is_unprocessable(client, alice_token, bearer):
    response = client.post(
        "/api/v1/tokens", json.dumps({"name": " "}), content_type="application/json", **bearer(alice_token[1])
    )
    assert response.status_code == 422
    assert "name" in response.json()["error"]["details"]["fields"]


def test_no_credentials_answer_401_in_the_error_format(client, acme):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_unknown_paths_and_methods_answer_in_the_error_format(client, alice_token, bearer):
    assert client.get("/api/v1/nothing-here", **bearer(alice_token[1])).json()["error"]["code"] == "not_found"
    wrong_method = client.put("/api/v1/me", **bearer(alice_token[1]))
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_an_edited_cursor_answers_400(client, alice_token, bearer):
    response = client.get("/api/v1/audit?cursor=WzMsM10:forged:signature", **bearer(alice_token[1]))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_every_api_response_carries_rate_limit_headers(client, alice_token, bearer, acme):
    for response in (client.get("/api/v1/me", **bearer(alice_token[1])), client.get("/api/v1/me")):
        assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(response.headers)


@override_settings(TIDINGS_API_RATE_LIMIT=2, TIDINGS_API_RATE_WINDOW=60)
def test_a_credential_over_its_rate_limit_gets_429_with_retry_after(client, alice_token, bearer, acme, dave):
    headers = bearer(alice_token[1])
    assert [client.get("/api/v1/me", **headers).status_code for _ in range(2)] == [200, 200]
    refused = client.get("/api/v1/me", **headers)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused["Retry-After"]) >= 1
    assert refused["X-RateLimit-Remaining"] == "0"
    _, other = api_token_create(workspace=acme, user=dave, name="Dave's", principal=principal_for_user(dave, acme))
    assert client.get("/api/v1/me", **bearer(other)).status_code == 200  # limits are per credential


def test_token_authenticated_writes_need_no_csrf_token(alice_token, bearer):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        "/api/v1/tokens", json.dumps({"name": "No CSRF"}), content_type="application/json", **bearer(alice_token[1])
    )
    assert response.status_code == 201


def test_the_openapi_document_lists_the_endpoints(client, acme):
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path, methods in {
        "/api/v1/me": {"get"},
        "/api/v1/members": {"get"},
        "/api/v1/audit": {"get"},
        "/api/v1/tokens": {"get", "post"},
        "/api/v1/tokens/{token_id}": {"delete"},
    }.items():
        assert methods <= set(paths[path]), path
    assert {"BearerAuth", "BasicAuth"} <= set(document["components"]["securitySchemes"])
    listed = paths["/api/v1/members"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "PagedMemberOut" in json.dumps(listed)


def test_the_interactive_docs_load_their_scripts_and_styles_from_our_static_files(client, acme):
    page = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "/static/ninja/swagger-ui.css" in page
    assert "cdn" not in page.lower()
    assert client.get("/static/ninja/swagger-ui-init.js").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/users/self"])
def test_both_apis_share_one_rate_limit_per_credential(client, alice_token, bearer, path):
    with override_settings(TIDINGS_API_RATE_LIMIT=1):
        client.get("/api/v1/me", **bearer(alice_token[1]))
        assert client.get(path, **bearer(alice_token[1])).status_code == 429
