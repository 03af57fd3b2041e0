"""The native consent API: a contact's records and state, recording, purposes and notices; no input makes a 5xx."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.consent import actions
from tidings.tenancy.context import use_workspace
from tidings.tests.api_client import token_api
from tidings.tests.principals import system

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


def _token_api(client, workspace, user, permissions=None):
    return token_api(client, workspace, user, permissions, name="Consent sync")


@pytest.fixture
def api(client, acme, alice):
    return _token_api(client, acme, alice)


@pytest.fixture
def ada_id(acme):
    from tidings.contacts.actions import contact_create

    with use_workspace(acme):
        return contact_create({"email": "ada@analytical.example"}, principal=system()).id


def test_record_then_list_and_read_the_state(api, acme, ada_id):
    with use_workspace(acme):
        actions.notice_publish(principal=system(), title="Notice", url="https://acme.example/privacy")

    created = api.post("/consents", {"purpose": "marketing_email", "given": True, "contact_id": ada_id,
                                     "source": "https://crm.example/sync?id=9", "ip": "203.0.113.5"})  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["method"], body["notice_version"], body["ip_network"]) == ("api", 1, "203.0.113.0/24")
    assert body["source"] == "https://crm.example/sync"
    withdrawn = api.post("/consents", {"purpose": "marketing_email", "given": False, "contact_id": ada_id,
                                       "notice_version": None})  # fmt: skip
    assert withdrawn.json()["notice_version"] is None

    listed = api.get("/consents", {"contact_id": ada_id}).json()
    assert [r["given"] for r in listed["items"]] == [False, True]
    state = api.get("/consents/state", {"contact_id": ada_id}).json()
    assert state["decisions"][0]["purpose"] == "marketing_email" and state["decisions"][0]["given"] is False


def test_purposes_and_notices(api, acme):
    with use_workspace(acme):
        actions.notice_publish(principal=system(), title="One", url="https://acme.example/1")
        actions.notice_publish(principal=system(), title="Two", text="Shorter.")
    purposes = api.get("/purposes").json()
    assert [p["key"] for p in purposes][:4] == ["marketing_email", "tracking", "profiling", "sharing"]
    notices = api.get("/notices").json()
    assert [(n["version"], n["current"]) for n in notices] == [(2, True), (1, False)]


def test_bad_values_are_422s_by_field_and_unknown_subjects_404s(api, ada_id):
    bad = api.post("/consents", {"purpose": "nope", "given": True, "contact_id": ada_id, "method": "form",
                                 "signal": "gpc"})  # fmt: skip
    assert bad.status_code == 422
    assert "purpose" in bad.json()["error"]["details"]["fields"]
    assert api.post("/consents", {"purpose": "tracking", "given": True, "contact_id": ada_id + 999}).status_code == 404
    assert api.post("/consents", {"purpose": "tracking", "given": False, "visitor_id": 12345}).status_code == 404
    assert api.get("/consents", {"contact_id": ada_id + 999}).status_code == 404


def test_a_tracker_token_records_but_cannot_read(client, acme, alice, ada_id):
    tracker = _token_api(client, acme, alice, permissions=["consent:record"])
    assert tracker.post("/consents", {"purpose": "tracking", "given": True, "contact_id": ada_id,
                                      "method": "tracker"}).status_code == 201  # fmt: skip
    assert tracker.get("/consents", {"contact_id": ada_id}).status_code == 403
    reader = _token_api(client, acme, alice, permissions=["privacy:view"])
    assert reader.post("/consents", {"purpose": "tracking", "given": True, "contact_id": ada_id}).status_code == 403


REQUESTS = settings(max_examples=40, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(), st.text(max_size=12),
    st.sampled_from(["marketing_email", "tracking", "form", "gpc", "dnt", "1e400", "", "10.0.0.1", "::1", "x" * 3000]),
)  # fmt: skip
BODIES = st.fixed_dictionaries(
    {},
    optional={
        key: SCALARS
        for key in (
            "purpose",
            "given",
            "contact_id",
            "visitor_id",
            "method",
            "source",
            "ip",
            "notice_version",
            "signal",
            "wording",
            "extra",
        )  # fmt: skip
    },
)


@REQUESTS
@given(body=st.one_of(BODIES, st.text(max_size=30)))
def test_no_posted_body_makes_a_5xx(api, ada_id, body):
    if isinstance(body, dict) and body.get("contact_id") == "ada":
        body["contact_id"] = ada_id
    response = api.post("/consents", body)
    assert response.status_code < 500, response.content


@REQUESTS
@given(contact_id=SCALARS, limit=SCALARS, cursor=SCALARS)
def test_no_query_makes_a_5xx(api, ada_id, contact_id, limit, cursor):
    query = {k: v for k, v in {"contact_id": contact_id, "limit": limit, "cursor": cursor}.items() if v is not None}
    for path in ("/consents", "/consents/state"):
        assert api.get(path, query).status_code < 500
