"""The Mautic-compatible API answers a ValidationError that names no field in Mautic's errors shape, never a 500."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

REFUSALS = {
    "plain": ValidationError("This contact cannot change now."),
    "non-field key": ValidationError({NON_FIELD_ERRORS: ["This contact cannot change now."]}),
}


def _refuse(error):
    def action(*args, **kwargs):
        raise error

    return action


@pytest.mark.parametrize("kind", REFUSALS)
def test_a_new_contact_refused_without_a_field_is_mautics_form_error(client, alice_basic, acme, monkeypatch, kind):
    from tidings.contacts import actions

    monkeypatch.setattr(actions, "contact_upsert", _refuse(REFUSALS[kind]))
    response = client.post(
        "/api/contacts/new", json.dumps({"email": "zoe@people.example"}), content_type="application/json", **alice_basic
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "code": 400,
                "message": "This contact cannot change now.",
                "details": {"": ["This contact cannot change now."]},
                "type": None,
            }
        ]
    }


@pytest.mark.parametrize("kind", REFUSALS)
def test_a_refusal_no_view_catches_is_a_422_in_mautics_shape(client, alice_basic, ada, monkeypatch, kind):
    from tidings.contacts import actions

    monkeypatch.setattr(actions, "dnc_remove", _refuse(REFUSALS[kind]))
    response = client.post(f"/api/contacts/{ada.id}/dnc/email/remove", **alice_basic)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert (error["message"], error["details"]) == (
        "This contact cannot change now.",
        {"": ["This contact cannot change now."]},
    )


def test_a_batch_item_refused_without_a_field_is_reported_with_the_others(client, alice_basic, acme, monkeypatch):
    from tidings.contacts import actions

    monkeypatch.setattr(actions, "contact_upsert", _refuse(REFUSALS["non-field key"]))
    response = client.post(
        "/api/contacts/batch/new",
        json.dumps([{"email": "zoe@people.example"}]),
        content_type="application/json",
        **alice_basic,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["statusCodes"] == [400]
    assert body["errors"][0]["details"] == {"": ["This contact cannot change now."]}
