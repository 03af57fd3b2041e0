"""The privacy centre's native API: retention rules, records, recipients, transfers; no input makes a 5xx."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.tenancy.context import use_workspace
from tidings.tests.api_client import token_api
from tidings.tests.principals import system

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")

REQUESTS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SCALARS = st.one_of(st.none(), st.integers(), st.text(max_size=12), st.booleans(), st.floats(allow_nan=True))


@pytest.fixture
def api(client, acme, alice):
    return token_api(client, acme, alice, name="DPO tools")


@pytest.fixture
def ada_id(acme):
    from tidings.consent.actions import consent_record
    from tidings.contacts.actions import contact_create

    with use_workspace(acme):
        contact = contact_create({"email": "ada@analytical.example"}, principal=system())
        consent_record(purpose="marketing_email", given=True, contact_id=contact.id, method="api", principal=system())
        return contact.id


def test_list_and_set_retention_rules(api):
    rules = api.get("/privacy/retention").json()
    assert [r["data_class"] for r in rules][0] == "tracking_events" and rules[0]["days"] == 396
    changed = api.send("PUT", "/privacy/retention/tracking_events", {"days": 90})
    assert changed.status_code == 200 and changed.json()["days"] == 90 and changed.json()["is_default"] is False
    refused = api.send("PUT", "/privacy/retention/audit_log", {"days": 90})
    assert refused.status_code == 422 and "days" in refused.json()["error"]["details"]["fields"]
    assert api.send("PUT", "/privacy/retention/nope", {"days": 90}).status_code == 422


def test_recipients_crud_and_the_transfer_door(api, ada_id):
    created = api.post("/privacy/recipients", {"name": "Northwind CRM", "kind": "integration", "country": "DE",
                                               "purposes": ["marketing_email"],
                                               "categories": ["user.contact.email"]})  # fmt: skip
    assert created.status_code == 201, created.content
    rid = created.json()["id"]
    assert api.get(f"/privacy/recipients/{rid}").json()["country"] == "DE"
    asked = api.post("/privacy/transfers", {"recipient_id": rid, "contact_ids": [ada_id, ada_id + 999],
                                            "purpose": "marketing_email", "categories": ["user.contact.email"],
                                            "use": "integration:crm"})  # fmt: skip
    assert asked.status_code == 201 and asked.json() == {"allowed": [ada_id], "refused": 1}
    log = api.get("/privacy/transfers").json()["items"]
    assert (log[0]["contacts"], log[0]["refused"], log[0]["use"]) == (1, 1, "integration:crm")
    assert api.get("/privacy/records").json()["recipients"][0]["name"] == "Northwind CRM"
    updated = api.send("PUT", f"/privacy/recipients/{rid}", {"name": "Northwind", "kind": "integration",
                                                              "country": "FR"})  # fmt: skip
    assert updated.json()["country"] == "FR"
    assert api.send("DELETE", f"/privacy/recipients/{rid}").status_code == 204
    assert api.get(f"/privacy/recipients/{rid}").json()["active"] is False  # kept: the log names it


def test_unknown_recipient_or_purpose_is_404(api, ada_id):
    assert api.get("/privacy/recipients/999999").status_code == 404
    body = {"recipient_id": 999999, "contact_ids": [ada_id], "purpose": "marketing_email", "categories": []}
    assert api.post("/privacy/transfers", body).status_code == 404


def test_an_analyst_token_reads_nothing(client, acme, make_user):
    from tidings.accounts.actions import membership_create

    ana = make_user("ana@acme.example")
    membership_create(workspace=acme, user=ana, role="analyst", principal=system(acme))
    api = token_api(client, acme, ana)
    assert api.get("/privacy/retention").status_code == 403
    assert api.post("/privacy/transfers", {}).status_code in (403, 422)


BODIES = st.fixed_dictionaries(
    {},
    optional={
        key: st.one_of(SCALARS, st.lists(SCALARS, max_size=3))
        for key in (
            "name",
            "kind",
            "country",
            "safeguard",
            "purposes",
            "categories",
            "description",
            "active",
            "days",
            "recipient_id",
            "contact_ids",
            "purpose",
            "use",
        )  # fmt: skip
    },
)


@REQUESTS
@given(body=st.one_of(BODIES, st.text(max_size=30)), data_class=st.sampled_from(["tracking_events", "audit_log", "x"]))
def test_no_body_makes_a_5xx(api, ada_id, body, data_class):
    for method, path in (("POST", "/privacy/recipients"), ("POST", "/privacy/transfers"),
                         ("PUT", f"/privacy/retention/{data_class}"), ("PUT", "/privacy/recipients/1")):  # fmt: skip
        response = api.send(method, path, body)
        assert response.status_code < 500, response.content


@REQUESTS
@given(recipient_id=SCALARS, limit=SCALARS, cursor=SCALARS)
def test_no_query_makes_a_5xx(api, recipient_id, limit, cursor):
    query = {k: v for k, v in {"recipient_id": recipient_id, "limit": limit, "cursor": cursor}.items() if v is not None}
    assert api.get("/privacy/transfers", query).status_code < 500
