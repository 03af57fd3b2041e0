"""Stats (selectors, API, page), the suppression list page, erasure, and hostile path segments on the public routes."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.emails import selectors
from tidings.emails.models import Delivery, Email, EmailCount, Suppression
from tidings.tests.principals import system

ADA = "ada@analytical.example"


def _signed_in(client, user):
    client.force_login(user)
    return client


def test_email_stats_count_each_outcome_and_each_variant(client, sent, in_acme):
    from tidings.emails.actions.feedback import bounce_record

    variant = Email.objects.create(workspace_id=sent.email.workspace_id, name="Spring news B", variant_of=sent.email.pk)
    Delivery.objects.create(workspace_id=variant.workspace_id, send_id=sent.send.pk, email_id=variant.pk,
                            contact_id=999_999, status="skipped", reason="no_consent")  # fmt: skip
    client.get(f"/m/acme/e/o/{sent.token(sent.ada)}.gif")
    client.get(f"/m/acme/e/o/{sent.token(sent.grace)}.gif")
    client.get(f"/m/acme/e/c/{sent.token(sent.ada)}/{sent.link.pk}")
    bounce_record(message_id=sent.grace_delivery.message_id, address=None, hard=True, principal=system())
    stats = selectors.email_stats(sent.email.pk)
    total = stats.total
    assert (total.sent, total.delivered, total.bounced, total.hard_bounced) == (2, 1, 1, 1)
    assert (total.opens, total.clicks, total.opened, total.clicked) == (2, 1, 1, 1)
    assert total.skipped == {"no_consent": 1}
    assert [v.name for v in stats.variants] == ["Spring news", "Spring news B"]
    assert stats.variants[1].counts.skipped == {"no_consent": 1} and stats.variants[1].counts.sent == 0
    series = selectors.email_stats_series(sent.email.pk, days=7)
    assert len(series) == 7 and series[-1].opens == 2 and series[-1].clicks == 1 and series[0].opens == 0


def test_stats_of_another_workspaces_email_do_not_exist(sent, globex):
    from tidings.tenancy.context import use_workspace

    with use_workspace(globex), pytest.raises(Email.DoesNotExist):
        selectors.email_stats(sent.email.pk)


def test_the_stats_api(client, sent, acme):
    from tidings.accounts.models import User
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    alice = User.objects.get(email="alice@acme.example")
    _, secret = api_token_create(workspace=acme, user=alice, name="Reports", permissions=["emails:view"],
                                 principal=principal_for_user(alice, acme))  # fmt: skip
    client.get(f"/m/acme/e/o/{sent.token(sent.ada)}.gif")
    response = client.get(f"/api/v1/emails/{sent.email.pk}/stats?days=3", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"]["sent"] == 2 and body["total"]["opens"] == 1 and len(body["series"]) == 3
    assert client.get("/api/v1/emails/99999999/stats", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 404


def test_the_stats_page_shows_counts_and_charts(client, sent, alice):
    _signed_in(client, alice)
    client.get(f"/m/acme/e/o/{sent.token(sent.ada)}.gif")
    response = client.get(f"/w/acme/emails/{sent.email.pk}/stats/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Spring news" in body and "Opens by day" in body and "<svg" in body


def test_the_suppression_list_never_shows_an_address_to_whom_may_not_see_contacts(client, sent, acme, make_user):
    from tidings.accounts.actions import membership_create
    from tidings.emails.actions.feedback import bounce_record

    bounce_record(message_id=None, address=ADA, hard=True, principal=system(acme))
    analyst = make_user("ana@acme.example")
    membership_create(workspace=acme, user=analyst, role="analyst", principal=system(acme))
    _signed_in(client, analyst)
    body = client.get("/w/acme/emails/suppressions/").content.decode()
    assert "Hard bounce" in body and "suppressed" in body and ADA not in body and "Suppress an address" not in body


def test_a_member_adds_and_removes_an_address(client, sent, alice):
    _signed_in(client, alice)
    response = client.post("/w/acme/emails/suppressions/", {"address": "carol@made-up.example"})
    assert response.status_code == 302
    row = Suppression.objects.get()
    assert row.reason == "manual" and row.contact_id is None
    body = client.get("/w/acme/emails/suppressions/").content.decode()
    assert "carol@made-up.example" not in body and "Added by a member" in body
    assert client.post("/w/acme/emails/suppressions/", {"address": "not an address"}).status_code == 400
    client.post(f"/w/acme/emails/suppressions/{row.pk}/remove/", {"confirmed": "1"})
    assert not Suppression.objects.exists()


def test_a_known_contacts_row_links_to_the_contact_for_a_member_who_sees_contacts(client, sent, alice):
    _signed_in(client, alice)
    client.post("/w/acme/emails/suppressions/", {"address": ADA})
    body = client.get("/w/acme/emails/suppressions/").content.decode()
    assert f"/w/acme/contacts/{sent.ada.id}/" in body and ADA in body


def test_erasing_the_contact_leaves_nothing_of_it_in_feedbacks_tables(client, sent, in_acme):
    from tidings.emails.actions.feedback import bounce_record
    from tidings.privacy.registry import erase_subject
    from tidings.privacy.vault import keyring

    client.get(f"/m/acme/e/o/{sent.token(sent.ada)}.gif")
    bounce_record(message_id=sent.ada_delivery.message_id, address=None, hard=True, principal=system())
    erase_subject(sent.ada.id, principal=system())
    assert not Delivery.objects.filter(contact_id=sent.ada.id).exists()
    assert not Suppression.objects.filter(contact_id=sent.ada.id).exists()
    # The suppression outlives the contact, as a keyed hash of its own scope with no link (issue 13: an erased
    # person is never mailed again); no blind-index value of the contact's remains in it.
    (kept,) = Suppression.objects.filter(email_index=selectors.suppression_index(ADA))
    assert kept.contact_id is None and bytes(kept.email_index) != keyring().blind_index("email", ADA)
    assert EmailCount.objects.filter(kind="opened").get().count == 1  # the aggregate stays: it names nobody
    assert not any(hasattr(EmailCount, name) for name in ("contact_id", "email_index"))


SEGMENT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=80).filter(
    lambda s: "/" not in s and "?" not in s and "#" not in s
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=SEGMENT, link=SEGMENT, kind=st.sampled_from(["o", "c", "v", "u"]), post=st.booleans())
def test_no_path_segment_makes_a_public_route_fail(client, sent, token, link, kind, post):
    from urllib.parse import quote

    path = {"o": f"o/{quote(token)}.gif", "c": f"c/{quote(token)}/{quote(link)}", "v": f"v/{quote(token)}",
            "u": f"u/{quote(token)}"}[kind]  # fmt: skip
    response = client.post(f"/m/acme/e/{path}") if post else client.get(f"/m/acme/e/{path}")
    assert response.status_code < 500
    if kind == "o" and not post and response.status_code == 200:
        assert response["Content-Type"] == "image/gif"


def test_series_days_are_bounded(sent, in_acme):
    assert len(selectors.email_stats_series(sent.email.pk, days=10_000, today=datetime.date(2026, 12, 1))) == 366
