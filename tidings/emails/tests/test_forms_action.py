"""Forms' submit action "send an email to the contact": a template email of the workspace, sent after the
submission commits, and held until the double opt-in confirmation when one is pending."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import TestCase

from tidings.emails.tests.conftest import make_email, system

FIELDS = [
    {"kind": "email", "label": "Email", "alias": "email", "required": True, "maps_to": "email"},
    {"kind": "text", "label": "First name", "alias": "firstname", "maps_to": "firstname"},
    {"kind": "consent", "label": "Send me the news.", "alias": "news_ok", "purpose": "marketing_email"},
]


@pytest.fixture
def public(in_acme):
    from tidings.accounts.permissions import PUBLIC_FORM_PERMISSIONS, Principal, Via
    from tidings.tenancy.selectors import workspace_by_id

    return Principal(workspace=workspace_by_id(in_acme.id), user=None, permissions=PUBLIC_FORM_PERMISSIONS,
                     via=Via.PUBLIC_KEY)  # fmt: skip


@pytest.fixture(autouse=True)
def _instant_forms(settings):
    settings.TIDINGS_FORMS_MIN_FILL_SECONDS = 0


def _form(welcome, *, double_opt_in=False):
    from tidings.forms import actions

    extra = [{"kind": "double_opt_in", "purpose": "marketing_email"}] if double_opt_in else []
    return actions.form_create(name="News", published=True, fields=FIELDS, principal=system(),
                               actions=[{"kind": "send_email", "email_id": welcome.pk}, *extra])  # fmt: skip


def _submit(form, public, **answers):
    from tidings.forms import actions
    from tidings.tenancy.context import require_workspace

    posted = {alias: [value] for alias, value in answers.items()}
    with TestCase.captureOnCommitCallbacks(using=require_workspace().db_alias, execute=True):
        return actions.form_submit(form.pk, posted, context=actions.SubmitContext(ip="203.0.113.9"), principal=public)


def test_a_submission_sends_the_welcome_email(in_acme, public, smtp):
    welcome = make_email(kind="template", name="Welcome", subject="Welcome {contactfield=firstname}")
    _submit(_form(welcome), public, email="ada@analytical.example", firstname="Ada", news_ok="1")
    (message,) = smtp.parsed()
    assert message["Subject"] == "Welcome Ada" and "ada@analytical.example" in message["To"]


def test_with_a_double_opt_in_the_email_waits_for_the_confirmation(in_acme, public, smtp):
    from tidings.forms import actions, tokens
    from tidings.tenancy.context import require_workspace

    welcome = make_email(kind="template", name="Welcome", subject="Welcome")
    form = _form(welcome, double_opt_in=True)
    result = _submit(form, public, email="ada@analytical.example", firstname="Ada", news_ok="1")
    assert [m["Subject"] for m in smtp.parsed()] != ["Welcome"]  # only the confirmation request went
    assert all(m["Subject"] != "Welcome" for m in smtp.parsed())
    with TestCase.captureOnCommitCallbacks(using=require_workspace().db_alias, execute=True):
        actions.submission_confirm(tokens.confirm_token(form.pk, result.submission_id), principal=public)
    assert [m["Subject"] for m in smtp.parsed()].count("Welcome") == 1


def test_the_form_accepts_only_a_template_email_of_the_workspace(in_acme):
    broadcast = make_email(kind="list")
    with pytest.raises(ValidationError) as error:
        _form(broadcast)
    assert "actions.0.email_id" in error.value.message_dict
