"""Background jobs of the audit log."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from tidings.audit.actions import audit_outbox_forward, audit_record
from tidings.audit.selectors import verify_chains
from tidings.jobs.periodic import periodic
from tidings.tenancy.context import no_workspace


@periodic(every=timedelta(days=1))
@task()
def verify_audit_chains() -> int:
    """Verify every audit chain and record the outcome in the system chain; return the problem count.

    Records audit.verified, or audit.verification_failed with the number of problems (the
    problems themselves are for `tidings audit verify`, which prints them).
    """
    problems = sum(1 for _ in verify_chains())
    with no_workspace():
        audit_record(
            "audit.verification_failed" if problems else "audit.verified",
            actor_type="system",
            target_type="audit_log",
            data={"problems": problems},
        )
    return problems


@periodic(every=timedelta(minutes=1))
@task()
def forward_audit_outbox() -> int:
    """Forward audit entries left in the global outbox to their chains; return how many.

    Entries are normally forwarded as soon as their change commits; this catches those a crash
    or an unreachable region database left behind.
    """
    total = 0
    while forwarded := audit_outbox_forward():
        total += forwarded
    return total
