"""The contacts list and the contact pages, used by alice (owner of Acme) and others."""

import pytest

from tidings.contacts import actions, selectors
from tidings.contacts.models import EventType
from tidings.tests.principals import system


def _list(client, **params):
    return client.get("/w/acme/contacts/", params)


def _names(response) -> list[str]:
    return [row["contact"].name for row in response.context["rows"]]


@pytest.fixture
def people(in_acme):
    """Twelve made-up contacts: Person 0..11, every third tagged "vip", points equal to their number."""
    return [
        actions.contact_create(
            {"email": f"person{i}@people.example", "firstname": "Person", "lastname": f"Number{i}", "points": i},
            tags=["vip"] if i % 3 == 0 else [],
            principal=system(),
        )
        for i in range(12)
    ]


def test_the_list_shows_contacts_with_their_tags(alice_client, ada, grace):
    response = _list(alice_client)

    assert response.status_code == 200
    assert set(_names(response)) == {"Ada Quillfeather", "Grace Brightwater"}
    assert b"mathematics" in response.content


def test_search_by_exact_email_finds_only_that_contact(alice_client, ada, grace):
    assert _names(_list(alice_client, q="ada@analytical.example")) == ["Ada Quillfeather"]


def test_search_by_part_of_an_email_finds_nobody(alice_client, ada):
    assert _names(_list(alice_client, q="ada@analytical")) == []


def test_search_by_name_word_ignores_case(alice_client, ada, grace):
    assert _names(_list(alice_client, q="QUILLFEATHER")) == ["Ada Quillfeather"]


def test_the_list_explains_that_encrypted_fields_match_exactly(alice_client, in_acme):
    assert b"exactly, never by part" in _list(alice_client).content


def test_search_commands_filter_by_tag(alice_client, ada, grace):
    assert _names(_list(alice_client, q="tag:mathematics")) == ["Ada Quillfeather"]


def test_filter_by_tag_and_do_not_contact(alice_client, ada, grace):
    actions.dnc_add(grace.id, channel="email", reason="unsubscribed", principal=system())
    tag = selectors.tags(search="mathematics")[0]

    assert _names(_list(alice_client, tag=tag.name)) == ["Ada Quillfeather"]
    assert _names(_list(alice_client, dnc="email")) == ["Grace Brightwater"]


def test_sort_by_points(alice_client, people):
    names = _names(_list(alice_client, sort="-points"))

    assert names[:2] == ["Person Number11", "Person Number10"]


def test_pages_follow_a_cursor_not_an_offset(alice_client, people, monkeypatch):
    from tidings.contacts.views import lists

    monkeypatch.setattr(lists, "PAGE_SIZE", 5)
    first = _list(alice_client, sort="id")
    cursor = first.context["page"].next_cursor
    second = _list(alice_client, sort="id", after=cursor)

    assert "after=" in first.context["next_query"] and "offset" not in first.context["next_query"]
    assert _names(first) == [f"Person Number{i}" for i in range(5)]
    assert _names(second) == [f"Person Number{i}" for i in range(5, 10)]


def test_htmx_asks_for_the_next_rows_only(alice_client, people, monkeypatch):
    from tidings.contacts.views import lists

    monkeypatch.setattr(lists, "PAGE_SIZE", 5)
    cursor = _list(alice_client, sort="id").context["page"].next_cursor
    response = alice_client.get("/w/acme/contacts/", {"sort": "id", "after": cursor}, HTTP_HX_REQUEST="true")

    assert b"<table" not in response.content
    assert b"Person Number5" in response.content


def test_the_list_costs_the_same_queries_for_a_few_or_many_contacts(
    alice_client, people, django_assert_max_num_queries
):
    _list(alice_client)  # warm the keyring cache and the core field seeding
    # Region: the page of contacts (6), field definitions for the columns, the capped total,
    # the member's list preference and saved views, the segments of the bulk menu (an action the segments
    # app registers), the stages of the stage filter; whatever the number of rows.
    with django_assert_max_num_queries(12, using="region_eu"), django_assert_max_num_queries(8, using="default"):
        response = _list(alice_client, q="tag:vip", sort="-points")

    assert len(response.context["rows"]) == 4


def test_a_bad_cursor_shows_an_error_not_a_crash(alice_client, ada):
    response = _list(alice_client, after="not-a-cursor")

    assert response.status_code == 200
    assert b"not a valid cursor" in response.content


def test_bulk_add_and_remove_a_tag(alice_client, ada, grace):
    alice_client.post("/w/acme/contacts/bulk/", {"ids": [ada.id, grace.id], "action": "tag_add", "tag": "speaker"})
    assert selectors.contact_tags(grace.id) == ["speaker"]

    alice_client.post("/w/acme/contacts/bulk/", {"ids": [ada.id], "action": "tag_remove", "tag": "speaker"})
    assert selectors.contact_tags(ada.id) == ["mathematics"]


def test_bulk_delete_asks_for_confirmation_first(alice_client, ada, grace):
    response = alice_client.post("/w/acme/contacts/bulk/", {"ids": [ada.id, grace.id], "action": "delete"})

    assert response.status_code == 200
    assert b"Delete 2 contacts" in response.content
    assert selectors.contacts_count() == 2


def test_bulk_delete_after_confirmation(alice_client, ada, grace):
    alice_client.post("/w/acme/contacts/bulk/", {"ids": [ada.id], "action": "delete", "confirmed": "1"})

    assert set(selectors.contacts_get([ada.id, grace.id])) == {grace.id}


def test_bulk_actions_from_another_workspace_touch_nothing(client, bob, ada):
    client.force_login(bob)
    client.post("/w/globex/contacts/bulk/", {"ids": [ada.id], "action": "delete", "confirmed": "1"})

    assert selectors.contacts_get([ada.id])


def test_an_analyst_gets_403_on_contact_pages(arun_client, ada):
    assert arun_client.get("/w/acme/contacts/").status_code == 403
    assert arun_client.get(f"/w/acme/contacts/{ada.id}/").status_code == 403
    assert arun_client.get("/w/acme/companies/").status_code == 403


def test_the_detail_page_groups_fields(alice_client, ada):
    actions.field_create(alias="favourite_engine", label="Favourite engine", type="text", principal=system())
    actions.contact_update(
        ada.id, {"favourite_engine": "Analytical", "address1": "12 St James's Square"}, principal=system()
    )
    response = alice_client.get(f"/w/acme/contacts/{ada.id}/")

    groups = dict(response.context["groups"])
    assert {row["definition"].alias for row in groups["Address"]} >= {"address1", "city", "country"}
    assert [row["value"] for row in groups["Custom fields"]] == ["Analytical"]
    assert b"12 St James&#x27;s Square" in response.content


def test_create_a_contact(alice_client, in_acme):
    response = alice_client.post("/w/acme/contacts/new/", {"email": "lin@people.example", "firstname": "Lin"})

    contact = selectors.contact_by_unique_identifier("email", "lin@people.example")
    assert response.status_code == 302
    assert contact.name == "Lin"


def test_an_empty_new_contact_is_refused_with_a_form_error(alice_client, in_acme):
    response = alice_client.post("/w/acme/contacts/new/", {"points": "0"})

    assert response.status_code == 400
    errors = response.context["form"].non_field_errors()
    assert "Fill in at least an email, a name, a company or a phone number." in errors
    assert selectors.contacts_page(limit=5).items == []


def test_a_contact_with_only_a_city_is_refused_too(alice_client, in_acme):
    response = alice_client.post("/w/acme/contacts/new/", {"city": "Lisbon", "points": "0"})

    assert response.status_code == 400
    assert selectors.contacts_page(limit=5).items == []


def test_a_bad_value_is_shown_next_to_its_field_and_nothing_typed_is_lost(alice_client, ada):
    response = alice_client.post(
        f"/w/acme/contacts/{ada.id}/edit/",
        {"email": "not-an-email", "firstname": "Augusta", "lastname": "Quillfeather", "city": "London", "points": "0"},
    )

    form = response.context["form"]
    assert response.status_code == 400
    assert "email" in form.errors
    assert form["firstname"].value() == "Augusta" and form["email"].value() == "not-an-email"
    assert selectors.contact_get(ada.id).get("firstname") == "Ada"


def test_editing_changes_only_what_changed(alice_client, ada):
    edit = alice_client.get(f"/w/acme/contacts/{ada.id}/edit/").context["form"]
    data = {name: value for name, value in edit.initial.items() if value not in ("", None)}
    data["city"] = "Paris"
    alice_client.post(f"/w/acme/contacts/{ada.id}/edit/", data)

    contact = selectors.contact_get(ada.id)
    assert contact.get("city") == "Paris" and contact.email == "ada@analytical.example"


def test_tags_are_added_and_removed_with_htmx(alice_client, ada):
    added = alice_client.post(f"/w/acme/contacts/{ada.id}/tags/", {"add": "pioneer"}, HTTP_HX_REQUEST="true")
    alice_client.post(f"/w/acme/contacts/{ada.id}/tags/", {"remove": "mathematics"}, HTTP_HX_REQUEST="true")

    assert b"pioneer" in added.content and b"<html" not in added.content
    assert selectors.contact_tags(ada.id) == ["pioneer"]


def test_notes_are_added_edited_and_deleted(alice_client, ada):
    alice_client.post(f"/w/acme/contacts/{ada.id}/notes/", {"type": "call", "text": "Called about the engine."})
    note = selectors.contact_notes(ada.id)[0]
    alice_client.post(f"/w/acme/contacts/{ada.id}/notes/{note.id}/edit/", {"type": "meeting", "text": "Met instead."})
    edited = selectors.note_get(note.id)
    alice_client.post(f"/w/acme/contacts/{ada.id}/notes/{note.id}/delete/")

    assert (note.type, note.text) == ("call", "Called about the engine.")
    assert (edited.type, edited.text) == ("meeting", "Met instead.")
    assert selectors.contact_notes(ada.id) == []


def test_an_empty_note_from_htmx_gets_the_notes_panel_back_with_the_error(alice_client, ada):
    url = f"/w/acme/contacts/{ada.id}/notes/"
    response = alice_client.post(url, {"type": "general", "text": ""}, HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert response.status_code == 200  # htmx swaps only successful answers
    assert "Write the note first." in page and "<html" not in page
    assert 'id="notes-heading"' in page


def test_a_note_added_with_htmx_comes_back_in_the_panel(alice_client, ada):
    url = f"/w/acme/contacts/{ada.id}/notes/"
    response = alice_client.post(url, {"type": "call", "text": "Called about the engine."}, HTTP_HX_REQUEST="true")

    assert "Called about the engine." in response.content.decode() and b"<html" not in response.content


def test_an_empty_note_without_javascript_lands_on_the_notes_panel(alice_client, ada):
    page = alice_client.get(f"/w/acme/contacts/{ada.id}/").content.decode()

    assert f'action="/w/acme/contacts/{ada.id}/notes/#notes"' in page


def test_a_note_of_another_contact_is_not_found_under_this_one(alice_client, ada, grace):
    note = actions.note_add(grace.id, "Grace's note.", principal=system())

    assert alice_client.get(f"/w/acme/contacts/{ada.id}/notes/{note.id}/edit/").status_code == 404


def test_companies_are_linked_made_primary_and_unlinked(alice_client, ada):
    first = actions.company_create({"companyname": "Analytical Engines"}, principal=system())
    second = actions.company_create({"companyname": "Difference Ltd"}, principal=system())
    alice_client.post(f"/w/acme/contacts/{ada.id}/companies/", {"company": first.id})
    alice_client.post(f"/w/acme/contacts/{ada.id}/companies/", {"company": second.id})
    alice_client.post(f"/w/acme/contacts/{ada.id}/companies/{second.id}/primary/")
    primary = [link.company.name for link in selectors.contact_companies(ada.id) if link.is_primary]
    alice_client.post(f"/w/acme/contacts/{ada.id}/companies/{second.id}/unlink/")

    assert primary == ["Difference Ltd"]
    assert [(link.company.name, link.is_primary) for link in selectors.contact_companies(ada.id)] == [
        ("Analytical Engines", True)
    ]


def test_do_not_contact_is_added_with_a_reason_and_removed(alice_client, ada):
    alice_client.post(f"/w/acme/contacts/{ada.id}/dnc/", {"channel": "sms", "reason": "complaint", "comment": "Asked"})
    added = [(d.channel, d.reason, d.comment) for d in selectors.contact_dnc(ada.id)]
    alice_client.post(f"/w/acme/contacts/{ada.id}/dnc/sms/remove/")

    assert added == [("sms", "complaint", "Asked")]
    assert selectors.contact_dnc(ada.id) == []


def test_the_timeline_shows_newest_first_and_pages(alice_client, ada, monkeypatch):
    import datetime

    from django.utils import timezone

    from tidings.contacts.views import contact

    monkeypatch.setattr(contact, "TIMELINE_PAGE", 4)
    start = timezone.now() - datetime.timedelta(days=1)
    actions.events_append(
        [
            {
                "contact_id": ada.id,
                "type": EventType.PAGE_HIT,
                "at": start + datetime.timedelta(minutes=i),
                "data": {"page": i},
            }
            for i in range(5)
        ],
        principal=system(),  # fmt: skip
    )
    first = alice_client.get(f"/w/acme/contacts/{ada.id}/").context["timeline"]
    older = alice_client.get(f"/w/acme/contacts/{ada.id}/timeline/", {"before": first.next_cursor})

    # ada's creation wrote two events (created, tag "mathematics" added), newer than the visits.
    assert {e.type for e in first.items[:2]} == {"contact.created", "contact.tag_added"}
    assert [e.data.get("page") for e in first.items[2:]] == [4, 3]
    assert [e.data["page"] for e in older.context["timeline"].items] == [2, 1, 0]


def test_merge_asks_for_confirmation_then_merges(alice_client, acme, ada, grace):
    from tidings.accounts.tests.helpers import audit_actions

    preview = alice_client.post(f"/w/acme/contacts/{ada.id}/merge/", {"other": "grace@navy.example"})
    assert preview.context["other"].id == grace.id
    assert selectors.contacts_get([grace.id])

    alice_client.post(f"/w/acme/contacts/{ada.id}/merge/", {"other": str(grace.id), "confirmed": "1"})

    assert not selectors.contacts_get([grace.id])
    assert "contact.merged" in audit_actions(acme)


def test_merge_with_an_unknown_contact_says_so(alice_client, ada):
    response = alice_client.post(f"/w/acme/contacts/{ada.id}/merge/", {"other": "nobody@nowhere.invalid"})

    assert "other" in response.context["form"].errors


def test_deleting_a_contact_asks_then_deletes(alice_client, ada):
    assert alice_client.get(f"/w/acme/contacts/{ada.id}/delete/").status_code == 200
    alice_client.post(f"/w/acme/contacts/{ada.id}/delete/")

    assert not selectors.contacts_get([ada.id])


def test_every_page_opens_for_the_owner(alice_client, ada, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tidings.contacts import imports

    settings.VAR_DIR = tmp_path
    company = actions.company_create({"companyname": "Analytical Engines"}, principal=system())
    note = actions.note_add(ada.id, "A note.", principal=system())
    field = actions.field_create(alias="shoe_size", label="Shoe size", type="number", principal=system())
    job = imports.import_create(SimpleUploadedFile("people.csv", b"email\nzoe@people.example\n"), principal=system())
    pages = [
        "/w/acme/contacts/new/",
        f"/w/acme/contacts/{ada.id}/edit/",
        f"/w/acme/contacts/{ada.id}/merge/",
        f"/w/acme/contacts/{ada.id}/notes/{note.id}/edit/",
        "/w/acme/companies/new/",
        f"/w/acme/companies/{company.id}/edit/",
        f"/w/acme/companies/{company.id}/delete/",
        "/w/acme/settings/fields/?object=company",
        f"/w/acme/settings/fields/{field.id}/delete/",
        "/w/acme/contacts/import/",
        "/w/acme/contacts/imports/",
        f"/w/acme/contacts/imports/{job.id}/",
        f"/w/acme/contacts/imports/{job.id}/map/",
    ]

    assert {page: alice_client.get(page).status_code for page in pages} == dict.fromkeys(pages, 200)
