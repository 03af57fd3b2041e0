"""Tidings' policies: staff publish versions, admins are emailed and see a banner until they acknowledge."""

from __future__ import annotations

import contextlib

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.policies import actions, selectors
from tidings.policies.models import PolicyAcknowledgement

V1 = "We keep your data in your region.\nWe never sell it.\n"
V2 = "We keep your data in your region.\nWe never sell it, nor rent it.\nSub-processors are listed.\n"


@pytest.fixture
def carol_client(client, carol):
    client.force_login(carol)
    return client


def _publish(carol, text=V1, **extra):
    return actions.policy_publish(staff_user=carol, kind="privacy", title="Tidings privacy policy", text=text, **extra)


def test_only_staff_publish_and_versions_count_up(carol, alice):
    first, second = _publish(carol), _publish(carol, V2, summary="Renting is excluded too.")
    assert (first.version, second.version) == (1, 2)
    assert [p.version for p in selectors.current_policies()] == [2]
    with pytest.raises(PermissionDenied):
        _publish(alice)


def test_publishing_emails_each_admin_once(carol, acme, globex, alice, django_capture_on_commit_callbacks):
    from tidings.accounts.actions import workspace_create

    workspace_create(name="Acme Two", slug="acme-two", region="us", owner=alice)  # alice owns two workspaces
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _publish(carol)
    from tidings.policies.tasks import notify_policy_published  # the database backend runs it on a worker

    assert notify_policy_published.call(policy_id=selectors.current_policies()[0].pk) == 2
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == ["alice@acme.example", "bob@globex.example"]
    assert "/policies/privacy/1/" in mail.outbox[0].body


def test_the_banner_shows_until_the_admin_acknowledges(carol, alice_client, acme):
    _publish(carol)
    page = alice_client.get("/w/acme/").content.decode()
    assert "Tidings has published a new privacy policy (version 1)" in page
    detail = alice_client.get("/w/acme/policies/privacy/1/").content.decode()
    assert "I have read the changes" in detail
    response = alice_client.post("/w/acme/policies/privacy/1/acknowledge/")
    assert response.status_code == 302
    assert "Tidings has published" not in alice_client.get("/w/acme/").content.decode()
    assert PolicyAcknowledgement.objects.filter(workspace=acme, user__email="alice@acme.example").count() == 1
    _publish(carol, V2)
    assert "(version 2)" in alice_client.get("/w/acme/").content.decode()


def test_a_workspace_created_after_a_version_gets_no_banner_for_it(carol, make_user, client):
    from tidings.accounts.actions import workspace_create

    _publish(carol)
    owner = make_user("dora@later.example")
    workspace_create(name="Later", slug="later", region="eu", owner=owner)
    client.force_login(owner)
    assert "Tidings has published" not in client.get("/w/later/").content.decode()


def test_the_detail_page_shows_what_changed(carol, alice_client, acme):
    _publish(carol)
    _publish(carol, V2)
    previous, changes = selectors.policy_changes(selectors.policy_get("privacy", 2))
    assert previous.version == 1
    assert [(c.change, c.text) for c in changes if c.change != "same"] == [
        ("removed", "We never sell it."),
        ("added", "We never sell it, nor rent it."),
        ("added", "Sub-processors are listed."),
    ]
    body = alice_client.get("/w/acme/policies/privacy/2/").content.decode()
    assert "Removed: </span>We never sell it." in body and "What changed since version 1" in body
    assert alice_client.get("/w/acme/policies/privacy/9/").status_code == 404
    assert alice_client.get("/w/acme/policies/nope/1/").status_code == 404


def test_the_staff_page_is_a_404_for_everyone_else(alice_client):
    assert alice_client.get("/staff/policies/").status_code == 404


def test_staff_publish_from_their_page(carol_client):
    response = carol_client.post("/staff/policies/", {"kind": "terms", "title": "Terms", "text": "Be nice."})
    assert response.status_code == 302
    assert selectors.current_policies()[0].kind == "terms"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.one_of(st.text(max_size=10), st.sampled_from(["privacy", "terms"]), st.none()),
       title=st.one_of(st.text(max_size=300), st.none(), st.integers()),
       text=st.one_of(st.text(max_size=50), st.none()))  # fmt: skip
def test_any_input_is_published_or_refused(carol, kind, title, text):
    with contextlib.suppress(ValidationError):
        actions.policy_publish(staff_user=carol, kind=kind, title=title, text=text)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=st.dictionaries(st.sampled_from(["kind", "title", "text", "summary"]), st.text(max_size=40)))
def test_no_posted_form_makes_a_5xx(carol_client, form):
    assert carol_client.post("/staff/policies/", form).status_code < 500
