"""A public submission: the contact, the consent ledger with proof, double opt-in, actions, takeover safety."""

from __future__ import annotations

import pytest
from django.core import mail

from tidings.forms import actions, selectors
from tidings.forms.tests.conftest import WORDING, submit


def _consents(contact_id):
    from tidings.consent.models import ConsentRecord

    return list(ConsentRecord.objects.filter(contact_id=contact_id).order_by("id"))


def _confirm_link(message) -> str:
    return next(line for line in message.body.splitlines() if "/form/confirm/" in line).strip()


def test_a_submission_creates_the_contact_and_holds_marketing_consent_until_confirmed(newsletter, public):
    from tidings.contacts.selectors import contact_by_unique_identifier

    result = submit(newsletter, public, email="nia@reader.example", firstname="Nia", newsletter_ok="1",
                    topic="poetry")  # fmt: skip
    assert result.accepted and result.submission_id and result.token
    contact = contact_by_unique_identifier("email", "nia@reader.example")
    assert contact.fields["firstname"] == "Nia"
    assert "newsletter" in contact.tags
    assert _consents(contact.id) == []  # pending: no "given" record before the click
    (message,) = mail.outbox
    assert message.to == ["nia@reader.example"] and message.subject == "Confirm your subscription"
    token = _confirm_link(message).rsplit("/", 1)[1]
    form = actions.submission_confirm(token, principal=public)
    assert form is not None and form.pk == newsletter.pk
    (record,) = _consents(contact.id)
    assert record.given and record.method == "form" and record.source == f"form:{newsletter.pk}"
    assert record.wording == WORDING and record.ip_network == "203.0.113.0/24"
    # A second click changes nothing.
    actions.submission_confirm(token, principal=public)
    assert len(_consents(contact.id)) == 1


def test_bad_answers_get_field_errors_that_never_repeat_the_value(newsletter, public):
    result = submit(newsletter, public, email="not-an-address", firstname="x" * 41, topic="cooking")
    assert not result.accepted
    assert set(result.errors) == {"email", "firstname", "topic"}
    assert all("not-an-address" not in message and "cooking" not in message for message in result.errors.values())
    assert result.values == {"newsletter_ok": False}  # the good answers are handed back to re-render
    assert selectors.submissions_count(newsletter.pk) == 0 and not mail.outbox


def test_an_existing_contacts_email_reveals_nothing_and_changes_only_empty_public_fields(newsletter, public, ada):
    from tidings.contacts.selectors import contact_get

    before = contact_get(ada.id)
    result = submit(newsletter, public, email="ada@analytical.example", firstname="Mallory", newsletter_ok="1")
    fresh = submit(newsletter, public, email="someone-new@reader.example", firstname="Mallory", newsletter_ok="1")
    assert result.accepted == fresh.accepted and result.errors == fresh.errors == {}
    after = contact_get(ada.id)
    assert after.fields["firstname"] == before.fields["firstname"] == "Ada"
    assert "newsletter" not in after.tags  # actions wait for the owner's confirmation
    assert _consents(ada.id) == []
    # The confirmation goes to ada's own address; following it records her consent and runs the actions.
    message = next(m for m in mail.outbox if m.to == ["ada@analytical.example"])
    actions.submission_confirm(_confirm_link(message).rsplit("/", 1)[1], principal=public)
    assert "newsletter" in contact_get(ada.id).tags
    assert [r.given for r in _consents(ada.id)] == [True]


def test_honeypot_and_too_fast_posts_are_answered_as_success_and_stored_nowhere(newsletter, public, settings):
    from tidings.forms import tokens

    trap = actions.SubmitContext(honeypot="http://spam.invalid")
    assert submit(newsletter, public, context=trap, email="bot@spam.invalid").spam
    settings.TIDINGS_FORMS_MIN_FILL_SECONDS = 30
    hurried = actions.SubmitContext(render_token=tokens.render_token(newsletter.pk))
    assert submit(newsletter, public, context=hurried, email="bot@spam.invalid").spam
    forged = actions.SubmitContext(render_token="forged:token")
    assert submit(newsletter, public, context=forged, email="bot@spam.invalid").spam
    assert selectors.submissions_count(newsletter.pk) == 0


def test_answers_are_sealed_under_the_contacts_key_and_erasure_leaves_nothing(newsletter, public):
    from tidings.forms.models import Submission
    from tidings.privacy.registry import erase_subject

    result = submit(newsletter, public, email="erase-me@reader.example", firstname="Eve")
    row = Submission.objects.get(pk=result.submission_id)
    assert b"erase-me" not in bytes(row.data_enc) and b"Eve" not in bytes(row.data_enc)
    (view,) = selectors.submissions_page(newsletter.pk)
    assert view.answers["email"] == "erase-me@reader.example"
    erase_subject(row.contact_id)
    assert not Submission.objects.filter(contact_id=row.contact_id).exists()
    assert selectors.submissions_page(newsletter.pk) == []


def test_the_sensitive_data_guard_rejects_a_card_number_under_the_reject_policy(newsletter, public):
    from tidings.contacts.actions import contact_settings_update
    from tidings.tests.principals import system

    contact_settings_update(guard_policy="reject", principal=system())
    result = submit(newsletter, public, email="card@reader.example", firstname="4111 1111 1111 1111")
    assert not result.accepted and "firstname" in result.errors
    assert "4111" not in result.errors["firstname"]


def test_a_consented_visitor_is_joined_to_the_contact_a_submission_creates(newsletter, public, site, visitor):
    from tidings.events.selectors import visitor_get
    from tidings.tracking.collect.decide import visitor_token
    from tidings.tracking.consent_adapter import record

    record(purpose="tracking", given=True, source="banner", visitor_id=visitor.pk, principal=public)
    context = actions.SubmitContext(page_url="https://shop.example/news",
                                    visitor_token=visitor_token(visitor.workspace_id, visitor.pk))  # fmt: skip
    result = submit(newsletter, public, context=context, email="linked@reader.example")
    assert result.accepted
    assert visitor_get(visitor.pk).contact_id is not None


def test_a_visitor_without_tracking_consent_is_not_joined(newsletter, public, site, visitor):
    from tidings.events.selectors import visitor_get
    from tidings.tracking.collect.decide import visitor_token

    context = actions.SubmitContext(page_url="https://shop.example/news",
                                    visitor_token=visitor_token(visitor.workspace_id, visitor.pk))  # fmt: skip
    submit(newsletter, public, context=context, email="unlinked@reader.example")
    assert visitor_get(visitor.pk).contact_id is None


def test_submit_needs_forms_submit_and_a_published_form(newsletter, public, in_acme):
    from django.core.exceptions import PermissionDenied

    from tidings.accounts.permissions import PUBLIC_KEY_PERMISSIONS, Principal, Via
    from tidings.forms.models import Form
    from tidings.tenancy.selectors import workspace_by_id
    from tidings.tests.principals import system

    tracker = Principal(workspace=workspace_by_id(in_acme.id), user=None, permissions=PUBLIC_KEY_PERMISSIONS,
                        via=Via.PUBLIC_KEY)  # fmt: skip
    with pytest.raises(PermissionDenied):
        submit(newsletter, tracker, email="x@reader.example")
    actions.form_update(newsletter.pk, published=False, principal=system())
    with pytest.raises(Form.DoesNotExist):
        submit(newsletter, public, email="x@reader.example")


def test_a_company_name_field_links_the_contact_to_that_company(in_acme, public):
    from tidings.contacts.selectors import contact_by_unique_identifier, contact_companies
    from tidings.tests.principals import system

    form = actions.form_create(name="Trade", published=True, principal=system(), fields=[
        {"kind": "email", "label": "Email", "alias": "email", "maps_to": "email", "required": True},
        {"kind": "text", "label": "Company", "alias": "company_name", "maps_to": "company:companyname"}])  # fmt: skip
    submit(form, public, email="trader@difference.example", company_name="Difference Engines")
    contact = contact_by_unique_identifier("email", "trader@difference.example")
    assert [link.company.name for link in contact_companies(contact.id)] == ["Difference Engines"]


def test_progressive_fields_are_skipped_for_the_devices_own_contact_only(newsletter, public, site, visitor):
    from tidings.forms.selectors import known_for_visitor, render_form
    from tidings.tests.principals import system
    from tidings.tracking.collect.decide import visitor_token
    from tidings.tracking.consent_adapter import record

    actions.form_update(newsletter.pk, principal=system(), fields=[
        {**f, "progressive": f["alias"] == "firstname"} for f in newsletter.fields])  # fmt: skip
    newsletter.refresh_from_db()
    token = visitor_token(visitor.workspace_id, visitor.pk)
    record(purpose="tracking", given=True, source="banner", visitor_id=visitor.pk, principal=public)
    context = actions.SubmitContext(page_url="https://shop.example/news", visitor_token=token)
    submit(newsletter, public, context=context, email="known@reader.example", firstname="Kim")
    assert "firstname" in known_for_visitor(token, "shop.example")
    assert "mauticform[firstname]" not in render_form(newsletter, known=known_for_visitor(token, "shop.example"))
    assert "mauticform[firstname]" in render_form(newsletter, known=known_for_visitor("1.forged", "shop.example"))
