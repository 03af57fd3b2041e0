"""The contact page seen by alice (owner of Acme): its header, engagement summary and readable timeline."""

import datetime

import pytest
from django.db import connections
from django.utils import timezone

from tidings.accounts.selectors import principal_for_user
from tidings.contacts import actions, selectors
from tidings.contacts.models import EventType
from tidings.tests.principals import system


def _page(client, contact):
    return client.get(f"/w/acme/contacts/{contact.id}/")


def _sentences(response) -> list[str]:
    return [event.text for event in response.context["timeline"].items]


@pytest.fixture
def as_alice(alice, acme):
    return principal_for_user(alice, acme)


def _visits(contact, *, days_ago: int, count: int = 1, code=EventType.PAGE_HIT, data=None):
    at = timezone.now() - datetime.timedelta(days=days_ago)
    rows = [{"contact_id": contact.id, "type": code, "at": at, "data": data or {}} for _ in range(count)]
    actions.events_append(rows, principal=system())


# ---------------------------------------------------------------------------------------------- header


def test_the_header_names_the_contact_with_its_email(alice_client, ada):
    page = _page(alice_client, ada).content.decode()

    assert '<header class="page-header">' in page
    assert "<h1>Ada Quillfeather</h1>" in page
    assert '<p class="page-subtitle">ada@analytical.example</p>' in page


def test_a_contact_without_a_name_is_anonymous_in_the_header(alice_client, in_acme):
    nameless = actions.contact_create({"email": "nameless@people.example"}, principal=system())

    assert "<h1>Anonymous</h1>" in _page(alice_client, nameless).content.decode()


def test_the_breadcrumbs_lead_back_to_the_list(alice_client, ada):
    page = _page(alice_client, ada).content.decode()

    assert '<nav class="breadcrumbs" aria-label="Breadcrumb">' in page
    assert 'href="/w/acme/contacts/">Contacts</a>' in page


def test_the_header_shows_the_owner_by_name(alice_client, in_acme, alice):
    owned = actions.contact_create({"email": "owned@people.example", "owner": alice.id}, principal=system())

    response = _page(alice_client, owned)

    assert response.context["owner"] == "alice@acme.example"
    assert "<dt>Owner</dt><dd>alice@acme.example</dd>" in response.content.decode()


def test_the_header_shows_points_stage_and_lawful_basis(alice_client, in_acme):
    qualified = actions.stage_create({"name": "Qualified"}, principal=system())
    contact = actions.contact_create(
        {"email": "scored@people.example", "points": 42, "stage": qualified.id},
        lawful_basis="consent",
        principal=system(),
    )

    page = _page(alice_client, contact).content.decode()

    assert "<dt>Points</dt><dd>42</dd>" in page
    assert "<dt>Stage</dt><dd>Qualified</dd>" in page
    assert "<dt>Lawful basis</dt><dd>consent</dd>" in page


def test_the_header_lists_the_tags(alice_client, ada):
    assert '<li class="badge">mathematics</li>' in _page(alice_client, ada).content.decode()


def test_the_header_offers_edit_merge_and_delete_to_an_owner(alice_client, ada):
    page = _page(alice_client, ada).content.decode()

    for path in ("edit/", "merge/", "delete/"):
        assert f'href="/w/acme/contacts/{ada.id}/{path}"' in page


def test_last_active_is_the_latest_event(alice_client, ada):
    _visits(ada, days_ago=3)

    response = _page(alice_client, ada)

    # ada's own creation events are newer than the visit.
    assert response.context["last_active"] >= timezone.now() - datetime.timedelta(minutes=5)
    assert "<dt>Last active</dt><dd><time" in response.content.decode()


# ---------------------------------------------------------------------------------------------- summary


def test_last_active_falls_back_to_the_trackers_time(alice_client, in_acme):
    seen = timezone.now() + datetime.timedelta(days=1)  # later than the contact's creation event
    contact = actions.contact_create({"email": "seen@people.example", "last_active": seen}, principal=system())

    assert _page(alice_client, contact).context["last_active"] == seen


def test_the_summary_counts_visits_in_the_last_30_days_and_ever(alice_client, ada):
    _visits(ada, days_ago=2, count=3)
    _visits(ada, days_ago=45, count=2)

    counts = {c.label: (c.recent, c.total) for c in _page(alice_client, ada).context["engagement"].counts}

    assert counts["Page visits"] == (3, 5)


def test_the_summary_counts_each_kind_apart(alice_client, ada):
    _visits(ada, days_ago=1, code=EventType.EMAIL_SENT, data={"email_id": 3})
    _visits(ada, days_ago=1, count=2, code=EventType.EMAIL_OPENED, data={"email_id": 3})

    counts = {c.label: c.total for c in _page(alice_client, ada).context["engagement"].counts}

    assert counts == {"Page visits": 0, "Form submissions": 0, "Emails sent": 1, "Emails opened": 2,
                      "Emails clicked": 0}  # fmt: skip


def test_the_summary_says_so_when_there_is_no_engagement(alice_client, ada):
    response = _page(alice_client, ada)

    assert response.context["engagement"].empty
    assert "No visits, form submissions or emails yet." in response.content.decode()


def test_the_summary_is_one_query(ada, django_assert_num_queries):
    _visits(ada, days_ago=1, count=2)

    with django_assert_num_queries(2, connection=connections["region_eu"]):  # the contact exists, the counts
        engagement = selectors.contact_engagement(ada.id)

    assert engagement.counts[0].total == 2


# ---------------------------------------------------------------------------------------------- sentences


def test_a_contact_created_through_the_api_reads_so(alice_client, in_acme):
    contact = actions.contact_create({"email": "api@people.example"}, principal=system())
    actions.events_append([{"contact_id": contact.id, "type": EventType.CONTACT_CREATED, "data": {"source": "api"}}],
                          principal=system())  # fmt: skip

    assert "Created through the API" in _sentences(_page(alice_client, contact))


def test_a_tag_added_reads_with_its_name(alice_client, ada):
    assert "Tag mathematics added" in _sentences(_page(alice_client, ada))


def test_a_tag_removed_reads_with_who_removed_it(alice_client, ada, as_alice):
    actions.contact_tags_change(ada.id, ["-mathematics"], principal=as_alice)

    assert _sentences(_page(alice_client, ada))[0] == "Tag mathematics removed by alice@acme.example"


def test_a_note_reads_with_its_author(alice_client, ada, as_alice):
    actions.note_add(ada.id, "Met at the conference.", principal=as_alice)

    assert _sentences(_page(alice_client, ada))[0] == "Note added by alice@acme.example"


def test_changed_fields_read_as_their_names_only(alice_client, ada, as_alice):
    actions.contact_update(ada.id, {"city": "Paris", "position": "Analyst"}, principal=as_alice)

    sentence = _sentences(_page(alice_client, ada))[0]

    assert sentence == "Changed city, position by alice@acme.example"
    assert "Paris" not in sentence


def test_a_company_link_reads_with_the_company_name(alice_client, ada, as_alice):
    company = actions.company_create({"companyname": "Lumen Studios"}, principal=as_alice)
    actions.company_link(ada.id, company.id, principal=as_alice)

    assert "Linked to company Lumen Studios by alice@acme.example" in _sentences(_page(alice_client, ada))


def test_do_not_contact_reads_with_channel_and_reason(alice_client, ada):
    actions.dnc_add(ada.id, channel="email", reason="unsubscribed", principal=system())

    assert _sentences(_page(alice_client, ada))[0] == "Marked do-not-contact for email (unsubscribed)"


def test_a_merge_reads_with_the_merged_contact(alice_client, ada, grace):
    actions.contact_merge(ada.id, grace.id, principal=system())

    assert f"Merged with contact #{grace.id}" in _sentences(_page(alice_client, ada))


def test_a_visit_reads_with_its_address(alice_client, ada):
    _visits(ada, days_ago=1, data={"url": "https://shop.example/pricing?ref=x"})

    assert "Visited https://shop.example/pricing" in _sentences(_page(alice_client, ada))


def test_an_open_reads_with_the_email(alice_client, ada):
    _visits(ada, days_ago=1, code=EventType.EMAIL_OPENED, data={"email_id": 3})

    assert "Opened email #3" in _sentences(_page(alice_client, ada))


def test_the_timeline_shows_an_icon_and_both_times(alice_client, ada):
    page = _page(alice_client, ada).content.decode()

    assert "icons.svg#tags" in page
    assert '<span class="ago">· ' in page and 'class="event"' in page


def test_an_older_page_of_the_timeline_is_described_too(alice_client, ada, monkeypatch):
    from tidings.contacts.views import contact

    monkeypatch.setattr(contact, "TIMELINE_PAGE", 1)
    first = _page(alice_client, ada).context["timeline"]
    older = alice_client.get(f"/w/acme/contacts/{ada.id}/timeline/", {"before": first.next_cursor})

    assert [e.text for e in older.context["timeline"].items] == ["Tag mathematics added"]


# ---------------------------------------------------------------------------------------------- cost


def test_the_page_costs_the_same_queries_whatever_the_timeline_holds(
    alice_client, ada, as_alice, django_assert_max_num_queries
):
    for number in range(15):  # tags, companies and notes by a member: each kind of name is one query per page
        actions.contact_tags_change(ada.id, [f"tag{number}"], principal=as_alice)
        company = actions.company_create({"companyname": f"Company {number}"}, principal=as_alice)
        actions.company_link(ada.id, company.id, principal=as_alice)
        actions.note_add(ada.id, f"Note {number}", principal=as_alice)
    _visits(ada, days_ago=0, count=10, data={"url": "https://shop.example/pricing"})

    # The page with ada's creation events only took 16 queries in the region; the names of tags, companies
    # and the visits' address add one each (the members' names are read from the global database); the
    # segments panel (registered by the segments app) one more; the consents panel (the consent app) four:
    # the purposes, the contact's devices, its records and the latest history; the campaigns panel (the
    # campaigns app) one: whatever the timeline holds.
    with django_assert_max_num_queries(27, connection=connections["region_eu"]):
        response = _page(alice_client, ada)
    assert {
        "Visited https://shop.example/pricing",
        "Note added by alice@acme.example",
        "Tag tag14 added by alice@acme.example",
        "Linked to company Company 14 by alice@acme.example",
    } <= set(_sentences(response))
