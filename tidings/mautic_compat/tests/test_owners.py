"""Contact owners on the Mautic-compatible API: members of the workspace only, never anyone else named.

Before, POST /api/contacts/new {"owner": <any user id>} stored that user and answered with
their email and names, for users of other workspaces and for staff.
"""

import json

import pytest

from tidings.tenancy.context import use_workspace

REFUSAL = "not a member of this workspace"


def _json(client, method, path, body, headers):
    return getattr(client, method)(path, json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def outsiders(bob, carol):
    """User ids that must never own an Acme contact: bob (owner of Globex), carol (staff), and nobody."""
    return {"another workspace's owner": bob.pk, "staff": carol.pk, "nobody": 987654}


@pytest.fixture
def ada(acme):
    from tidings.accounts.permissions import system_principal
    from tidings.contacts import actions

    with use_workspace(acme):
        return actions.contact_create(
            {"email": "ada@analytical.example"}, principal=system_principal(acme, reason="test:fixture")
        )


def _assert_refused(response):
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["details"] == {"owner": [REFUSAL]}
    assert error["message"] == f"owner: {REFUSAL}"
    text = response.content.decode()
    assert "globex.example" not in text and "tidings.example" not in text


@pytest.mark.parametrize("who", ["another workspace's owner", "staff", "nobody"])
def test_new_refuses_an_outsider_as_owner(client, alice_basic, acme, outsiders, who):
    body = {"email": "p@contact.example", "owner": outsiders[who]}
    _assert_refused(_json(client, "post", "/api/contacts/new", body, alice_basic))
    assert client.get("/api/contacts", {"search": "email:p@contact.example"}, **alice_basic).json()["total"] == 0


@pytest.mark.parametrize("who", ["another workspace's owner", "staff", "nobody"])
@pytest.mark.parametrize("method", ["patch", "put"])
def test_edit_refuses_an_outsider_as_owner(client, alice_basic, acme, ada, outsiders, who, method):
    body = {"email": "ada@analytical.example", "owner": {"id": outsiders[who]}}
    _assert_refused(_json(client, method, f"/api/contacts/{ada.id}/edit", body, alice_basic))
    assert client.get(f"/api/contacts/{ada.id}", **alice_basic).json()["contact"]["owner"] is None


def test_a_batch_refuses_the_outsider_item_and_keeps_the_others(client, alice_basic, acme, alice, bob):
    batch = [{"email": "p@contact.example", "owner": bob.pk}, {"email": "q@contact.example", "owner": alice.pk}]
    body = _json(client, "post", "/api/contacts/batch/new", batch, alice_basic).json()
    assert body["statusCodes"] == [400, 201]
    assert body["errors"][0]["details"] == {"owner": [REFUSAL]}  # keys 0..n-1: a list, as PHP sends it
    assert body["contacts"]["1"]["owner"]["id"] == alice.pk


def test_a_member_is_named_as_owner(client, alice_basic, acme, alice):
    body = {"email": "p@contact.example", "owner": alice.pk}
    contact = _json(client, "post", "/api/contacts/new", body, alice_basic).json()["contact"]
    assert contact["owner"] == {"id": alice.pk, "username": alice.email, "firstName": "", "lastName": ""}


def _store_legacy_owner(acme, contact_id, user_id):
    """Write an owner the way data written before the membership check may hold it."""
    from tidings.contacts.models import Contact

    with use_workspace(acme):
        Contact.objects.filter(pk=contact_id).update(owner_id=user_id)


def test_a_stored_foreign_owner_is_not_revealed_by_get(client, alice_basic, acme, ada, bob):
    _store_legacy_owner(acme, ada.id, bob.pk)
    contact = client.get(f"/api/contacts/{ada.id}", **alice_basic).json()["contact"]
    assert contact["owner"] is None


def test_a_stored_foreign_owner_is_not_revealed_by_the_list(client, alice_basic, acme, ada, carol):
    _store_legacy_owner(acme, ada.id, carol.pk)
    body = client.get("/api/contacts", **alice_basic)
    assert body.json()["contacts"][str(ada.id)]["owner"] is None
    assert "carol" not in body.content.decode()


def test_a_former_member_is_no_longer_named(client, alice_basic, acme, ada, make_user):
    from tidings.accounts.models import Membership

    dora = make_user("dora@acme.example")
    Membership.objects.create(workspace=acme, user=dora, role="marketer")
    _json(client, "patch", f"/api/contacts/{ada.id}/edit", {"owner": dora.pk}, alice_basic)
    Membership.objects.filter(user=dora).delete()
    assert client.get(f"/api/contacts/{ada.id}", **alice_basic).json()["contact"]["owner"] is None
