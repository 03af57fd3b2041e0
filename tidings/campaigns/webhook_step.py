"""The campaign webhook step: a transfer to a third party, run like a send (committed "sending" before the POST
leaves, never sent twice). The HTTP side (the outbound-URL guard, the signed POST) is webhooks.py.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from tidings.accounts.permissions import Principal
from tidings.campaigns import engine, webhooks
from tidings.campaigns.models import RunStatus, StepRun
from tidings.contacts import selectors as contacts_selectors
from tidings.contacts import selectors_fields as contacts_fields
from tidings.tenancy.context import require_workspace

logger = logging.getLogger(__name__)

WEBHOOK_ATTEMPTS = 4  # a 5xx or a timeout is tried again this many times in all, then skipped with its reason
WEBHOOK_BACKOFF = datetime.timedelta(seconds=30)  # doubled at each attempt: 30 s, 1 min, 2 min
WEBHOOK_CHUNK = 100  # contacts per POST


def run_webhook(token: str, campaign_id: int, step: Mapping, runs: list[StepRun], *, principal: Principal,
                result: engine.RunResult, crash_after: str) -> None:  # fmt: skip
    """POST the step's fields of the group's contacts to its URL, 100 contacts a request, each run once.

    Only the contacts privacy_centre.transfer_contacts allows are sent (a registered recipient, the
    purpose allowed for the contact, the fields' categories registered); the others are skipped with
    reason not_allowed. A run found "sending" after a crash is never sent again (in_doubt).
    """
    doubtful = [r for r in runs if r.status == RunStatus.SENDING]
    if doubtful:
        outcomes = {r.pk: engine.next_outcome(step, status=RunStatus.SKIPPED, reason="in_doubt") for r in doubtful}
        engine.finish_group(
            token, doubtful, outcomes, result, step=step, campaign_id=campaign_id, expect=RunStatus.SENDING
        )
    claimed = [r for r in runs if r.status != RunStatus.SENDING]
    for start in range(0, len(claimed), WEBHOOK_CHUNK):
        _webhook_chunk(token, campaign_id, step, claimed[start : start + WEBHOOK_CHUNK], principal=principal,
                       result=result, crash_after=crash_after)  # fmt: skip


def _webhook_chunk(token: str, campaign_id: int, step: Mapping, runs: list[StepRun], *, principal: Principal,
                   result: engine.RunResult, crash_after: str) -> None:  # fmt: skip
    from tidings.privacy_centre import actions as privacy_actions

    with engine.atomic():
        mine = list(StepRun.objects.select_for_update().filter(pk__in=[r.pk for r in runs], claim=token,
                                                               status=RunStatus.CLAIMED))  # fmt: skip
        result.lost += len(runs) - len(mine)
        if not mine:
            return
        ids = sorted({r.contact_id for r in mine})
        fields = contacts_fields.fields_by_alias()
        categories = sorted({str(fields[a].category) for a in step["fields"] if a in fields and fields[a].category})
        reason = "not_allowed"
        try:
            allowed = privacy_actions.transfer_contacts(int(step["recipient_id"]), ids, purpose=step["purpose"],
                                                        categories=categories, principal=principal,
                                                        use=f"webhook:campaign:{campaign_id}:{step['id']}")  # fmt: skip
        except ObjectDoesNotExist:  # the recipient or the purpose was deleted since the graph was checked
            allowed, reason = set(), "no_recipient"
        except ValueError:
            allowed, reason = set(), "invalid_category"
        refused = [r for r in mine if r.contact_id not in allowed]
        if refused:
            skips = {r.pk: engine.next_outcome(step, status=RunStatus.SKIPPED, reason=reason) for r in refused}
            engine.finish(campaign_id, step, refused, skips, result)
        sending = [r for r in mine if r.contact_id in allowed]
        StepRun.objects.filter(pk__in=[r.pk for r in sending]).update(status=RunStatus.SENDING)
    if not sending:
        return
    views = contacts_selectors.contacts_get(sorted(allowed))
    payload = {
        "campaign_id": campaign_id,
        "step_id": step["id"],
        "contacts": [{"id": c, **{a: views[c].get(a) for a in step["fields"]}} for c in sorted(views)],
    }
    secret = webhooks.step_secret(require_workspace().id, campaign_id, int(step["id"]))
    reply = webhooks.post(step["url"], payload, secret=secret)
    if crash_after == "send":
        raise engine.SimulatedCrash("after the webhook was called, before its runs were marked done")
    now = timezone.now()
    outcomes: dict[int, engine.Outcome] = {}
    retrying: list[int] = []
    for run in sending:
        if reply.ok:
            outcomes[run.pk] = engine.next_outcome(step)
        elif reply.retry and run.attempts < WEBHOOK_ATTEMPTS:
            outcomes[run.pk] = engine.Outcome(wait_until=now + WEBHOOK_BACKOFF * 2 ** max(run.attempts - 1, 0),
                                       waiting="retry")  # fmt: skip
            retrying.append(run.pk)
        else:
            outcomes[run.pk] = engine.next_outcome(step, status=RunStatus.SKIPPED, reason=reply.reason)
    engine.finish_group(token, sending, outcomes, result, step=step, campaign_id=campaign_id, expect=RunStatus.SENDING)
    if retrying:  # the reason of the last failure stays on the waiting run (the journey shows it)
        with engine.atomic():
            StepRun.objects.filter(pk__in=retrying, status=RunStatus.PENDING).update(reason=reply.reason)
    if not reply.ok:
        logger.warning("campaign %s step %s webhook failed (%s) for %d contacts", campaign_id, step["id"],
                       reply.reason, len(sending))  # fmt: skip
