"""Fixtures for the contacts tests: Acme's workspace in context, and a few made-up people."""

import pytest

from tidings.tenancy.context import use_workspace


@pytest.fixture
def in_acme(acme):
    """Run the test with Acme (EU) as the current workspace."""
    with use_workspace(acme):
        yield acme


@pytest.fixture
def ada(in_acme):
    from tidings.contacts.actions import contact_create

    return contact_create(
        {"email": "ada@analytical.example", "firstname": "Ada", "lastname": "Quillfeather", "city": "London"},
        tags=["mathematics"],
    )


@pytest.fixture
def grace(in_acme):
    from tidings.contacts.actions import contact_create

    return contact_create({"email": "grace@navy.example", "firstname": "Grace", "lastname": "Brightwater"})


@pytest.fixture
def arun_client(acme, client):
    """A client signed in as arun, an analyst in Acme (aggregates only: no contacts:view)."""
    from tidings.accounts.actions import membership_create, user_create

    arun = user_create(email="arun@acme.example", password="correct horse battery staple")
    membership_create(workspace=acme, user=arun, role="analyst")
    client.force_login(arun)
    return client


@pytest.fixture
def immediate_tasks(settings):
    """Run enqueued tasks at once, in the enqueuing process (django-tasks' ImmediateBackend)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
