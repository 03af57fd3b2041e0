"""Segment pages: the list, the builder and its live preview, the members, the contact page's panel, permissions.

alice owns Acme; arun is an analyst there (segments:view, no contacts:view, no segments:edit);
vic is a viewer-like member with neither segments permission.
"""

import json

import pytest

from tidings.segments import actions, selectors
from tidings.segments.models import MembershipStatus
from tidings.tests.principals import system

LONDON = {"match": "all", "filters": [{"kind": "field", "object": "contact", "field": "city", "operator": "equals",
                                       "value": "London"}]}  # fmt: skip


@pytest.fixture
def londoners(ada, grace):
    return actions.segment_create(principal=system(), name="Londoners", definition=LONDON)


def _member(acme, email: str, role: str):
    from tidings.accounts.actions import membership_create, user_create

    user = user_create(email=email, password="correct horse battery staple")
    membership_create(workspace=acme, user=user, role=role, principal=system(acme))
    return user


@pytest.fixture
def arun_client(acme, client):
    """A client signed in as arun, an analyst in Acme: segments:view only."""
    client.force_login(_member(acme, "arun@acme.example", "analyst"))
    return client


@pytest.fixture
def no_segments_client(acme, client, monkeypatch):
    """A client signed in as a member whose role lacks segments:view (the marketer role, minus it)."""
    from tidings.accounts import permissions

    user = _member(acme, "vic@acme.example", "marketer")
    monkeypatch.setitem(
        permissions.ROLE_PERMISSIONS,
        "marketer",
        permissions.ROLE_PERMISSIONS["marketer"] - {"segments:view", "segments:edit"},
    )
    client.force_login(user)
    return client


def _preview(client, definition) -> tuple[int, str, dict]:
    text = definition if isinstance(definition, str) else json.dumps(definition)
    response = client.post("/w/acme/segments/preview/", {"definition": text})
    body = response.content.decode()
    return response.status_code, body, response.context["errors"] if response.context else {}


# ---------------------------------------------------------------------------------------------- list


def test_the_list_shows_segments_with_members(alice_client, londoners):
    response = alice_client.get("/w/acme/segments/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Londoners" in body and "londoners" in body
    assert [s.name for s in response.context["rows"]] == ["Londoners"]
    assert response.context["rows"][0].member_count == 1


def test_the_list_shows_each_segments_change_over_thirty_days(alice_client, londoners, in_acme):
    import datetime

    from django.utils import timezone

    from tidings.segments.models import SegmentCountDay

    today = timezone.now().date()
    SegmentCountDay.objects.create(segment_id=londoners.pk, day=today - datetime.timedelta(days=45), members=9)
    SegmentCountDay.objects.create(segment_id=londoners.pk, day=today - datetime.timedelta(days=31), members=4)
    newer = actions.segment_create(principal=system(), name="Newcomers", definition=LONDON)

    response = alice_client.get("/w/acme/segments/")

    changes = {s.name: s.change for s in response.context["rows"]}
    assert changes == {"Londoners": 1 - 4, "Newcomers": None}
    body = response.content.decode()
    assert "−3" in body and ">new<" in body and "Change (30 days)" in body
    assert newer.pk


def test_the_list_searches_by_name(alice_client, londoners, in_acme):
    actions.segment_create(principal=system(), name="Parisians", definition={"match": "all", "filters": []})

    response = alice_client.get("/w/acme/segments/", {"q": "paris"})

    assert [s.name for s in response.context["rows"]] == ["Parisians"]


def test_an_empty_list_says_what_to_do(alice_client, in_acme):
    body = alice_client.get("/w/acme/segments/").content.decode()

    assert "No segments yet" in body and "New segment" in body


def test_the_navigation_has_segments(alice_client, in_acme):
    body = alice_client.get("/w/acme/").content.decode()

    assert 'href="/w/acme/segments/"' in body


def test_delete_asks_first_then_deletes(alice_client, londoners):
    asked = alice_client.post(f"/w/acme/segments/{londoners.pk}/delete/")
    done = alice_client.post(f"/w/acme/segments/{londoners.pk}/delete/", {"confirmed": "1"})

    assert asked.status_code == 200 and "Delete segment" in asked.content.decode()
    assert done.status_code == 302
    assert not selectors.segments_list().exists()


def test_delete_of_a_segment_others_use_says_why(alice_client, londoners):
    actions.segment_create(
        principal=system(),
        name="Not Londoners",
        definition={"match": "all", "filters": [{"kind": "segment", "operator": "not_in", "value": [londoners.pk]}]},
    )

    response = alice_client.post(f"/w/acme/segments/{londoners.pk}/delete/", {"confirmed": "1"}, follow=True)

    assert "was not deleted" in response.content.decode()
    assert "used by the filters of 1 other segment" in response.content.decode()
    assert selectors.segment_get(londoners.pk)


# ---------------------------------------------------------------------------------------------- builder


def test_the_builder_offers_encrypted_fields_with_their_note(alice_client, in_acme):
    response = alice_client.get("/w/acme/segments/new/")

    schema = json.loads(response.context["schema_json"])
    email = next(f for f in schema["fields"]["contact"] if f["alias"] == "email")
    assert response.status_code == 200
    assert set(email["operators"]) <= {"equals", "in", "empty", "not_empty", "not_equals", "not_in"}
    assert "blind index" in email["note"]
    assert any(f["alias"] == "date_added" for f in schema["fields"]["contact"])


def test_the_builder_offers_data_conditions_traffic_attributes_and_purposes(alice_client, in_acme):
    schema = json.loads(alice_client.get("/w/acme/segments/new/").context["schema_json"])

    hit = {lookup: kind for lookup, _label, kind in schema["event_data"]["page.hit"]}
    assert {"url": "url", "url__contains": "url", "url__startswith": "url", "site__gte": "int"}.items() <= hit.items()
    assert "ip" not in hit and not any(kind == "label" for kind in hit.values())  # labels: the traffic filters'
    assert ["asset_id", "asset id is", "int"] in schema["event_data"]["asset.download"]
    assert [a for a, _ in schema["traffic"]["attributes"]] == ["utm_source", "utm_medium", "utm_campaign", "device",
                                                               "os", "browser"]  # fmt: skip
    assert "marketing_email" in [p["key"] for p in schema["purposes"]]
    assert set(schema["operators"]["consent"]) == {"has", "has_not"}


def test_create_a_segment_from_the_builder(alice_client, ada, grace):
    response = alice_client.post(
        "/w/acme/segments/new/",
        {"name": "Londoners", "alias": "", "description": "", "is_published": "on", "definition": json.dumps(LONDON)},
    )

    segment = selectors.segment_by_alias("londoners")
    assert response.status_code == 302
    assert list(selectors.segment_member_ids(segment.pk)) == [ada.id]


def test_a_bad_filter_keeps_the_input_and_keys_the_error(alice_client, ada):
    definition = {"match": "all", "filters": [{"kind": "field", "field": "points", "operator": "gt", "value": "lots"}]}

    response = alice_client.post("/w/acme/segments/new/", {"name": "Big", "definition": json.dumps(definition)})

    assert response.status_code == 400
    assert "filters.0.value" in response.context["filter_errors"]
    assert response.context["form"]["name"].value() == "Big"
    assert json.loads(response.context["form"]["definition"].value()) == definition
    assert not selectors.segments_list().exists()


def test_json_that_does_not_parse_is_said_and_kept(alice_client, in_acme):
    response = alice_client.post("/w/acme/segments/new/", {"name": "Big", "definition": "{not json"})

    assert response.status_code == 400
    assert "not valid JSON" in response.content.decode()
    assert response.context["form"]["definition"].value() == "{not json"


def test_edit_shows_sealed_values_opened_and_saves(alice_client, ada, grace):
    by_email = {"match": "all", "filters": [{"kind": "field", "field": "email", "operator": "equals",
                                             "value": "grace@navy.example"}]}  # fmt: skip
    segment = actions.segment_create(principal=system(), name="Grace", definition=by_email)

    shown = alice_client.get(f"/w/acme/segments/{segment.pk}/edit/")
    saved = alice_client.post(
        f"/w/acme/segments/{segment.pk}/edit/",
        {"name": "Londoners now", "alias": segment.alias, "definition": json.dumps(LONDON)},
    )

    assert "grace@navy.example" in shown.context["form"]["definition"].value()
    assert saved.status_code == 302
    assert list(selectors.segment_member_ids(segment.pk)) == [ada.id]


def test_rebuild_now(alice_client, londoners):
    from tidings.contacts.actions import contact_create

    contact_create({"email": "lin@acme.example", "city": "London"}, principal=system())

    response = alice_client.post(f"/w/acme/segments/{londoners.pk}/rebuild/", follow=True)

    assert "1 added" in response.content.decode()
    assert selectors.segment_get(londoners.pk).member_count == 2


# ---------------------------------------------------------------------------------------------- preview


def test_the_preview_counts_and_shows_a_sample(alice_client, ada, grace):
    status, body, errors = _preview(alice_client, LONDON)

    assert status == 200 and errors == {}
    assert 'data-preview-count="1"' in body
    assert "Ada Quillfeather" in body and "Grace" not in body


def test_the_preview_of_no_filter_is_nobody(alice_client, ada):
    status, body, _ = _preview(alice_client, {"match": "all", "filters": []})

    assert status == 200 and 'data-preview-count="0"' in body


def test_the_preview_keys_errors_by_path_and_never_repeats_a_value(alice_client, ada):
    secret = "needle-7f3a@secret.example"
    definition = {
        "match": "any",
        "filters": [
            {"kind": "field", "field": "city", "operator": "equals", "value": "London"},
            {"kind": "group", "match": "all", "filters": [
                {"kind": "field", "field": "email", "operator": "contains", "value": secret},
                {"kind": "field", "field": "points", "operator": "gt", "value": secret},
            ]},
        ],
    }  # fmt: skip

    status, body, errors = _preview(alice_client, definition)
    del definition["filters"][1]["filters"][0]  # shape errors come first; values are checked once the shape is right
    _, value_body, value_errors = _preview(alice_client, definition)

    assert status == 200
    assert set(errors) == {"filters.1.filters.0.operator"}
    assert set(value_errors) == {"filters.1.filters.0.value"}
    assert secret not in body and secret not in value_body


def test_the_preview_says_when_json_is_broken(alice_client, in_acme):
    status, body, _ = _preview(alice_client, "[[[")

    assert status == 200 and "not valid JSON" in body


def test_an_analyst_cannot_preview_or_build(arun_client, in_acme):
    assert arun_client.post("/w/acme/segments/preview/", {"definition": "{}"}).status_code == 403
    assert arun_client.get("/w/acme/segments/new/").status_code == 403


# ---------------------------------------------------------------------------------------------- members


def test_the_members_page_shows_how_each_is_a_member(alice_client, londoners, ada, grace):
    actions.segment_members_add(londoners.pk, [grace.id], principal=system())

    response = alice_client.get(f"/w/acme/segments/{londoners.pk}/")

    how = {row["contact"].id: row["status"] for row in response.context["rows"]}
    assert how == {ada.id: MembershipStatus.FILTER, grace.id: MembershipStatus.ADDED}
    assert "added manually" in response.content.decode()
    assert response.context["chart"].rows  # the growth chart has the day of the first rebuild


def test_find_and_add_then_remove_then_reset(alice_client, londoners, ada, grace):
    found = alice_client.get(f"/w/acme/segments/{londoners.pk}/", {"find": "grace@navy.example"})
    added = alice_client.post(f"/w/acme/segments/{londoners.pk}/members/add/", {"ids": [grace.id]})
    assert set(selectors.segment_member_ids(londoners.pk)) == {ada.id, grace.id}

    alice_client.post(f"/w/acme/segments/{londoners.pk}/members/remove/", {"ids": [ada.id]})
    assert set(selectors.segment_member_ids(londoners.pk)) == {grace.id}
    removed = alice_client.get(f"/w/acme/segments/{londoners.pk}/", {"show": "removed"})
    assert [row["contact"].id for row in removed.context["rows"]] == [ada.id]

    alice_client.post(f"/w/acme/segments/{londoners.pk}/members/reset/", {"ids": [ada.id, grace.id]})
    assert set(selectors.segment_member_ids(londoners.pk)) == {ada.id}
    assert [c["contact"].id for c in found.context["candidates"]] == [grace.id]
    assert added.status_code == 302


def test_an_analyst_sees_counts_not_names(arun_client, londoners):
    response = arun_client.get(f"/w/acme/segments/{londoners.pk}/")

    assert response.status_code == 200
    assert response.context["rows"] == []
    assert "Quillfeather" not in response.content.decode()
    assert arun_client.post(f"/w/acme/segments/{londoners.pk}/members/remove/", {"ids": ["1"]}).status_code == 403


def test_a_member_without_segments_view_is_refused(no_segments_client, londoners):
    assert no_segments_client.get("/w/acme/segments/").status_code == 403
    assert no_segments_client.get(f"/w/acme/segments/{londoners.pk}/").status_code == 403
    assert 'href="/w/acme/segments/"' not in no_segments_client.get("/w/acme/").content.decode()


def test_an_unknown_segment_is_404(alice_client, in_acme):
    assert alice_client.get("/w/acme/segments/999999/").status_code == 404
    assert alice_client.post("/w/acme/segments/members/add/", {"segment": "x", "ids": ["1"]}).status_code == 404


# ---------------------------------------------------------------------------------------------- contact panel


def test_the_contact_page_lists_segments_and_adds_and_removes(alice_client, londoners, ada, grace):
    page = alice_client.get(f"/w/acme/contacts/{ada.id}/")
    assert 'id="segments"' in page.content.decode() and "Londoners" in page.content.decode()

    response = alice_client.post(
        "/w/acme/segments/members/add/", {"segment": londoners.pk, "ids": [grace.id], "next": "contact"}
    )
    assert response.status_code == 302 and response["Location"] == f"/w/acme/contacts/{grace.id}/#segments"
    assert [s.pk for s in selectors.contact_segments(grace.id)] == [londoners.pk]

    alice_client.post(f"/w/acme/segments/{londoners.pk}/members/remove/", {"ids": [grace.id], "next": "contact"})
    assert selectors.contact_segments(grace.id) == []


def test_the_panel_is_hidden_without_segments_view(no_segments_client, londoners, ada):
    body = no_segments_client.get(f"/w/acme/contacts/{ada.id}/").content.decode()

    assert 'id="segments"' not in body


# ---------------------------------------------------------------------------------------------- contacts list bulk


def test_the_contacts_list_offers_segments_in_its_bulk_menu(alice_client, londoners):
    body = alice_client.get("/w/acme/contacts/").content.decode()

    assert '<option value="segment_add">Add to segment</option>' in body
    assert f'<option value="{londoners.pk}">Londoners</option>' in body


def test_bulk_add_and_remove_selected_contacts(alice_client, londoners, ada, grace):
    added = alice_client.post(
        "/w/acme/contacts/bulk/", {"ids": [grace.id], "action": "segment_add", "segment": londoners.pk}, follow=True
    )
    assert set(selectors.segment_member_ids(londoners.pk)) == {ada.id, grace.id}
    assert "1 contact added to “Londoners”" in added.content.decode()

    alice_client.post(
        "/w/acme/contacts/bulk/", {"ids": [ada.id, grace.id], "action": "segment_remove", "segment": londoners.pk}
    )
    assert list(selectors.segment_member_ids(londoners.pk)) == []


def test_bulk_add_every_matching_contact(alice_client, londoners, ada, grace):
    alice_client.post(
        "/w/acme/contacts/bulk/", {"scope": "matching", "query": "", "action": "segment_add", "segment": londoners.pk}
    )

    assert set(selectors.segment_member_ids(londoners.pk)) == {ada.id, grace.id}


def test_bulk_to_an_unknown_segment_is_404(alice_client, londoners, grace):
    for segment in ("999999", "x", ""):
        response = alice_client.post(
            "/w/acme/contacts/bulk/", {"ids": [grace.id], "action": "segment_add", "segment": segment}
        )
        assert response.status_code == 404


def test_bulk_segment_actions_need_segments_edit(arun_client, londoners, grace):
    response = arun_client.post(
        "/w/acme/contacts/bulk/", {"ids": [grace.id], "action": "segment_add", "segment": londoners.pk}
    )

    assert response.status_code == 403
