"""The contacts list's search, filters and saved views, used by alice (owner of Acme) and other members."""

import csv
import io

import pytest

from tidings.contacts import actions, search_query
from tidings.contacts.models import SavedView
from tidings.tests.principals import system

LIST = "/w/acme/contacts/"


def _names(response) -> list[str]:
    return sorted(row["contact"].name for row in response.context["rows"])


@pytest.fixture
def lumen(in_acme):
    """Lu Moreau works at Lumen Studios in Berlin (a linked company)."""
    contact = actions.contact_create({"firstname": "Lu", "lastname": "Moreau", "city": "Berlin"}, principal=system())
    company = actions.company_create({"companyname": "Lumen Studios"}, principal=system())
    actions.company_link(contact.id, company.id, principal=system())
    return contact


@pytest.fixture
def marco(acme, make_user):
    """marco, a marketer of Acme."""
    from tidings.accounts.actions import membership_create

    user = make_user("marco@acme.example")
    membership_create(workspace=acme, user=user, role="marketer", principal=system(acme))
    return user


def _principal(user, workspace):
    from tidings.accounts.selectors import principal_for_user

    return principal_for_user(user, workspace)


# ---------------------------------------------------------------------------------------------
# Search that says why it found nothing


def test_an_unknown_command_is_explained(alice_client, ada):
    content = alice_client.get(LIST, {"q": "colour:blue"}).content

    assert "“colour:” is not a search command".encode() in content


def test_part_of_an_email_says_addresses_match_exactly(alice_client, ada):
    content = alice_client.get(LIST, {"q": "ada@analytical"}).content

    assert b"No contacts match" in content
    assert b"Email addresses are encrypted and match exactly" in content


def test_part_of_a_name_says_names_match_whole_words(alice_client, ada):
    content = alice_client.get(LIST, {"q": "quill"}).content

    assert "Names are encrypted: they match whole words (“lovelace”, not “love”)".encode() in content
    assert b"email matches exactly or by domain" in content


def test_a_search_that_finds_someone_shows_no_hint(alice_client, ada):
    assert b"match whole words (" not in alice_client.get(LIST, {"q": "quillfeather"}).content


# ---------------------------------------------------------------------------------------------
# Company and city


def test_company_command_takes_a_name_of_several_words_without_quotes(alice_client, lumen, ada):
    assert _names(alice_client.get(LIST, {"q": "company:Lumen Studios"})) == ["Lu Moreau"]


def test_company_command_then_a_name_word(alice_client, lumen, ada):
    assert _names(alice_client.get(LIST, {"q": "company:lumen studios moreau"})) == ["Lu Moreau"]


def test_parse_search_keeps_the_words_after_company_together():
    assert search_query.parse_search("company:Lumen Studios tag:vip ada") == [
        ("company", "Lumen Studios"),
        ("tag", "vip"),
        ("text", "ada"),
    ]


def test_plain_text_finds_a_company_by_part_of_its_name(alice_client, lumen, ada):
    assert _names(alice_client.get(LIST, {"q": "lumen"})) == ["Lu Moreau"]


def test_plain_text_finds_a_city_by_its_whole_name(alice_client, lumen, ada):
    assert _names(alice_client.get(LIST, {"q": "london"})) == ["Ada Quillfeather"]


def test_plain_text_still_finds_names(alice_client, lumen, ada):
    assert _names(alice_client.get(LIST, {"q": "moreau"})) == ["Lu Moreau"]


def test_plain_text_finds_a_name_or_a_company(alice_client, lumen, in_acme):
    actions.contact_create({"firstname": "Lumen", "lastname": "Okafor"}, principal=system())

    assert _names(alice_client.get(LIST, {"q": "lumen"})) == ["Lu Moreau", "Lumen Okafor"]


# ---------------------------------------------------------------------------------------------
# Filters: country, owner


def test_country_filter_finds_every_spelling_of_the_country(alice_client, in_acme):
    for name, country in [("Anke", "Germany"), ("Bert", "de"), ("Cord", "DE"), ("Dana", "France")]:
        actions.contact_create({"firstname": name, "country": country}, principal=system())

    assert _names(alice_client.get(LIST, {"country": "DE"})) == ["Anke", "Bert", "Cord"]


def test_a_country_typed_by_name_is_read_as_its_code(alice_client, in_acme):
    actions.contact_create({"firstname": "Anke", "country": "DE"}, principal=system())
    response = alice_client.get(LIST, {"country": "germany"})

    assert _names(response) == ["Anke"]
    assert b'<option value="DE" selected>Germany (DE)</option>' in response.content


def test_an_unknown_country_is_explained(alice_client, ada):
    assert b"Choose a country from the list." in alice_client.get(LIST, {"country": "Atlantis"}).content


def test_owner_me_finds_my_contacts(alice_client, alice, ada, grace):
    actions.contact_update(ada.id, {"owner": alice.id}, principal=system())

    assert _names(alice_client.get(LIST, {"owner": "me"})) == ["Ada Quillfeather"]


# ---------------------------------------------------------------------------------------------
# Saved views


def test_a_saved_view_keeps_filters_columns_and_sort(alice_client, ada, grace):
    alice_client.post(
        "/w/acme/contacts/views/",
        {"name": "Mathematicians", "query": "tag=mathematics&sort=-points", "columns": ["name", "city"]},
    )
    view = SavedView.objects.get(name="Mathematicians")
    response = alice_client.get(LIST, {"view": view.pk})

    assert view.query == {"tag": "mathematics", "sort": "-points"}
    assert _names(response) == ["Ada Quillfeather"]
    assert [c.key for c in response.context["table"].visible] == ["name", "city"]
    assert response.context["table"].order == "-points"


def test_a_view_does_not_keep_a_search_for_a_person(alice_client, ada):
    response = alice_client.post(
        "/w/acme/contacts/views/", {"name": "Ada", "query": "q=email%3Aada%40analytical.example"}, follow=True
    )

    assert b"a saved view keeps filters, not people" in response.content
    assert not SavedView.objects.exists()


def test_another_members_private_view_is_not_found(client, marco, alice, acme, in_acme):
    view = actions.saved_view_save(
        "contacts", name="Mine", query={"tag": "vip"}, columns=[], principal=_principal(alice, acme)
    )
    client.force_login(marco)

    assert client.get(LIST, {"view": view.pk}).status_code == 404
    assert b"Mine" not in client.get(LIST).content


def test_a_shared_view_is_listed_for_every_member(client, marco, alice, acme, in_acme):
    actions.saved_view_save(
        "contacts", name="Team view", query={"tag": "vip"}, columns=[], shared=True, principal=_principal(alice, acme)
    )
    client.force_login(marco)

    assert b"Team view" in client.get(LIST).content


def test_only_the_owner_deletes_a_shared_view(client, marco, alice, acme, in_acme):
    view = actions.saved_view_save(
        "contacts", name="Team view", query={}, columns=[], shared=True, principal=_principal(alice, acme)
    )
    client.force_login(marco)

    assert client.post(f"/w/acme/contacts/views/{view.pk}/delete/").status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()


def test_the_owner_deletes_a_view(alice_client, alice, acme, in_acme):
    view = actions.saved_view_save("contacts", name="Old", query={}, columns=[], principal=_principal(alice, acme))
    alice_client.post(f"/w/acme/contacts/views/{view.pk}/delete/")

    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_bobs_views_in_globex_are_invisible_to_alice(alice_client, bob, globex, acme):
    from tidings.tenancy.context import use_workspace

    with use_workspace(globex):
        view = actions.saved_view_save(
            "contacts", name="Bob's shared", query={}, columns=[], shared=True, principal=_principal(bob, globex)
        )

    assert alice_client.get(LIST, {"view": view.pk}).status_code == 404
    assert b"Bob&#x27;s shared" not in alice_client.get(LIST).content


def test_saving_a_view_is_audited_with_its_name(alice, acme, in_acme):
    from tidings.audit.actions import audit_outbox_forward
    from tidings.audit.models import AuditEntry

    actions.saved_view_save("contacts", name="Team", query={}, columns=[], principal=_principal(alice, acme))
    audit_outbox_forward()

    entry = AuditEntry.objects.get(action="contacts.view_saved")
    assert entry.data == {"name": "Team", "shared": False}


# ---------------------------------------------------------------------------------------------
# Export: columns, selected contacts, Yes/No


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_export_writes_only_the_chosen_columns(alice_client, ada):
    rows = _csv(alice_client.get("/w/acme/contacts/export/csv/", {"columns": ["email", "city"]}))

    assert list(rows[0]) == ["id", "email", "city", "lawful_basis", "created_at"]
    assert rows[0]["city"] == "London"


def test_export_selected_writes_only_those_contacts(alice_client, ada, grace):
    rows = _csv(alice_client.get("/w/acme/contacts/export/csv/", {"ids": [grace.id], "columns": ["email"]}))

    assert [row["email"] for row in rows] == ["grace@navy.example"]


def test_export_writes_yes_and_no(alice_client, ada, grace):
    actions.field_create(alias="newsletter", label="Newsletter", type="boolean", principal=system())
    actions.contact_update(ada.id, {"newsletter": True}, principal=system())
    actions.contact_update(grace.id, {"newsletter": False}, principal=system())

    rows = _csv(alice_client.get("/w/acme/contacts/export/csv/", {"columns": ["email", "newsletter"]}))

    assert {row["email"]: row["newsletter"] for row in rows} == {
        "ada@analytical.example": "Yes",
        "grace@navy.example": "No",
    }


def test_export_refuses_an_unknown_column(alice_client, ada):
    response = alice_client.get("/w/acme/contacts/export/csv/", {"columns": ["password"]})

    assert response.status_code == 400
    assert b"choose columns among the contact fields and tags" in response.content
