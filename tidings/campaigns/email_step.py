"""The campaign email step: each run's contact is sent the step's email once, even across a crash.

EMAIL_CHUNK runs at a time are committed "sending" (stamped sending_at) before any of their messages
leaves, then sent by one emails send_to_contacts. A run found "sending" after a crash is never sent again:
it takes what the emails app recorded of its message (decision 0037).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils import timezone

from tidings.accounts.permissions import Principal
from tidings.campaigns import engine
from tidings.campaigns.models import RunStatus, StepRun
from tidings.emails import selectors_sending as emails_selectors_sending
from tidings.emails.actions import sending as emails_sending

# Email steps are sent this many at a time, each chunk committed "sending" just before it leaves: a crash
# leaves at most one chunk in doubt (never resent), the rest of the batch still pending and sent later.
EMAIL_CHUNK = 100


def run_email(token: str, campaign_id: int, step: Mapping, runs: list[StepRun], *, principal: Principal,
              result: engine.RunResult, crash_after: str) -> None:  # fmt: skip
    """Send the step's email to the runs' contacts, once, set-based: EMAIL_CHUNK runs at a time are committed
    "sending" in one UPDATE before any of their messages leaves, then one send_to_contacts (one Send, one
    eligibility pass) each; a crash leaves one chunk in doubt, and the runs not yet marked are sent later.

    A run of the same contact twice in the batch (re-entries) goes in a later round: one message each.
    """
    doubtful = [r for r in runs if r.status == RunStatus.SENDING]
    if doubtful:
        # A worker died between marking them and recording their outcome: never send them again.
        engine.finish_group(token, doubtful, _recovered(step, doubtful), result, step=step,
                            campaign_id=campaign_id, expect=RunStatus.SENDING)  # fmt: skip
    rounds: list[list[StepRun]] = []
    seen: dict[int, int] = defaultdict(int)
    for run in runs:
        if run.status != RunStatus.SENDING:
            if seen[run.contact_id] == len(rounds):
                rounds.append([])
            rounds[seen[run.contact_id]].append(run)
            seen[run.contact_id] += 1
    chunks = [r[i : i + EMAIL_CHUNK] for r in rounds for i in range(0, len(r), EMAIL_CHUNK)]
    for batch in chunks:
        with engine.atomic():
            taken = set(StepRun.objects.select_for_update().filter(pk__in=[r.pk for r in batch], claim=token,
                                                                   status=RunStatus.CLAIMED)
                        .values_list("pk", flat=True))  # fmt: skip
            StepRun.objects.filter(pk__in=taken).update(status=RunStatus.SENDING, sending_at=timezone.now())
        result.lost += len(batch) - len(taken)
        mine = [r for r in batch if r.pk in taken]
        if not mine:
            continue
        if crash_after == "sending":
            raise engine.SimulatedCrash("after the runs were marked sending, before their send began")
        outcomes: dict[int, engine.Outcome]
        try:
            fates = emails_sending.send_to_contacts(int(step["email_id"]), [r.contact_id for r in mine],
                                                    principal=principal)  # fmt: skip
            outcomes = {}
            for run in mine:
                status, reason = fates.get(run.contact_id, ("skipped", "no_contact"))
                outcomes[run.pk] = (
                    engine.next_outcome(step)
                    if status == "sent"
                    else engine.next_outcome(step, status=RunStatus.SKIPPED, reason=(reason or status)[:32])
                )
        except ObjectDoesNotExist:
            outcomes = {r.pk: engine.next_outcome(step, status=RunStatus.SKIPPED, reason="no_email") for r in mine}
        except ValidationError:
            outcomes = {
                r.pk: engine.next_outcome(step, status=RunStatus.SKIPPED, reason="email_unpublished") for r in mine
            }
        if crash_after == "send":
            raise engine.SimulatedCrash("after the messages left, before their runs were marked done")
        engine.finish_group(token, mine, outcomes, result, step=step, campaign_id=campaign_id, expect=RunStatus.SENDING)


def _recovered(step: Mapping, runs: list[StepRun]) -> dict[int, engine.Outcome]:
    """The outcomes of email runs a crashed worker left "sending", from the emails app's record of each message.

    The Delivery of the first send of the step's email to the contact since the run was marked: sent, the
    run is done (as if it had finished); skipped, failed or deferred, it takes that outcome; claimed (the
    worker died with the message leaving) or none recorded, it is skipped in_doubt. Never sent again.
    """
    since: dict[int, datetime.datetime] = {}
    for run in runs:  # a contact twice in one batch is in two rounds: the earlier mark finds the earlier send
        if run.sending_at is not None:
            since[run.contact_id] = min(run.sending_at, since.get(run.contact_id, run.sending_at))
    fates = emails_selectors_sending.deliveries_since(int(step["email_id"]), since) if since else {}
    out: dict[int, engine.Outcome] = {}
    for run in runs:
        status, reason = fates.get(run.contact_id, ("", "")) if run.sending_at is not None else ("", "")
        if status == "sent":
            out[run.pk] = engine.next_outcome(step)
        elif status in ("", "claimed", "in_doubt"):
            out[run.pk] = engine.next_outcome(step, status=RunStatus.SKIPPED, reason="in_doubt")
        else:
            out[run.pk] = engine.next_outcome(step, status=RunStatus.SKIPPED, reason=(reason or status)[:32])
    return out
