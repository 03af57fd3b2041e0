"""Fixtures for the contacts tests (in_acme, ada and grace live in the root conftest)."""

import pytest


@pytest.fixture
def arun_client(acme, client):
    """A client signed in as arun, an analyst in Acme (aggregates only: no contacts:view)."""
    from tidings.accounts.actions import membership_create, user_create
    from tidings.tests.principals import system

    arun = user_create(email="arun@acme.example", password="correct horse battery staple")
    membership_create(workspace=acme, user=arun, role="analyst", principal=system(acme))
    client.force_login(arun)
    return client


@pytest.fixture
def immediate_tasks(settings):
    """Run enqueued tasks at once, in the enqueuing process (django-tasks' ImmediateBackend)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
