"""Background work of campaigns: run a workspace's campaigns when something happens, and sweep them periodically.

run_campaigns (one workspace) enters new contacts, wakes decisions and runs what is due, as the workspace's
system principal. It is enqueued on commit by what concerns campaigns (a segment joined, a form submitted,
an email opened or clicked: the event listener registered in apps.py; a campaign published; contacts
added), so a contact is on its step within seconds, and by sweep_campaigns every few seconds for delays
that came due. Several workers may run it for the same workspace at once: runs are claimed under a lease.
Every enqueue coalesces (jobs.actions.enqueue_once): a workspace has at most one run queued and not yet
started, so a burst of 1,000 form submissions queues one run, not 1,000; a wake-up after a run started
queues the next one (the run may have read its work before that wake-up's contact arrived).

A turn does at most TIDINGS_CAMPAIGN_STEPS_PER_TURN steps; with more due, it queues the workspace's next
turn behind what other workspaces queued meanwhile (the per-workspace throttle; engine.fair_pick shares
each batch between a workspace's campaigns).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django_tasks import task

from tidings.jobs.actions import enqueue_once
from tidings.jobs.periodic import periodic
from tidings.jobs.tenant import tenant_task

logger = logging.getLogger(__name__)

SWEEP_SECONDS = settings.TIDINGS_CAMPAIGN_SWEEP_SECONDS
# A burst of events (a broadcast's opens) wakes a workspace at most this often; the sweep catches the rest.
WAKE_DEBOUNCE = 0.5
_last_wake: dict[int, float] = {}
_lock = threading.Lock()


@tenant_task(coalesce=True)
def run_campaigns(*, workspace_id: int) -> int:
    """Run the campaigns of workspace workspace_id once; return how many steps were done or skipped."""
    from tidings.accounts.permissions import system_principal
    from tidings.campaigns.actions import campaigns_run
    from tidings.campaigns.engine import BATCH_SIZE
    from tidings.campaigns.selectors import published_campaign_exists
    from tidings.tenancy.selectors import workspace_by_id

    if not published_campaign_exists():
        return 0
    principal = system_principal(workspace_by_id(workspace_id), reason="task:run_campaigns")
    batches = max(1, -(-settings.TIDINGS_CAMPAIGN_STEPS_PER_TURN // BATCH_SIZE))
    result = campaigns_run(principal=principal, limit=BATCH_SIZE, max_batches=batches)
    if result.claimed >= batches * BATCH_SIZE:  # more may be due: another turn, after the other workspaces'
        enqueue_once(run_campaigns, workspace_id=workspace_id)
    return result.done + result.skipped


def wake(workspace_id: int) -> None:
    """Enqueue a run of workspace_id's campaigns (called after a commit), at most once per WAKE_DEBOUNCE."""
    now = time.monotonic()
    with _lock:
        if now - _last_wake.get(workspace_id, -WAKE_DEBOUNCE) < WAKE_DEBOUNCE:
            return
        _last_wake[workspace_id] = now
    enqueue_once(run_campaigns, workspace_id=workspace_id)


@periodic(every=timedelta(seconds=SWEEP_SECONDS))
@task()
def sweep_campaigns() -> int:
    """Queue a run of every workspace with a published campaign, in every region (none for a workspace whose run
    is queued and not started yet); return how many were queued."""
    from tidings.campaigns.selectors import workspaces_with_published_campaigns

    workspace_ids = workspaces_with_published_campaigns()
    return sum(enqueue_once(run_campaigns, workspace_id=workspace_id) for workspace_id in workspace_ids)
