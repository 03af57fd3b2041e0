"""The queue and a request's page for members; the public form, confirmation link and access package."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.subject_requests import actions, links
from tidings.subject_requests.models import SubjectRequest
from tidings.tests.principals import system


def _base(in_acme) -> str:
    return f"/w/{in_acme.slug}/privacy/requests/"


def test_the_queue_shows_open_requests_soonest_first_and_flags_overdue_ones(alice_client, in_acme, ada, grace):
    from freezegun import freeze_time

    with freeze_time("2026-01-01"):
        old = actions.request_receive("access", source="operator", contact_id=ada.id, verified=True,
                                      principal=system())  # fmt: skip
    actions.request_receive("erasure", source="operator", contact_id=grace.id, verified=True, principal=system())
    body = alice_client.get(_base(in_acme)).content.decode()
    assert body.index(f"#{old.pk}") < body.index("Erasure") and 'data-testid="overdue-alert"' in body
    assert "overdue" in alice_client.get(_base(in_acme) + "?overdue=1").content.decode()


def test_a_member_records_and_moves_a_request_along(alice_client, in_acme, ada):
    posted = {"contact_id": str(ada.id), "kind": "rectification", "details": "Spelling of my name", "verified": "1"}
    response = alice_client.post(_base(in_acme) + "record/", posted)
    row = SubjectRequest.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{row.pk}/")
    page = alice_client.get(_base(in_acme) + f"{row.pk}/").content.decode()
    assert "Spelling of my name" in page and "Approve" in page
    alice_client.post(_base(in_acme) + f"{row.pk}/act/", {"step": "approve"})
    alice_client.post(_base(in_acme) + f"{row.pk}/act/", {"step": "extend", "days": "9999", "reason": "x"})
    assert SubjectRequest.objects.get().status == "approved"  # refused, with a message
    alice_client.post(_base(in_acme) + f"{row.pk}/act/", {"step": "complete"})
    assert SubjectRequest.objects.get().status == "completed"


def test_recording_for_an_unknown_contact_says_so(alice_client, in_acme):
    response = alice_client.post(_base(in_acme) + "record/", {"contact_id": "999999", "kind": "access"}, follow=True)
    assert "No contact of this workspace has this id" in response.content.decode()


def test_the_public_form_answers_the_same_for_a_known_and_an_unknown_address(client, in_acme, ada, mailoutbox):
    url = f"/m/{in_acme.slug}/privacy/request"
    assert client.get(url).status_code == 200
    known = client.post(url, {"email": "ada@analytical.example", "kind": "access"})
    unknown = client.post(url, {"email": "nobody@nowhere.example", "kind": "access"})
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    bad = client.post(url, {"email": "not an address", "kind": "access"})
    assert bad.status_code == 400 and "not an address" in bad.content.decode()  # the visitor's own answer, kept


def test_the_confirmation_link_changes_nothing_on_get_and_confirms_on_post(client, in_acme, ada, mail_after_commit):
    client.post(f"/m/{in_acme.slug}/privacy/request", {"email": "ada@analytical.example", "kind": "erasure"})
    path = re.search(r"/m/\S+/privacy/verify/\d+/\S+", mail_after_commit[-1].body).group(0)
    assert client.get(path).status_code == 200
    assert SubjectRequest.objects.get().status == "unverified"
    assert client.post(path).status_code == 200
    assert SubjectRequest.objects.get().status == "verified"
    assert client.post(path).status_code == 404  # used


def test_the_access_package_opens_only_with_this_workspaces_unexpired_token(client, in_acme, ada, globex):
    row = actions.request_receive("access", source="operator", contact_id=ada.id, verified=True, principal=system())
    actions.request_approve(row.pk, principal=system())
    actions.request_complete(row.pk, principal=system())
    token = links.package_token(in_acme.pk, row.pk)
    page = client.get(f"/m/{in_acme.slug}/privacy/package/{token}")
    assert page.status_code == 200 and "ada@analytical.example" in page.content.decode()
    data = client.get(f"/m/{in_acme.slug}/privacy/package/{token}?format=json")
    assert data["Content-Disposition"].startswith("attachment") and data["Cache-Control"] == "no-store"
    forged = links.package_token(globex.pk, row.pk)
    assert client.get(f"/m/{in_acme.slug}/privacy/package/{forged}").status_code == 404
    assert client.get(f"/m/{in_acme.slug}/privacy/package/{token[:-2]}xx").status_code == 404


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])  # fmt: skip
@given(email=st.text(max_size=300), kind=st.text(max_size=20), details=st.text(max_size=5000),
       code=st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=80))  # fmt: skip
def test_any_public_input_gets_an_answer_and_never_a_server_error(client, in_acme, email, kind, details, code):
    response = client.post(f"/m/{in_acme.slug}/privacy/request", {"email": email, "kind": kind, "details": details})
    assert response.status_code in (200, 400, 429)
    safe = re.sub(r"[^A-Za-z0-9_-]", "", code) or "x"
    assert client.post(f"/m/{in_acme.slug}/privacy/verify/1/{safe}").status_code in (404, 429)
    assert client.get(f"/m/{in_acme.slug}/privacy/package/{safe}").status_code in (404, 429)
