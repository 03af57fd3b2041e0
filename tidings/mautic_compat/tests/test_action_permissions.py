"""The Mautic API asks the actions, so it needs what the UI needs: merging away a contact takes contacts:delete.

Mautic's edit route merges into the edited contact any other contact whose unique identifier
(email) matches the new values. That erases the other contact, so a token that may only view
and edit contacts is refused, as the UI refuses a merge without contacts:delete.
"""

import json

import pytest

from tidings.accounts.selectors import principal_for_user
from tidings.api.actions import api_token_create
from tidings.contacts import actions, selectors
from tidings.contacts.models import Contact
from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system


def _bearer(acme, alice, permissions) -> dict:
    _, secret = api_token_create(
        workspace=acme, user=alice, name="CRM sync", permissions=permissions, principal=principal_for_user(alice, acme)
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def view_edit(acme, alice):
    """A token of alice's that may view and edit contacts, not delete them."""
    return _bearer(acme, alice, ["contacts:view", "contacts:edit"])


@pytest.fixture
def view_edit_delete(acme, alice):
    return _bearer(acme, alice, ["contacts:view", "contacts:edit", "contacts:delete"])


@pytest.fixture
def ada_and_lovelace(acme):
    """Two contacts of Acme: ada, and lovelace (the one a merge would fold into)."""
    with use_workspace(acme):
        ada = actions.contact_create({"email": "ada@analytical.example", "city": "London"}, principal=system())
        lovelace = actions.contact_create({"email": "lovelace@analytical.example"}, principal=system())
    return ada, lovelace


def _patch(client, path, body, headers):
    return client.patch(path, json.dumps(body), content_type="application/json", **headers)


def _exists(acme, contact_id) -> bool:
    with use_workspace(acme):
        return Contact.objects.filter(pk=contact_id).exists()


def test_a_view_and_edit_token_cannot_erase_a_contact_by_patching_another_with_its_email(
    client, acme, view_edit, ada_and_lovelace
):
    ada, lovelace = ada_and_lovelace
    response = _patch(client, f"/api/contacts/{lovelace.id}/edit", {"email": "ada@analytical.example"}, view_edit)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == 403
    assert _exists(acme, ada.id)
    with use_workspace(acme):
        assert selectors.contact_get(lovelace.id).email == "lovelace@analytical.example"


def test_a_view_and_edit_token_cannot_merge_through_a_batch_edit_either(client, acme, view_edit, ada_and_lovelace):
    ada, lovelace = ada_and_lovelace
    batch = [{"id": lovelace.id, "email": "ada@analytical.example"}]
    body = _patch(client, "/api/contacts/batch/edit", batch, view_edit).json()
    assert body["statusCodes"] == [403]
    assert _exists(acme, ada.id)


def test_a_token_with_contacts_delete_still_merges_on_edit(client, acme, view_edit_delete, ada_and_lovelace):
    ada, lovelace = ada_and_lovelace
    response = _patch(
        client, f"/api/contacts/{lovelace.id}/edit", {"email": "ada@analytical.example"}, view_edit_delete
    )
    assert response.status_code == 200
    assert response.json()["contact"]["id"] == lovelace.id
    assert not _exists(acme, ada.id)


def test_a_view_and_edit_token_still_edits_without_a_merge(client, acme, view_edit, ada_and_lovelace):
    _, lovelace = ada_and_lovelace
    response = _patch(client, f"/api/contacts/{lovelace.id}/edit", {"city": "Paris"}, view_edit)
    assert response.status_code == 200
    assert response.json()["contact"]["fields"]["all"]["city"] == "Paris"


def test_a_mautic_resource_must_state_its_permissions():
    from tidings.mautic_compat.standard import Resource

    def nothing(*args, **kwargs):
        return None

    with pytest.raises(TypeError):
        Resource(  # no view/edit/delete permission: never silently contacts'
            one="segment",
            many="segments",
            list=nothing,
            get=nothing,
            serialize=nothing,
            create=nothing,
            update=nothing,
            delete=nothing,
        )


@pytest.mark.parametrize("name", ["CONTACTS", "NOTES", "COMPANIES", "FIELDS", "TAGS"])
def test_every_mautic_resource_names_permissions_of_the_catalogue(name):
    from tidings.accounts.permissions import PERMISSIONS
    from tidings.mautic_compat import companies, contacts, fields, notes, tags

    modules = (contacts, notes, companies, fields, tags)
    resource = next(getattr(module, name) for module in modules if hasattr(module, name))
    assert {resource.view_permission, resource.edit_permission, resource.delete_permission} <= set(PERMISSIONS)
