"""The contacts widgets of the dashboard: what they count, where they link, who sees them, what they cost."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.db import connections
from django.utils import timezone

from tidings.contacts import aggregates
from tidings.tenancy.context import use_workspace
from tidings.tests.principals import system

# Twenty countries besides Acme's DE and FR, for a dashboard with more of everything.
COUNTRIES = ["AT", "BE", "CH", "CZ", "DK", "ES", "FI", "GR", "HU", "IE", "IT", "LU", "NL", "NO", "PL", "PT", "RO",
             "SE", "SI", "SK"]  # fmt: skip

CONTACT_WIDGETS = ["Contacts", "Reach", "New contacts by source", "Top tags", "Top countries", "Do not contact"]


def _add(values, tags=()):
    from tidings.contacts.actions import contact_create

    return contact_create(values, tags=list(tags), principal=system())


def _headings(page: str) -> list[str]:
    return re.findall(r'<h2 id="widget-[^"]+">([^<]+)</h2>', page)


@pytest.fixture
def acme_contacts(in_acme):
    """Six contacts of Acme: tags vip (3) and trial (1), countries DE (3), FR (2) and none, one email DNC."""
    from tidings.contacts.actions import dnc_add

    people = [
        ("lin@acme.example", "DE", ["vip"]),
        ("ola@acme.example", "DE", ["vip", "trial"]),
        ("kim@acme.example", "DE", ["vip"]),
        ("ren@acme.example", "FR", []),
        ("sam@acme.example", "FR", []),
        ("ari@acme.example", "", []),
    ]
    contacts = [_add({"email": email, "country": country}, tags) for email, country, tags in people]
    dnc_add(contacts[0].id, channel="email", reason="unsubscribed", principal=system())
    return contacts


@pytest.fixture
def globex_contacts(globex):
    with use_workspace(globex):
        for number in range(7):
            _add({"email": f"g{number}@globex.example", "country": "JP"}, ["globex-only-tag"])


# What the aggregates count


def test_top_tags_counts_contacts_per_tag_most_used_first(acme_contacts):
    assert aggregates.top_tags() == [("vip", 3), ("trial", 1)]


def test_top_countries_counts_the_clear_country_column_with_blank_as_not_set(acme_contacts):
    assert aggregates.top_countries() == [("DE", 3), ("FR", 2), ("", 1)]


def test_dnc_counts_group_by_channel_and_reason(acme_contacts):
    assert aggregates.dnc_counts() == [("email", "unsubscribed", 1)]


def test_reach_counts_contacts_with_an_email_that_can_be_emailed(acme_contacts):
    _add({"firstname": "Nomail", "country": "DE"})
    reach = aggregates.contacts_reach()
    assert (reach.total, reach.with_email, reach.emailable) == (7, 6, 5)


def test_growth_buckets_new_contacts_by_day_and_counts_older_ones_once(acme_contacts):
    from tidings.contacts.models import Contact

    today = timezone.localdate()
    old = timezone.now() - datetime.timedelta(days=200)
    three_days_ago = timezone.now() - datetime.timedelta(days=3)
    Contact.objects.filter(id__in=[c.id for c in acme_contacts[:2]]).update(created_at=old)
    Contact.objects.filter(id=acme_contacts[2].id).update(created_at=three_days_ago)
    growth = aggregates.contacts_growth(days=90, today=today)
    assert (growth.total, growth.before, growth.new_in_period) == (6, 2, 4)
    assert growth.new_by_day == {three_days_ago.date(): 1, today: 3}
    assert growth.start == today - datetime.timedelta(days=89)


def test_new_contacts_by_source_reads_created_events_and_imports(alice_client, acme, in_acme):
    from tidings.contacts.models import ContactImport, ImportStatus

    _add({"email": "sys@acme.example"})
    assert alice_client.post("/w/acme/contacts/new/", {"email": "ui@acme.example"}).status_code == 302
    ContactImport.objects.create(status=ImportStatus.COMPLETED, created_count=40, original_filename="people.csv")
    ContactImport.objects.create(
        status=ImportStatus.COMPLETED, created_count=5, created_at=timezone.now() - datetime.timedelta(days=45)
    )
    assert aggregates.new_contacts_by_source(days=30) == {"system": 1, "ui": 1, "import": 40}


def test_a_contact_created_through_the_api_is_counted_as_api(client, acme, alice, in_acme):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    _, secret = api_token_create(workspace=acme, user=alice, name="CRM", principal=principal_for_user(alice, acme))
    response = client.post(
        "/api/v1/contacts",
        json.dumps({"fields": {"email": "api@acme.example"}}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 201
    assert aggregates.new_contacts_by_source() == {"api": 1}


# The dashboard page


def test_the_dashboard_shows_the_contacts_widgets_in_order(alice_client, acme_contacts):
    page = alice_client.get("/w/acme/").content.decode()
    assert _headings(page) == [*CONTACT_WIDGETS, "Recent imports"]


def test_each_chart_links_to_the_filtered_contacts_list(alice_client, acme_contacts):
    page = alice_client.get("/w/acme/").content.decode()
    assert '<a href="/w/acme/contacts/?tag=vip">vip</a>' in page
    assert '<a href="/w/acme/contacts/?country=DE">DE</a>' in page
    assert '<a href="/w/acme/contacts/?dnc=email">Unsubscribed</a>' in page


def test_the_linked_list_shows_the_contacts_the_chart_counted(alice_client, acme_contacts):
    page = alice_client.get("/w/acme/contacts/?country=FR").content.decode()
    assert "ren@acme.example" in page and "sam@acme.example" in page and "lin@acme.example" not in page


def test_the_total_is_shown_with_the_growth_chart(alice_client, acme_contacts):
    page = alice_client.get("/w/acme/").content.decode()
    assert '<p class="figure">6</p>' in page and "6 new in the last 90 days" in page
    assert 'class="chart-svg chart-time_series chart-wide"' in page


def test_an_empty_workspace_says_how_to_get_contacts(alice_client, acme):
    page = alice_client.get("/w/acme/").content.decode()
    assert "No contacts yet." in page
    assert '<a href="/w/acme/contacts/import/">Import a CSV file</a>' in page
    assert "No imports yet." in page
    assert 'class="chart-svg' not in page  # no chart is drawn without data (the kit's icons are SVG too)


def test_a_member_without_contacts_view_sees_none_of_the_contacts_widgets(arun_client, acme_contacts):
    page = arun_client.get("/w/acme/").content.decode()
    assert _headings(page) == []
    page = re.sub(r'="[A-Za-z0-9_-]{32,}"', '=""', page)  # random tokens (CSRF, nonces) may hold "DE"
    assert "vip" not in page and "DE" not in page


def test_recent_imports_need_the_import_permission(alice_client, acme, in_acme, make_user, client):
    from tidings.accounts.actions import membership_create
    from tidings.accounts.models import Membership
    from tidings.contacts.models import ContactImport

    ContactImport.objects.create(original_filename="spring-fair.csv", created_count=12)
    assert "spring-fair.csv" in alice_client.get("/w/acme/").content.decode()
    assert Membership.objects.filter(workspace=acme).count() == 1
    viewer = make_user("vera@acme.example")
    membership_create(workspace=acme, user=viewer, role="analyst", principal=system(acme))
    client.force_login(viewer)
    assert "spring-fair.csv" not in client.get("/w/acme/").content.decode()


def test_alices_dashboard_shows_no_globex_counts(alice_client, acme_contacts, globex_contacts):
    response = alice_client.get("/w/acme/")
    page = response.content.decode()
    assert "globex-only-tag" not in page and ">JP<" not in page
    assert '<p class="figure">6</p>' in page
    data = {item.widget.name: item.data for item in response.context["widgets"]}
    assert [row.label for row in data["contacts.countries"]["chart"].rows] == ["DE", "FR", "Not set"]
    assert data["contacts.reach"]["chart"].rows[0].value == "6"


def test_the_dashboard_costs_one_query_per_widget_whatever_the_data(
    alice_client, acme_contacts, django_assert_max_num_queries
):
    from tidings.contacts.actions import dnc_add

    for number in range(20):  # more tags, countries and Do-Not-Contact rows must not add queries
        contact = _add({"email": f"more{number}@acme.example", "country": COUNTRIES[number]}, [f"tag{number}"])
        dnc_add(contact.id, channel="sms", reason="manual", principal=system())
    # Seven contacts widgets (one query each, and the top tags' names) and the recent audit entries.
    with django_assert_max_num_queries(9, connection=connections["region_eu"]):
        assert alice_client.get("/w/acme/").status_code == 200
