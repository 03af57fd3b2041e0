"""Data-subject requests over the native API (/api/v1/privacy/requests), with their permissions."""

from __future__ import annotations

import pytest

from tidings.tests.api_client import token_api


@pytest.fixture
def api(client, acme, alice):
    return token_api(client, acme, alice)


@pytest.fixture
def viewer_api(client, acme, alice):
    return token_api(client, acme, alice, permissions=["privacy:view"], name="Read only")


def test_record_list_read_and_act(api, in_acme, ada):
    created = api.post("/privacy/requests", {"kind": "objection", "contact_id": ada.id, "verified": True})
    assert created.status_code == 201
    row = created.json()
    assert (row["status"], row["source"], row["overdue"]) == ("verified", "api", False)
    listed = api.get("/privacy/requests").json()
    assert [item["id"] for item in listed["items"]] == [row["id"]]
    refused = api.post(f"/privacy/requests/{row['id']}/steps", {"step": "complete"})
    assert refused.status_code == 422 and "verified" in refused.json()["error"]["details"]["fields"]["status"][0]
    assert api.post(f"/privacy/requests/{row['id']}/steps", {"step": "approve"}).json()["status"] == "approved"
    done = api.post(f"/privacy/requests/{row['id']}/steps", {"step": "complete"}).json()
    assert done["status"] == "completed" and done["outcome"]["purposes_withdrawn"] >= 4
    assert api.get("/privacy/requests?status=closed").json()["items"][0]["id"] == row["id"]


def test_an_extension_needs_days_and_a_reason(api, in_acme, ada):
    row = api.post("/privacy/requests", {"kind": "access", "contact_id": ada.id, "verified": True}).json()
    assert api.post(f"/privacy/requests/{row['id']}/steps", {"step": "extend", "days": 10}).status_code == 422
    extended = api.post(f"/privacy/requests/{row['id']}/steps", {"step": "extend", "days": 10, "reason": "Busy"})
    assert extended.json()["status"] == "extended" and extended.json()["reason"] == "Busy"


def test_a_reader_cannot_record_or_act(viewer_api, api, in_acme, ada):
    row = api.post("/privacy/requests", {"kind": "access", "contact_id": ada.id}).json()
    assert viewer_api.get(f"/privacy/requests/{row['id']}").status_code == 200
    assert viewer_api.post("/privacy/requests", {"kind": "access", "contact_id": ada.id}).status_code == 403
    assert viewer_api.post(f"/privacy/requests/{row['id']}/steps", {"step": "verify"}).status_code == 403


def test_an_unknown_contact_is_a_404(api, in_acme):
    assert api.post("/privacy/requests", {"kind": "access", "contact_id": 987654}).status_code == 404
