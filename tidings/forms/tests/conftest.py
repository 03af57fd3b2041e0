"""Forms' actors: Acme's newsletter form, the public form door's principal, Acme's shop site and a visitor."""

from __future__ import annotations

import pytest

WORDING = "Send me the Acme newsletter. I can unsubscribe at any time."


@pytest.fixture(autouse=True)
def _instant_forms(settings):
    """No least fill time and generous limits, unless a test says otherwise."""
    settings.TIDINGS_FORMS_MIN_FILL_SECONDS = 0
    settings.TIDINGS_FORMS_RATE_PER_NETWORK = 10_000
    settings.TIDINGS_FORMS_RATE_PER_FORM = 10_000
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def public(in_acme):
    """The principal the public form door gives a post to /m/acme/form/...."""
    from tidings.accounts.permissions import PUBLIC_FORM_PERMISSIONS, Principal, Via
    from tidings.tenancy.selectors import workspace_by_id

    return Principal(workspace=workspace_by_id(in_acme.id), user=None, permissions=PUBLIC_FORM_PERMISSIONS,
                     via=Via.PUBLIC_KEY)  # fmt: skip


def newsletter_fields():
    return [
        {"kind": "email", "label": "Email", "alias": "email", "required": True, "maps_to": "email"},
        {"kind": "text", "label": "First name", "alias": "firstname", "maps_to": "firstname",
         "rules": {"max_length": 40}},
        {"kind": "select", "label": "Topic", "alias": "topic", "options": ["maths", "poetry|Poetry"]},
        {"kind": "consent", "label": WORDING, "alias": "newsletter_ok", "purpose": "marketing_email"},
    ]  # fmt: skip


@pytest.fixture
def newsletter(in_acme):
    """A published newsletter form: tags its contacts and asks for a double opt-in."""
    from tidings.forms import actions
    from tidings.tests.principals import system

    return actions.form_create(
        name="Newsletter", published=True, fields=newsletter_fields(), principal=system(),
        actions=[{"kind": "tags_add", "tags": ["newsletter"]},
                 {"kind": "double_opt_in", "purpose": "marketing_email", "subject": "Confirm your subscription"}],
    )  # fmt: skip


@pytest.fixture
def site(in_acme):
    from tidings.tests.principals import system
    from tidings.tracking import actions

    return actions.site_create(name="Acme shop", domains=["shop.example"], principal=system())


@pytest.fixture
def visitor(in_acme):
    from tidings.events.actions import visitor_create
    from tidings.tests.principals import system

    return visitor_create(principal=system())


def posted(**answers) -> dict[str, list[str]]:
    return {alias: (value if isinstance(value, list) else [value]) for alias, value in answers.items()}


def submit(form, principal, *, context=None, **answers):
    """Submit answers to form as principal, running what waits for the commit (the mails) at once."""
    from django.test import TestCase

    from tidings.forms import actions
    from tidings.tenancy.context import require_workspace

    context = context or actions.SubmitContext(ip="203.0.113.9", page_url="https://shop.example/news?ref=x")
    with TestCase.captureOnCommitCallbacks(using=require_workspace().db_alias, execute=True):
        return actions.form_submit(form.pk, posted(**answers), context=context, principal=principal)
