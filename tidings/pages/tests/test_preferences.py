"""The preference centre at /m/<ws>/preferences/<token>: a contact's own choices, written where they belong.

ada (ada@analytical.example) opens her signed link; the page shows only the workspace's names and her
choices, and records subscriptions, email Do-Not-Contact, consents (with proof) and privacy requests.
"""

from __future__ import annotations

import datetime

import pytest
from django.core import signing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.consent import selectors as consent_selectors
from tidings.consent.models import ConsentRecord
from tidings.contacts import selectors as contacts_selectors
from tidings.pages import selectors
from tidings.segments import selectors as segments_selectors
from tidings.subject_requests.models import SubjectRequest

ADA_VALUES = ("ada@analytical.example", "Ada", "Quillfeather", "London")


def _save(client, link, *, subscriptions=(), unsubscribe_all=False, consents=(), offered=None):
    offered = ["marketing_email", "tracking", "profiling", "sharing"] if offered is None else list(offered)
    data = {"action": "save", "subscription": [str(s) for s in subscriptions], "consent": list(consents),
            "offered": offered}  # fmt: skip
    if unsubscribe_all:
        data["unsubscribe_all"] = "1"
    return client.post(link, data)


def test_the_page_shows_the_lists_the_purposes_and_nothing_of_the_profile(client, ada_link, newsletter):
    response = client.get(ada_link)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Monthly newsletter" in body and "Marketing email" in body and "Unsubscribe from all email" in body
    assert not any(value in body for value in ADA_VALUES)
    assert response["Cache-Control"] == "no-store" and response["Referrer-Policy"] == "same-origin"


def test_only_published_subscription_lists_are_offered(client, ada_link, newsletter, in_acme):
    from tidings.segments import actions
    from tidings.tests.principals import system

    actions.segment_create(principal=system(), name="Internal VIPs")
    actions.segment_create(principal=system(), name="Draft list", in_preference_centre=True, is_published=False)
    body = client.get(ada_link).content.decode()
    assert "Internal VIPs" not in body and "Draft list" not in body


def test_subscribing_and_leaving_a_list(client, ada, ada_link, newsletter):
    _save(client, ada_link, subscriptions=[newsletter.pk])
    assert ada.id in set(segments_selectors.segment_member_ids(newsletter.pk))
    _save(client, ada_link, subscriptions=[])
    assert ada.id not in set(segments_selectors.segment_member_ids(newsletter.pk))


def test_a_segment_not_offered_cannot_be_joined(client, ada, ada_link, in_acme):
    from tidings.segments import actions
    from tidings.tests.principals import system

    private = actions.segment_create(principal=system(), name="Internal VIPs")
    _save(client, ada_link, subscriptions=[private.pk])
    assert ada.id not in set(segments_selectors.segment_member_ids(private.pk))


def test_unsubscribing_from_all_email_is_do_not_contact_unsubscribed(client, ada, ada_link):
    _save(client, ada_link, unsubscribe_all=True)
    (row,) = contacts_selectors.contact_dnc(ada.id)
    assert (row.channel, row.reason) == ("email", "unsubscribed")
    _save(client, ada_link, unsubscribe_all=False)
    assert contacts_selectors.contact_dnc(ada.id) == []


def test_resubscribing_never_lifts_a_bounce(client, ada, ada_link):
    from tidings.contacts.actions import dnc_add
    from tidings.tests.principals import system

    dnc_add(ada.id, channel="email", reason="bounced", principal=system())
    _save(client, ada_link, unsubscribe_all=False)
    assert [row.reason for row in contacts_selectors.contact_dnc(ada.id)] == ["bounced"]


def test_consents_are_recorded_with_proof_and_only_when_they_change(client, ada, ada_link, in_acme):
    from tidings.consent import actions as consent_actions
    from tidings.tests.principals import system

    notice = consent_actions.notice_publish(principal=system(), title="Privacy notice", url="https://acme.example/p")
    data = {"action": "save", "consent": ["marketing_email"], "offered": ["marketing_email", "tracking"]}
    client.post(ada_link, data, REMOTE_ADDR="203.0.113.77")
    (record,) = ConsentRecord.objects.filter(contact_id=ada.id)
    assert (record.given, record.method, record.notice_version) == (True, "preference_centre", notice.version)
    assert record.ip_network == "203.0.113.0/24" and record.wording.startswith("Marketing email: ")
    assert consent_selectors.consent_state(ada.id)["marketing_email"].given is True
    _save(client, ada_link, consents=["marketing_email"], offered=["marketing_email", "tracking"])
    assert ConsentRecord.objects.filter(contact_id=ada.id).count() == 1  # nothing changed: nothing recorded
    _save(client, ada_link, consents=[], offered=["marketing_email"])
    assert consent_selectors.consent_state(ada.id)["marketing_email"].given is False


def test_a_purpose_not_offered_is_left_alone(client, ada, ada_link):
    _save(client, ada_link, consents=["made_up_purpose"], offered=["made_up_purpose"])
    assert not ConsentRecord.objects.filter(contact_id=ada.id).exists()


@pytest.mark.parametrize("kind", ["access", "erasure"])
def test_a_data_request_is_recorded_due_in_30_days_and_confirmed(client, ada, ada_link, kind):
    response = client.post(ada_link, {"action": kind})
    body = response.content.decode()
    (request,) = SubjectRequest.objects.filter(contact_id=ada.id)
    assert (request.kind, request.status, request.source) == (kind, "verified", "preference_centre")
    assert request.due_at - request.received_at == datetime.timedelta(days=30)
    assert "was received on" in body and "at the latest" in body
    client.post(ada_link, {"action": kind})
    assert SubjectRequest.objects.filter(contact_id=ada.id).count() == 1  # an open request is not duplicated


def test_the_link_helper_gives_the_absolute_address(ada, settings):
    settings.TIDINGS_BASE_URL = "https://go.tidings.example/"
    link = selectors.preference_link(ada.id)
    assert link.startswith("https://go.tidings.example/m/acme/preferences/")
    assert selectors.contact_for_preference_token(link.rsplit("/", 1)[1]) == ada.id


def _not_found(response) -> None:
    assert response.status_code == 404
    body = response.content.decode()
    assert "Your preferences" not in body and not any(value in body for value in ADA_VALUES)


def test_a_forged_token_is_not_found(client, ada, ada_link):
    _not_found(client.get(ada_link[:-3] + "abc"))
    _not_found(client.post(ada_link[:-3] + "abc", {"action": "erasure"}))
    assert not SubjectRequest.objects.exists()


def test_an_expired_token_is_not_found(client, ada, in_acme):
    token = selectors.preference_token(ada.id)
    assert selectors.contact_for_preference_token(token, max_age=-1) is None
    signer = signing.TimestampSigner(salt=selectors.PREFERENCE_SALT)
    old = signer.sign_object({"w": in_acme.id, "c": ada.id}, compress=True)
    assert selectors.contact_for_preference_token(old) == ada.id
    from unittest import mock

    later = signing.time.time() + selectors.PREFERENCE_MAX_AGE + 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        _not_found(client.get(f"/m/acme/preferences/{old}"))


def test_a_token_of_another_workspace_is_not_found_there_nor_here(client, ada, globex):
    token = selectors.preference_token(ada.id)
    _not_found(client.get(f"/m/globex/preferences/{token}"))
    _not_found(client.get(f"/m/nowhere/preferences/{token}"))


def test_a_token_of_an_erased_contact_is_not_found(client, ada, ada_link):
    from tidings.contacts.actions import contact_delete
    from tidings.tests.principals import system

    contact_delete(ada.id, principal=system())
    _not_found(client.get(ada_link))


def test_the_preference_centre_is_rate_limited(client, ada_link, settings):
    settings.TIDINGS_API_RATE_LIMIT = 2
    assert [client.get(ada_link).status_code for _ in range(3)] == [200, 200, 429]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    token=st.text(max_size=120),
    action=st.sampled_from(["save", "access", "erasure", "", "other"]),
    subscription=st.lists(st.text(max_size=25), max_size=5),
    consent=st.lists(st.text(max_size=20), max_size=5),
)
def test_any_input_answers_without_a_server_error_or_a_personal_value(client, ada, ada_link, token, action,
                                                                      subscription, consent):  # fmt: skip
    from django.core.cache import cache

    cache.clear()
    for path in (f"/m/acme/preferences/{token.replace('/', '').replace('?', '').replace('#', '')}", ada_link):
        response = client.post(path, {"action": action, "subscription": subscription, "consent": consent,
                                      "offered": consent})  # fmt: skip
        assert response.status_code < 500
        assert not any(value in response.content.decode() for value in ADA_VALUES)
