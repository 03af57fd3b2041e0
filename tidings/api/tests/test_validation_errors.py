"""The native API answers a ValidationError that names no field with 422 in its own shape, never a 500."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

REFUSALS = {
    "plain": ValidationError("This name is taken."),
    "non-field key": ValidationError({NON_FIELD_ERRORS: ["This name is taken."]}),
}


def _refuse(error):
    def action(*args, **kwargs):
        raise error

    return action


@pytest.mark.parametrize("kind", REFUSALS)
def test_creating_a_token_refused_without_a_field_is_a_422(client, alice_token, bearer, monkeypatch, kind):
    from tidings.api import actions

    monkeypatch.setattr(actions, "api_token_create", _refuse(REFUSALS[kind]))
    response = client.post(
        "/api/v1/tokens", json.dumps({"name": "Reporting"}), content_type="application/json", **bearer(alice_token[1])
    )
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": "The token could not be created.",
        "details": {"fields": {"request": ["This name is taken."]}},
    }


@pytest.mark.parametrize("kind", REFUSALS)
def test_an_action_refusing_without_a_field_is_a_422_via_the_handler(client, alice_token, bearer, monkeypatch, kind):
    from tidings.contacts import actions

    monkeypatch.setattr(actions, "contact_create", _refuse(REFUSALS[kind]))
    response = client.post(
        "/api/v1/contacts",
        json.dumps({"fields": {"email": "zoe@people.example"}}),
        content_type="application/json",
        **bearer(alice_token[1]),
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"] == {"fields": {"request": ["This name is taken."]}}


def test_a_batch_item_refused_without_a_field_reports_it_under_request(client, alice_token, bearer, monkeypatch):
    from tidings.contacts import actions

    monkeypatch.setattr(actions, "contact_create", _refuse(REFUSALS["non-field key"]))
    response = client.post(
        "/api/v1/contacts/batch/create",
        json.dumps({"items": [{"fields": {"email": "zoe@people.example"}}]}),
        content_type="application/json",
        **bearer(alice_token[1]),
    )
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert (result["status"], result["errors"]) == (422, {"request": ["This name is taken."]})
