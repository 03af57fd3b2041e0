"""Retrying a send's deferred messages (transient refusals, see tidings.emails.sender), once its walk is over.

The retry uses the sender's pieces (lease, journal, claims, workers, outcomes): only the walk differs, over
the deferred rows whose time has come instead of the segments.
"""

from __future__ import annotations

import logging
import uuid

from django.db.models import Q
from django.utils import timezone

from tidings.emails import eligibility, selectors_sending
from tidings.emails.journal import Journal
from tidings.emails.lanes import LEASE, atomic, bump_counts
from tidings.emails.models import Delivery, DeliveryStatus, Email, Send, SendStatus
from tidings.emails.sender import (
    BATCH_SIZE,
    Job,
    Owners,
    Workers,
    backend_path,
    connection_options,
    jobs_for,
    plan_for,
    record_outcomes,
    recover,
)
from tidings.privacy.vault import keyring

log = logging.getLogger(__name__)


RETRYABLE = (SendStatus.FINISHED, SendStatus.CANCELLED, SendStatus.FAILED)


def retry_deferred(send_id: int, *, limit: int = BATCH_SIZE) -> dict[str, int]:
    """Try again the send's deferred messages whose time has come; return the counts of their outcomes.

    Only once the send's walk is over (a running send's journal is its runner's): the retry holds the
    send's lease meanwhile, settles a dead retry's claims from the journal, claims the due rows (committed
    before any message leaves), checks eligibility again and sends through the same workers and journal.
    A cancelled send sends nothing more: its deferred messages fail with reason "cancelled".
    """
    runner = uuid.uuid4().hex
    now = timezone.now()
    with atomic():
        taken = Send.objects.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now), pk=send_id,
                                    status__in=RETRYABLE).update(runner=runner, lease_until=now + LEASE)  # fmt: skip
    if not taken:
        return {}
    send = selectors_sending.send_get(send_id)
    journal = Journal(send.workspace_id, send.pk)
    workers: Workers | None = None
    counts: dict[str, int] = {}
    try:
        recover(send)
        Delivery.objects.filter(send_id=send.pk, retry_at__isnull=False).exclude(
            status__in=[DeliveryStatus.DEFERRED, DeliveryStatus.CLAIMED]
        ).update(retry_at=None)  # settled by recover(): out of the sweep
        due = selectors_sending.deferred_due(send.pk, now, limit)
        if not due:
            return {}
        if send.status == SendStatus.CANCELLED:
            with atomic():
                Delivery.objects.filter(pk__in=list(due.values()), status=DeliveryStatus.DEFERRED).update(
                    status=DeliveryStatus.FAILED, reason="cancelled", retry_at=None
                )
                bump_counts(send.pk, {"deferred": -len(due), "failed": len(due)})
            return {"failed": len(due)}
        with atomic():
            # retry_at stays on the claimed rows: a retry that dies is found by the sweep and settled by recover().
            claimed = Delivery.objects.filter(pk__in=list(due.values()), status=DeliveryStatus.DEFERRED).update(
                status=DeliveryStatus.CLAIMED
            )
            bump_counts(send.pk, {"deferred": -claimed})
        arm_of = dict(Delivery.objects.filter(pk__in=list(due.values())).values_list("contact_id", "email_id"))
        email = Email.objects.get(pk=send.email_id)
        sending = selectors_sending.sending_settings()
        plan = plan_for(send, email, sending)
        verdict = eligibility.check(sorted(due), email=email, settings=sending, ring=keyring())
        skipped = {c: r for c, r in verdict.skipped.items()}
        jobs: list[Job] = []
        owners = Owners()
        for contact in verdict.allowed:
            context = plan.contexts.get(arm_of.get(contact.id, email.pk), plan.context)
            (job,) = jobs_for([contact], context, owners)
            job.context = context
            jobs.append(job)
        journal.open()
        workers = Workers(plan.context, count=max(1, min(int(sending.connections or 1), 16)),
                          backend=backend_path(sending), journal=journal,
                          rate=int(sending.rate_per_second or 0), options=connection_options(sending))  # fmt: skip
        outcomes = workers.send_all(jobs)
        with atomic():
            counts = record_outcomes(send, outcomes, due)
            if skipped:
                for reason in set(skipped.values()):
                    Delivery.objects.filter(pk__in=[due[c] for c, r in skipped.items() if r == reason]).update(
                        status=DeliveryStatus.SKIPPED, reason=reason
                    )
                    counts[f"skipped:{reason}"] = sum(1 for r in skipped.values() if r == reason)
            bump_counts(send.pk, counts)
            Delivery.objects.filter(pk__in=list(due.values())).exclude(status=DeliveryStatus.DEFERRED).update(
                retry_at=None
            )
        journal.reset()
        log.info("send %s: retried %s deferred messages (%s)", send.pk, len(due), counts)
        return counts
    finally:
        if workers is not None:
            workers.close()
        journal.close()
        Send.objects.filter(pk=send_id, runner=runner).update(lease_until=None, runner="")
