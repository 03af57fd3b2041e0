"""Background jobs of Tidings' policies: telling workspace admins about a new version."""

from __future__ import annotations

from django_tasks import task


@task()
def notify_policy_published(*, policy_id: int) -> int:
    """Email the admins of every workspace about the new version policy_id; return how many were emailed."""
    from tidings.policies.actions import policy_notify_admins

    return policy_notify_admins(policy_id)
