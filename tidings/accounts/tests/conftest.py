"""Actors and helpers for the accounts tests.

dave is a marketer in Acme, erin an admin in Acme; carol (root conftest) is Tidings staff.
"""

from __future__ import annotations

import pytest

from tidings.accounts.tests.helpers import totp_code


@pytest.fixture
def add_member(acme):
    from tidings.accounts.actions import membership_create, user_create

    def add(email: str, role: str, workspace=None):
        from tidings.tests.principals import system

        user = user_create(email=email, password="correct horse battery staple")
        membership_create(workspace=workspace or acme, user=user, role=role, principal=system(workspace or acme))
        return user

    return add


@pytest.fixture
def dave(add_member):
    return add_member("dave@acme.example", "marketer")


@pytest.fixture
def erin(add_member):
    return add_member("erin@acme.example", "admin")


@pytest.fixture
def with_authenticator():
    """Give a user a confirmed authenticator through the real actions; return the device.

    The set-up consumes the current code, so the next sign-in uses totp_code(device, 1).
    """
    from tidings.accounts.actions import totp_device_confirm, totp_device_start

    def give(user):
        device = totp_device_start(user=user)
        return totp_device_confirm(device=device, token=totp_code(device))

    return give


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run the on-commit side effects (emails) of the block on the global database."""

    def capture():
        return django_capture_on_commit_callbacks(execute=True, using="default")

    return capture
