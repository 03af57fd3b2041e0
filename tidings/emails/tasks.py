"""Background work of sending: run a send, and pick up the sends a dead worker left running.

run_send_task is enqueued (on commit) by send_start and send_resume, or by the scheduler at a send's
scheduled time; it runs the engine (tidings.emails.sender) as the workspace's system principal. A
worker that dies mid-send leaves the send "running" with a lease that lapses (renewed every batch);
resume_abandoned_sends, every minute, queues a run for each such send, which settles the dead runner's
claimed deliveries from its journal and goes on from the checkpoint.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django_tasks import task

from tidings.jobs.periodic import periodic
from tidings.jobs.tenant import tenant_task

logger = logging.getLogger(__name__)


@tenant_task()
def run_send_task(*, workspace_id: int, send_id: int, lane: int | None = None) -> str:
    """Run send send_id of workspace workspace_id; return the status it was left in.

    A send in lanes (decision 0036) queued without a lane queues one task per lane instead, so that as many
    worker processes send it at once; a lane's task runs that lane only.
    """
    from tidings.accounts.permissions import system_principal
    from tidings.emails.actions.sending import send_run
    from tidings.emails.lanes import lane_total
    from tidings.emails.models import Send
    from tidings.emails.selectors_sending import send_get
    from tidings.tenancy.selectors import workspace_by_id

    try:
        if lane is None:
            lanes = lane_total(send_get(send_id))
            if lanes > 1:
                for k in range(lanes):
                    run_send_task.enqueue(workspace_id=workspace_id, send_id=send_id, lane=k)
                return "lanes"
        principal = system_principal(workspace_by_id(workspace_id), reason="task:run_send")
        return send_run(send_id, principal=principal, lane=lane).status
    except Send.DoesNotExist:
        # A scheduled start whose send_start rolled back (the schedule lives in the global database).
        logger.info("Send task for send %s: no such send; nothing to run", send_id)
        return "missing"


@tenant_task()
def pick_ab_winner_task(*, workspace_id: int, send_id: int, attempt: int = 0) -> int | None:
    """Pick the winner of A/B test send send_id once its test period is over; return the winner's send id."""
    from tidings.accounts.permissions import system_principal
    from tidings.emails.actions.sending import ab_pick_winner
    from tidings.emails.models import Send
    from tidings.tenancy.selectors import workspace_by_id

    principal = system_principal(workspace_by_id(workspace_id), reason="task:pick_ab_winner")
    try:
        remainder = ab_pick_winner(send_id, principal=principal, attempt=attempt)
    except Send.DoesNotExist:
        # The schedule is written to the global database before the region's transaction commits; when that
        # transaction rolled back (or the send was deleted since), there is no test to decide.
        logger.info("A/B winner task for send %s: no such send; nothing to decide", send_id)
        return None
    return remainder.pk if remainder is not None else None


@tenant_task()
def retry_deferred_task(*, workspace_id: int, send_id: int) -> dict:
    """Try again the deferred messages of send send_id that are due (4xx refusals, no connection)."""
    from tidings.accounts.permissions import system_principal
    from tidings.emails.actions.sending import send_retry_deferred
    from tidings.tenancy.selectors import workspace_by_id

    principal = system_principal(workspace_by_id(workspace_id), reason="task:retry_deferred")
    return send_retry_deferred(send_id, principal=principal)


@periodic(every=timedelta(minutes=1))
@task()
def retry_deferred_deliveries() -> int:
    """Queue a retry of every send with deferred messages due, in every region; return how many."""
    from tidings.emails.selectors_sending import sends_with_deferred_due

    queued = 0
    for workspace_id, send_id in sends_with_deferred_due():
        retry_deferred_task.enqueue(workspace_id=workspace_id, send_id=send_id)
        queued += 1
    return queued


@periodic(every=timedelta(minutes=1))
@task()
def resume_abandoned_sends() -> int:
    """Queue a run of every running or queued send whose runner's lease lapsed, in every region; return how many."""
    from tidings.emails.selectors_sending import abandoned_sends

    queued = 0
    for workspace_id, send_id in abandoned_sends():
        run_send_task.enqueue(workspace_id=workspace_id, send_id=send_id)
        queued += 1
    if queued:
        logger.info("queued %s abandoned sends to resume", queued)
    return queued
