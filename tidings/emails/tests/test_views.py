"""The email editor's pages: list, create, edit (code mode), builder saves, preview, variants, permissions.

alice owns Acme; arun is an analyst there (emails:view only, no contacts:view? see the preview test).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.emails.actions import authoring
from tidings.emails.models import Email
from tidings.tests.principals import system


@pytest.fixture
def arun_client(client, acme, make_user):
    from tidings.accounts.actions import membership_create

    user = make_user("arun@acme.example")
    membership_create(workspace=acme, user=user, role="analyst", principal=system(acme))
    client.force_login(user)
    return client


@pytest.fixture
def welcome(in_acme):
    return authoring.email_create(principal=system(), name="Welcome", subject="Welcome aboard",
                                  html="<p>Hello {contactfield=firstname|there}</p>")  # fmt: skip


def _form(**overrides) -> dict:
    data = {"name": "", "subject": "Spring news", "preheader": "", "from_name": "Acme", "from_address": "",
            "reply_to": "", "kind": "template", "purpose_key": "marketing_email", "editor": "code",
            "theme": "blank"}  # fmt: skip
    data.update(overrides)
    return data


def test_the_list_shows_emails_and_searches(alice_client, welcome):
    response = alice_client.get("/w/acme/emails/")
    assert response.status_code == 200 and b"Welcome" in response.content and b"New email" in response.content
    assert b"Welcome" not in alice_client.get("/w/acme/emails/?q=zebra").content
    assert b"Welcome" not in alice_client.get("/w/acme/emails/?kind=list").content
    assert b"Welcome" in alice_client.get("/w/acme/emails/?kind=template").content


def test_create_edit_and_version(alice_client, in_acme):
    response = alice_client.post("/w/acme/emails/new/", _form())
    assert response.status_code == 302
    email = Email.objects.get()
    assert response["Location"] == f"/w/acme/emails/{email.pk}/"
    response = alice_client.post(f"/w/acme/emails/{email.pk}/", {**_form(), "html": "<p>Hi</p>", "text": ""})
    import re

    assert response.status_code == 302, re.findall(rb"errorlist[^>]*>(.{0,300})", response.content)
    email.refresh_from_db()
    assert (email.html, email.version) == ("<p>Hi</p>", 2)


def test_a_builder_email_opens_in_the_builder_and_saves_mjml(alice_client, in_acme):
    response = alice_client.post("/w/acme/emails/new/", _form(editor="builder", theme="announcement"))
    email = Email.objects.get()
    assert response["Location"] == f"/w/acme/emails/{email.pk}/builder/"
    page = alice_client.get(response["Location"])
    assert page.status_code == 200 and b"grapes.min.js" in page.content
    assert "'unsafe-inline'" in page["Content-Security-Policy"].split("style-src")[1].split(";")[0]
    assert "unsafe-inline" not in page["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    assert "unsafe-inline" not in alice_client.get(f"/w/acme/emails/{email.pk}/")["Content-Security-Policy"]
    mjml = (
        "<mjml><mj-body><mj-section><mj-column><mj-text>New words</mj-text></mj-column></mj-section></mj-body></mjml>"
    )
    assert alice_client.post(f"/w/acme/emails/{email.pk}/builder/", {"source": mjml}).status_code == 302
    email.refresh_from_db()
    assert "New words" in email.html and email.version == 2
    bad = alice_client.post(f"/w/acme/emails/{email.pk}/builder/", {"source": "<mjml><mj-body>"})
    assert bad.status_code == 400 and b"MJML could not be rendered" in bad.content


def test_unknown_tokens_need_a_confirmation(alice_client, welcome):
    data = {**_form(subject="Hi {contactfield=shoe_size}"), "html": "<p>{unsubscribe_link}</p>", "text": ""}
    response = alice_client.post(f"/w/acme/emails/{welcome.pk}/", data)
    assert response.status_code == 400
    assert b"shoe_size" in response.content and b"{unsubscribe_link}" in response.content
    assert b"Save anyway" in response.content
    response = alice_client.post(f"/w/acme/emails/{welcome.pk}/", {**data, "tokens_confirmed": "1"})
    assert response.status_code == 302


def test_preview_is_sandboxed_and_fills_a_contacts_fields(alice_client, welcome, ada):
    response = alice_client.get(f"/w/acme/emails/{welcome.pk}/?contact={ada.id}")
    assert response.status_code == 200
    assert b'sandbox=""' in response.content and b"Hello Ada" in response.content
    assert b"Hello there" in alice_client.get(f"/w/acme/emails/{welcome.pk}/").content


def test_the_preview_never_shows_another_workspaces_contact(alice_client, welcome, globex):
    from tidings.contacts.actions import contact_create
    from tidings.tenancy.context import use_workspace

    with use_workspace(globex):
        eve = contact_create({"email": "eve@globex.example", "firstname": "Evelyn"}, principal=system())
    response = alice_client.get(f"/w/acme/emails/{welcome.pk}/?contact={eve.id}")
    assert response.status_code == 200 and b"Evelyn" not in response.content
    assert b"No contact of this workspace has this id" in response.content


def test_variants_clone_and_delete(alice_client, welcome):
    variant_form = {"name": "", "subject": "Hey", "variant_weight": "30", "ab_criterion": "click_rate",
                    "ab_test_hours": "6"}  # fmt: skip
    response = alice_client.post(f"/w/acme/emails/{welcome.pk}/variants/", variant_form)
    assert response.status_code == 302
    variant = Email.objects.get(variant_of=welcome.pk)
    assert (variant.subject, variant.variant_weight) == ("Hey", 30)
    assert b"Welcome (variant)" in alice_client.get(f"/w/acme/emails/{welcome.pk}/").content
    assert alice_client.post(f"/w/acme/emails/{welcome.pk}/clone/").status_code == 302
    assert Email.objects.filter(name="Welcome (copy)").exists()
    response = alice_client.post(f"/w/acme/emails/{welcome.pk}/delete/", {"confirmed": "1"})
    assert response.status_code == 302 and not Email.objects.filter(pk__in=[welcome.pk, variant.pk]).exists()


def test_the_parents_own_share_is_set_in_the_editor_and_capped_with_its_variants(alice_client, welcome):
    variant_form = {"name": "", "subject": "Hey", "variant_weight": "30", "ab_criterion": "open_rate",
                    "ab_test_hours": "4"}  # fmt: skip
    assert alice_client.post(f"/w/acme/emails/{welcome.pk}/variants/", variant_form).status_code == 302
    editor = {**_form(subject=welcome.subject, name=welcome.name), "html": welcome.html, "text": ""}

    refused = alice_client.post(f"/w/acme/emails/{welcome.pk}/", {**editor, "variant_weight": "80"})
    assert refused.status_code == 400 and b"add up to 110%" in refused.content
    welcome.refresh_from_db()
    assert welcome.variant_weight == 0  # nothing saved

    assert alice_client.post(f"/w/acme/emails/{welcome.pk}/", {**editor, "variant_weight": "30"}).status_code == 302
    welcome.refresh_from_db()
    assert welcome.variant_weight == 30
    page = alice_client.get(f"/w/acme/emails/{welcome.pk}/").content
    assert b"Share of the A/B test group" in page


def test_an_analyst_reads_but_cannot_write(arun_client, welcome):
    assert arun_client.get("/w/acme/emails/").status_code == 200
    page = arun_client.get(f"/w/acme/emails/{welcome.pk}/")
    assert page.status_code == 200 and b"Save email" not in page.content
    assert arun_client.get("/w/acme/emails/new/").status_code == 403
    assert arun_client.post(f"/w/acme/emails/{welcome.pk}/", _form()).status_code == 403
    assert arun_client.post(f"/w/acme/emails/{welcome.pk}/builder/", {"source": "<mjml></mjml>"}).status_code == 403
    assert arun_client.post(f"/w/acme/emails/{welcome.pk}/delete/", {"confirmed": "1"}).status_code == 403


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.dictionaries(
        st.sampled_from(
            [
                "name",
                "subject",
                "preheader",
                "from_name",
                "from_address",
                "reply_to",
                "kind",
                "purpose_key",
                "segment_ids",
                "published",
                "transactional",
                "editor",
                "theme",
                "html",
                "text",
                "tokens_confirmed",
            ]
        ),  # fmt: skip
        st.text(max_size=40),
        max_size=8,
    )
)
def test_any_form_answers_without_a_server_error(alice_client, welcome, data):
    assert alice_client.post("/w/acme/emails/new/", data).status_code < 500
    assert alice_client.post(f"/w/acme/emails/{welcome.pk}/", data).status_code < 500
    assert (
        alice_client.post(f"/w/acme/emails/{welcome.pk}/builder/", {"source": data.get("html", "")}).status_code < 500
    )
