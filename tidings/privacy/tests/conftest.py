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
