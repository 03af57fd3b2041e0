"""The duplicates page, the side-by-side merge preview and "not duplicates", for alice and narrower members."""

import pytest

from tidings.accounts.permissions import ROLE_PERMISSIONS, Role
from tidings.contacts import actions, selectors
from tidings.contacts.models import DuplicateDismissal
from tidings.tests.principals import system


@pytest.fixture
def twin(in_acme, ada):
    """Ada again, under another address of her domain: the finder proposes (ada, twin)."""
    return actions.contact_create(
        {"email": "a.quillfeather@analytical.example", "firstname": "Augusta", "lastname": "Quillfeather",
         "city": "Paris", "phone": "+44 20 7946 0001"},
        principal=system(),
    )  # fmt: skip


@pytest.fixture
def mo_client(acme, client, monkeypatch):
    """A client signed in as mo, a marketer in Acme whose role is narrowed by the test (see _without)."""
    from tidings.accounts.actions import membership_create, user_create

    mo = user_create(email="mo@acme.example", password="correct horse battery staple")
    membership_create(workspace=acme, user=mo, role="marketer", principal=system(acme))
    client.force_login(mo)
    return client


def _without(monkeypatch, permission: str) -> None:
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.MARKETER, ROLE_PERMISSIONS[Role.MARKETER] - {permission})


def test_the_page_lists_the_pair_with_its_reason_and_a_merge_link(alice_client, ada, twin):
    response = alice_client.get("/w/acme/contacts/duplicates/")

    assert [(p.contact.id, p.other.id) for p in response.context["page"].items] == [(ada.id, twin.id)]
    assert "Same email domain and a name word in common" in response.content.decode()
    assert f"/w/acme/contacts/{ada.id}/merge/{twin.id}/" in response.content.decode()


def test_the_page_is_in_the_contacts_navigation(alice_client, ada):
    response = alice_client.get("/w/acme/contacts/duplicates/")

    contacts_group = next(g for g in response.context["nav_groups"] if g["label"] == "Contacts")
    assert "Duplicates" in [item["label"] for item in contacts_group["items"]]


def test_a_bad_page_link_answers_400_with_a_way_back(alice_client, ada):
    response = alice_client.get("/w/acme/contacts/duplicates/", {"after": "forged"})

    assert response.status_code == 400
    assert "First page" in response.content.decode()


def test_the_page_needs_contacts_edit(mo_client, monkeypatch, ada, twin):
    _without(monkeypatch, "contacts:edit")

    assert mo_client.get("/w/acme/contacts/duplicates/").status_code == 403
    assert mo_client.get(f"/w/acme/contacts/{ada.id}/merge/{twin.id}/").status_code == 403
    assert mo_client.post(f"/w/acme/contacts/{ada.id}/not-duplicate/{twin.id}/").status_code == 403


def test_not_duplicates_hides_the_pair(alice_client, ada, twin):
    alice_client.post(f"/w/acme/contacts/{ada.id}/not-duplicate/{twin.id}/")

    assert alice_client.get("/w/acme/contacts/duplicates/").context["page"].items == []
    assert DuplicateDismissal.objects.filter(contact_id=ada.id, other_id=twin.id).exists()


def test_the_preview_shows_both_values_with_the_default_chosen(alice_client, ada, twin):
    response = alice_client.get(f"/w/acme/contacts/{ada.id}/merge/{twin.id}/")

    rows = {row["field"].alias: row for row in response.context["rows"]}
    assert (rows["firstname"]["winner"], rows["firstname"]["loser"]) == ("Ada", "Augusta")
    assert (rows["firstname"]["chosen"], rows["phone"]["chosen"], rows["city"]["chosen"]) == (
        "winner", "loser", "winner",
    )  # fmt: skip
    assert "mathematics" in response.content.decode()  # the tags both will have


def test_merging_from_the_preview_keeps_the_chosen_values(alice_client, ada, twin):
    alice_client.post(
        f"/w/acme/contacts/{ada.id}/merge/{twin.id}/", {"choice-firstname": "loser", "choice-city": "loser"}
    )

    merged = selectors.contact_get(ada.id)
    assert (merged.get("firstname"), merged.get("city"), merged.get("phone")) == (
        "Augusta",
        "Paris",
        "+44 20 7946 0001",
    )
    assert merged.email == "ada@analytical.example"
    assert not selectors.contacts_get([twin.id])


def test_an_unknown_side_answers_400_and_merges_nothing(alice_client, ada, twin):
    response = alice_client.post(f"/w/acme/contacts/{ada.id}/merge/{twin.id}/", {"choice-city": "both"})

    assert response.status_code == 400
    assert selectors.contacts_get([twin.id])


def test_merging_from_the_preview_needs_contacts_delete(mo_client, monkeypatch, ada, twin):
    _without(monkeypatch, "contacts:delete")

    assert mo_client.get(f"/w/acme/contacts/{ada.id}/merge/{twin.id}/").status_code == 200
    assert mo_client.post(f"/w/acme/contacts/{ada.id}/merge/{twin.id}/").status_code == 403
    assert selectors.contacts_get([twin.id])


def test_the_preview_of_a_contact_with_itself_is_not_found(alice_client, ada):
    assert alice_client.get(f"/w/acme/contacts/{ada.id}/merge/{ada.id}/").status_code == 404


def test_the_merge_page_links_to_the_side_by_side_preview(alice_client, ada, grace):
    response = alice_client.post(f"/w/acme/contacts/{ada.id}/merge/", {"other": str(grace.id)})

    assert f"/w/acme/contacts/{ada.id}/merge/{grace.id}/" in response.content.decode()
