"""A contact's owner must be a member of its workspace, whichever door the value comes through.

Before, `owner` was a plain number: any user id of the platform (another workspace's owner, a
Tidings staff member, nobody) was stored, and the Mautic serialiser then named that user.
"""

import json

import pytest
from django.urls import reverse

from tidings.tenancy.context import use_workspace

REFUSAL = "not a member of this workspace"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def outsiders(bob, carol):
    """User ids that must never own an Acme contact: bob (owner of Globex), carol (staff), and nobody."""
    return {"another workspace's owner": bob.pk, "staff": carol.pk, "nobody": 987654}


@pytest.fixture
def alice_principal(acme, alice):
    from tidings.accounts.selectors import principal_for_user

    return principal_for_user(alice, acme)


@pytest.fixture
def alice_token(acme, alice):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    _, secret = api_token_create(workspace=acme, user=alice, name="CRM sync", principal=principal_for_user(alice, acme))
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def _owner_of(acme, contact_id):
    from tidings.contacts import selectors

    with use_workspace(acme):
        return selectors.contact_get(contact_id).fields.get("owner")


@pytest.mark.parametrize("who", ["another workspace's owner", "staff", "nobody"])
def test_the_native_api_refuses_a_new_contact_owned_by_an_outsider(client, alice_token, acme, outsiders, who):
    body = {"fields": {"email": "jim@contact.example", "owner": outsiders[who]}}
    response = client.post("/api/v1/contacts", json.dumps(body), content_type="application/json", **alice_token)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"]["owner"] == [REFUSAL]
    assert "globex" not in response.content.decode() and "tidings.example" not in response.content.decode()


@pytest.mark.parametrize("who", ["another workspace's owner", "staff", "nobody"])
def test_the_native_api_refuses_to_hand_a_contact_to_an_outsider(client, alice_token, acme, ada, outsiders, who):
    body = {"fields": {"owner": outsiders[who]}}
    response = client.patch(
        f"/api/v1/contacts/{ada.id}", json.dumps(body), content_type="application/json", **alice_token
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"]["owner"] == [REFUSAL]
    assert _owner_of(acme, ada.id) is None


def test_the_native_api_accepts_a_member_as_owner(client, alice_token, acme, ada, alice):
    body = {"fields": {"owner": alice.pk}}
    response = client.patch(
        f"/api/v1/contacts/{ada.id}", json.dumps(body), content_type="application/json", **alice_token
    )
    assert response.status_code == 200
    assert _owner_of(acme, ada.id) == alice.pk


@pytest.mark.parametrize("who", ["another workspace's owner", "staff", "nobody"])
def test_the_ui_edit_form_refuses_an_outsider_as_owner(alice_client, acme, ada, outsiders, who):
    url = reverse("contacts:edit", kwargs={"workspace_slug": acme.slug, "contact_id": ada.id})
    response = alice_client.post(url, {"email": "ada@analytical.example", "owner": str(outsiders[who])})
    assert response.status_code == 400
    assert _owner_of(acme, ada.id) is None


@pytest.mark.parametrize("who", ["another workspace's owner", "staff", "nobody"])
def test_the_action_refuses_an_outsider_even_without_a_form(alice_principal, in_acme, ada, outsiders, who):
    """The UI form lists members only; the action is the wall behind it for every caller."""
    from django.core.exceptions import ValidationError

    from tidings.contacts import actions

    with pytest.raises(ValidationError) as refused:
        actions.contact_update(ada.id, {"owner": outsiders[who]}, principal=alice_principal)
    assert refused.value.message_dict == {"owner": [REFUSAL]}


def test_an_import_reports_an_outsider_owner_as_a_row_error(in_acme, bob, alice):
    from tidings.accounts.permissions import system_principal
    from tidings.contacts import actions

    principal = system_principal(in_acme, reason="test:import")
    result = actions.contacts_bulk_upsert(
        [{"email": "jim@contact.example", "owner": bob.pk}, {"email": "ann@contact.example", "owner": alice.pk}],
        lawful_basis="consent",
        principal=principal,
    )
    assert (result.created, [(e.index, e.errors) for e in result.errors]) == (1, [(0, {"owner": [REFUSAL]})])


def test_a_fractional_owner_is_refused(alice_principal, in_acme, ada, alice):
    from django.core.exceptions import ValidationError

    from tidings.contacts import actions

    with pytest.raises(ValidationError):
        actions.contact_update(ada.id, {"owner": f"{alice.pk}.5"}, principal=alice_principal)


def test_members_by_id_names_only_members_in_one_query(acme, alice, bob, carol, django_assert_num_queries):
    from tidings.accounts.selectors import members_by_id

    with django_assert_num_queries(1):
        found = members_by_id(acme, {alice.pk, bob.pk, carol.pk, 987654, 2**70})
    assert list(found) == [alice.pk]
