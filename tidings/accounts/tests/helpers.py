"""Helpers for the accounts tests: authenticator codes, principals, the workspace audit chain."""

from __future__ import annotations

import time


def totp_code(device, steps_ahead: int = 0) -> str:
    """Return the code device's app would show now (or steps_ahead 30-second steps later)."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def principal_of(user, workspace):
    from tidings.accounts.selectors import principal_for_user

    return principal_for_user(user, workspace)


def forward_audit_outbox() -> None:
    """Move entries of committed global changes into their chains, as the commit hook would.

    Tests run inside a transaction that never commits, so the hook never fires on its own.
    """
    from tidings.audit.actions import audit_outbox_forward

    audit_outbox_forward()


def audit_actions(workspace) -> list[str]:
    """Return the actions in workspace's chain, newest first (after forwarding the outbox)."""
    from tidings.audit.selectors import audit_entries_for_workspace
    from tidings.tenancy.context import use_workspace

    forward_audit_outbox()
    with use_workspace(workspace):
        return list(audit_entries_for_workspace().values_list("action", flat=True))


def audit_entries(workspace, action: str):
    """Return workspace's entries whose action starts with action, newest first (after forwarding the outbox)."""
    from tidings.audit.selectors import audit_entries_for_workspace
    from tidings.tenancy.context import use_workspace

    forward_audit_outbox()
    with use_workspace(workspace):
        return list(audit_entries_for_workspace(action_prefix=action))


def frozen_clock():
    """Return a freezegun freezer stopped at now, for `with frozen_clock() as clock: clock.tick(seconds)`.

    The URLconf is loaded first: the API's schemas must be built with the real datetime class.
    """
    from django.urls import get_resolver
    from django.utils import timezone
    from freezegun import freeze_time

    get_resolver().url_patterns  # noqa: B018 - loading it is the point
    return freeze_time(timezone.now())
