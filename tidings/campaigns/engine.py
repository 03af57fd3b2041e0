"""The campaign engine: contacts enter from their sources, due steps are claimed in batches and run once.

    enter_from_sources(campaign)   set-based: segment members (INSERT ... SELECT), form submitters and
                                   segment joiners since the watermark (re-entry), leavers exited
    claim_due(limit)               one UPDATE takes up to `limit` due runs under a lease (SKIP LOCKED
                                   on PostgreSQL, so several workers share the queue)
    run_claimed(claim)             runs the claimed runs grouped by (campaign, version, step): a tag step
                                   for 10,000 contacts is one contacts_tag call

Exactly once. A database step (tags, segments, points, fields, Do-Not-Contact, exit, conditions,
decisions, delays) does its work, marks its runs done and inserts their successors in one transaction:
a crash rolls all of it back and the lease's expiry hands the runs to another worker. An email step
first commits its run as "sending", then sends: a run found "sending" after a crash is never sent
again; it takes what the emails app recorded of its message (sent: done; skipped or failed: that
outcome; claimed or nothing recorded: skipped with reason in_doubt, the emails app's rule for a message
whose fate is unknown) and the walk goes on. The (enrolment, entry, seq) unique constraint makes a successor
impossible to schedule twice.

Every step done, skipped or decided is written to the event store (compact: ids and codes).

This module orchestrates; the parts it calls live beside it: conditions.py (condition evaluation and
contacts' local times), goals.py (goals end a walk), email_step.py (the email step: chunks committed
"sending", then sent; crash recovery from the emails app's record), more_actions.py (change stage, set
owner, notify a member, enter another campaign), webhook_step.py (the webhook step, run like a send).
"""

from __future__ import annotations

import datetime
import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from tidings.accounts.permissions import Principal
from tidings.campaigns import conditions
from tidings.campaigns import graph as graphs
from tidings.campaigns.event_types import (
    CAMPAIGN_DECIDED,
    CAMPAIGN_ENTERED,
    CAMPAIGN_LEFT,
    CAMPAIGN_STEP,
    CAMPAIGN_STEP_SKIPPED,
)
from tidings.campaigns.models import (
    Campaign,
    CampaignStatus,
    CampaignVersion,
    Enrolment,
    EnrolmentStatus,
    RunStatus,
    StepRun,
)
from tidings.consent import selectors as consent_selectors
from tidings.contacts import actions as contacts_actions
from tidings.contacts import selectors as contacts_selectors
from tidings.contacts.conditions import existing_contact_ids
from tidings.events import selectors as event_selectors
from tidings.events import store
from tidings.events.registry import code_for
from tidings.events.store import EventRow
from tidings.segments import actions as segments_actions
from tidings.segments import selectors as segments_selectors
from tidings.tenancy import bulk
from tidings.tenancy.context import require_workspace

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# How often a decision still waiting for its event looks again (events also wake it: see nudge_decisions).
RECHECK = datetime.timedelta(seconds=60)
# Events committed late (a long transaction) still enter: the sweep reads this far behind its watermark.
ENTRY_MARGIN = datetime.timedelta(seconds=60)
MANUAL_CHUNK = 10_000  # segments' MAX_MANUAL
ACTIVE_RUNS = (RunStatus.PENDING, RunStatus.CLAIMED, RunStatus.SENDING)
DECISION_EVENTS = {"opened_email": "email.opened", "clicked_email": "email.clicked",
                   "submitted_form": "form.submitted", "visited_page": "page.hit"}  # fmt: skip
# Decisions added with downloads and unsubscriptions (the assets app records asset.download; emails'
# feedback routes email.unsubscribed) and replies (email.replied: the bounce mailbox and the inbound API).
DECISION_EVENTS.update({"downloaded_asset": "asset.download", "unsubscribed": "email.unsubscribed",
                        "replied_email": "email.replied"})  # fmt: skip


def lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=getattr(settings, "TIDINGS_CAMPAIGN_LEASE_SECONDS", 300))


def atomic():
    return transaction.atomic(using=require_workspace().db_alias)


@dataclass
class Outcome:
    """What became of one run: done or skipped (reason), the path taken, the next step, or waiting until."""

    status: str = RunStatus.DONE
    reason: str = ""
    path: str = ""  # yes / no for a decision or condition
    next_step: int | None = None
    wait_until: datetime.datetime | None = None  # not finished: due again then
    waiting: str = ""  # the run's outcome while it waits (armed / waiting)
    exit: bool = False  # the contact leaves the campaign


@dataclass
class RunResult:
    claimed: int = 0
    done: int = 0
    skipped: int = 0
    waiting: int = 0
    lost: int = 0  # claims another worker took over (lease expired)
    by_step: dict[str, int] = field(default_factory=dict)


# ==============================================================================================
# Graphs


def graph_of(campaign_id: int, version: int) -> dict:
    """Return a published version's graph (one indexed read; the engine reads it once per group of runs)."""
    return CampaignVersion.objects.get(campaign_id=campaign_id, number=version).graph


def steps_of(campaign_id: int, version: int) -> dict[int, dict]:
    """Return the steps by id of a published version."""
    return graphs.step_map(graph_of(campaign_id, version))


# ==============================================================================================
# Entry


def _start_runs(campaign: Campaign, start: int, enrolments, now: datetime.datetime) -> int:
    """Insert the first run of each enrolment of the values_list (id, contact_id, entries) queryset."""
    constants = {"workspace_id": require_workspace().id, "campaign_id": campaign.pk, "version": campaign.version,
                 "step": start, "seq": 0, "status": RunStatus.PENDING, "due_at": now, "waiting_since": now,
                 "attempts": 0, "claim": "", "outcome": "", "reason": ""}  # fmt: skip
    return bulk.insert_select(StepRun, constants, ["enrolment_id", "contact_id", "entry"], enrolments,
                              ignore_conflicts=True)  # fmt: skip


def _entered_events(campaign_id: int, enrolments) -> None:
    store.write_select(CAMPAIGN_ENTERED, enrolments.values_list("contact_id", flat=True),
                       {"campaign_id": campaign_id})  # fmt: skip


def enter_contacts(campaign: Campaign, contacts, *, source: str, reenter: bool = False) -> int:
    """Enrol contacts (a values_list queryset of contact ids of a tenant table, or a list of ids) now.

    A contact never enrolled enters. With reenter, one enrolled before enters again when the campaign
    repeats, it is no longer in it and the minimum gap since its last entry has passed. Return how many
    entered. Call inside the caller's transaction.
    """
    graph = graph_of(campaign.pk, campaign.version)
    start = graph.get("start")
    if start is None:
        return 0
    now = timezone.now()
    workspace_id = require_workspace().id
    fields = {"workspace_id": workspace_id, "campaign_id": campaign.pk, "version": campaign.version,
              "status": EnrolmentStatus.ACTIVE, "entries": 1, "source": source, "entered_at": now,
              "exit_reason": ""}  # fmt: skip
    if isinstance(contacts, list | tuple | set):
        ids = sorted({int(c) for c in contacts})
        if not reenter:
            # The sources are read with a margin, so most ids are enrolled already: drop them before the checks.
            enrolled: set[int] = set()
            for first in range(0, len(ids), MANUAL_CHUNK):
                enrolled.update(Enrolment.objects.filter(campaign_id=campaign.pk,
                                                         contact_id__in=ids[first : first + MANUAL_CHUNK])
                                .values_list("contact_id", flat=True))  # fmt: skip
            ids = [c for c in ids if c not in enrolled]
        contacts = existing_contact_ids(ids) if ids else []
        if not contacts:
            return 0
        bulk.insert(Enrolment, [*fields, "contact_id"], [(*fields.values(), c) for c in contacts],
                    ignore_conflicts=True)  # fmt: skip
    else:
        bulk.insert_select(Enrolment, fields, ["contact_id"], contacts, ignore_conflicts=True)
    if reenter and graph["entry"]["mode"] == "repeat":
        gap = datetime.timedelta(seconds=graph["entry"].get("min_gap_seconds", 0))
        again = Enrolment.objects.filter(campaign_id=campaign.pk, contact_id__in=contacts,
                                         entered_at__lte=now - gap, entered_at__lt=now)  # fmt: skip
        again.exclude(status=EnrolmentStatus.ACTIVE).update(
            status=EnrolmentStatus.ACTIVE,
            entries=F("entries") + 1,
            version=campaign.version,
            entered_at=now,
            left_at=None,
            exit_reason="",
            source=source,
        )
    fresh = Enrolment.objects.filter(campaign_id=campaign.pk, entered_at=now, status=EnrolmentStatus.ACTIVE)
    entered = fresh.count()
    if entered:
        _start_runs(campaign, int(start), fresh.values_list("id", "contact_id", "entries"), now)
        _entered_events(campaign.pk, fresh)
    return entered


def enter_from_sources(campaign: Campaign, *, now: datetime.datetime | None = None) -> int:
    """Enrol the campaign's sources' new contacts, exit those who left its segments; return how many entered.

    The first run after a publish enrols every member of the source segments (one INSERT ... SELECT);
    later runs read the event store from the watermark (less a margin for late commits) for contacts
    that joined a source segment or submitted a source form. Repeat: such a contact re-enters when its
    event came after its last entry and the minimum gap passed. Exit on segment leave: active contacts in
    none of the source segments leave.
    """
    now = now or timezone.now()
    graph = graph_of(campaign.pk, campaign.version)
    segments = graphs.segment_sources(graph)
    forms = graphs.form_sources(graph)
    repeat = graph["entry"]["mode"] == "repeat"
    # The first run after a publish takes every member (one INSERT ... SELECT); later runs only the joiners.
    everyone = campaign.entry_watermark is None
    since = (campaign.entry_watermark or now) - ENTRY_MARGIN
    sources = [("segment.added", "segment_id", s) for s in segments if repeat or not everyone] + [
        ("form.submitted", "form_id", f) for f in forms
    ]
    entered = 0
    with atomic():
        for segment_id in segments if everyone else ():
            members = segments_selectors.segment_member_ids(segment_id)
            entered += enter_contacts(campaign, members, source="segment")
        for name, key, ident in sources:
            found = event_selectors.contact_ids_with_event(code_for(name), since=since, until=now, data={key: ident})
            source = "form" if key == "form_id" else "segment"
            if repeat:
                entered += _reenter_after_event(campaign, list(found), source, code=name, data={key: ident})
            else:
                entered += enter_contacts(campaign, list(found), source=source)
        if graph.get("exit_on_segment_leave") and segments:
            in_sources = Q()
            for segment_id in segments:
                in_sources |= Q(contact_id__in=segments_selectors.segment_member_ids(segment_id))
            active = Enrolment.objects.filter(campaign_id=campaign.pk, status=EnrolmentStatus.ACTIVE)
            leavers = active.exclude(in_sources)
            exit_enrolments(leavers, reason="left_segment", now=now)
        Campaign.objects.filter(pk=campaign.pk).update(entry_watermark=now)
    return entered


def _reenter_after_event(campaign, contact_ids, source: str, *, code: str, data: Mapping[str, Any]) -> int:
    """Enter contacts whose source event came after their last entry (new contacts enter as well)."""
    ids = sorted({int(c) for c in contact_ids})
    if not ids:
        return 0
    entered_at = dict(Enrolment.objects.filter(campaign_id=campaign.pk, contact_id__in=ids)
                      .values_list("contact_id", "entered_at"))  # fmt: skip
    fresh = [c for c in ids if c not in entered_at]
    known = [c for c in ids if c in entered_at]
    if known:
        # Only an event after the last entry counts: a rescanned event never re-enters anyone twice.
        oldest = min(entered_at[c] for c in known)
        events = event_selectors.events_matching(code_for(code), since=oldest, contact_ids=known, data=data)
        latest: dict[int, datetime.datetime] = {}
        for who, at in events.values_list("who", "at"):
            latest[who] = max(at, latest.get(who, at))
        fresh += [c for c in known if c in latest and latest[c] > entered_at[c]]
    return enter_contacts(campaign, fresh, source=source, reenter=True) if fresh else 0


def exit_enrolments(enrolments, *, reason: str, now: datetime.datetime | None = None) -> int:
    """Take active enrolments (a queryset) out of their campaign: their runs still to do are cancelled."""
    now = now or timezone.now()
    rows = list(enrolments.filter(status=EnrolmentStatus.ACTIVE).values_list("id", "campaign_id", "contact_id"))
    if not rows:
        return 0
    ids = [r[0] for r in rows]
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start : start + BATCH_SIZE]
        Enrolment.objects.filter(id__in=chunk).update(status=EnrolmentStatus.EXITED, left_at=now, exit_reason=reason)
        StepRun.objects.filter(enrolment_id__in=chunk, status__in=ACTIVE_RUNS).update(
            status=RunStatus.CANCELLED, done_at=now, reason=reason[:32], claim="", lease_until=None
        )
    store.write(EventRow(type=CAMPAIGN_LEFT, contact_id=c, data={"campaign_id": k}, at=now) for _, k, c in rows)
    return len(rows)


# ==============================================================================================
# Claiming


def claim_due(limit: int = BATCH_SIZE, *, now: datetime.datetime | None = None) -> str:
    """Take up to `limit` due runs of published campaigns under a lease; return the claim token.

    A run is due when pending and its time has come, or when a worker's lease on it expired (the
    worker died): then it is taken again, a "sending" run staying "sending" so it is never sent twice.
    """
    now = now or timezone.now()
    token = secrets.token_hex(8)
    due = Q(status=RunStatus.PENDING, due_at__lte=now) | Q(
        status__in=(RunStatus.CLAIMED, RunStatus.SENDING), lease_until__lt=now
    )
    with atomic():
        ids = fair_pick(limit, now=now)
        if ids:
            # The same condition again: on SQLite (no row locks) a second worker that read the same ids takes none.
            StepRun.objects.filter(due, id__in=ids).update(
                status=Case(
                    When(status=RunStatus.SENDING, then=Value(RunStatus.SENDING)), default=Value(RunStatus.CLAIMED)
                ),  # fmt: skip
                claim=token,
                lease_until=now + lease(),
                attempts=F("attempts") + 1,
            )
    return token if ids else ""


def fair_pick(limit: int, *, now: datetime.datetime) -> list[int]:
    """Return the ids of up to `limit` due runs, shared fairly between the published campaigns; lock them.

    The throttles (issue 14: one big campaign must not starve the others). Each campaign first gets an
    equal share of the batch, oldest runs first, so a campaign with 10 due runs behind another's backlog
    of a million is served in the very next pass; what a campaign leaves of its share goes, in a second
    round, to those that have more. A campaign with max_steps_per_minute takes no more than what is left
    of its minute (a fixed window counted on the campaign row, locked here so concurrent workers add up).
    In the caller's transaction.
    """
    campaigns = list(Campaign.objects.filter(status=CampaignStatus.PUBLISHED).order_by("id")
                     .values_list("id", "max_steps_per_minute"))  # fmt: skip
    if not campaigns:
        return []
    allowance = _minute_allowances([pk for pk, cap in campaigns if cap is not None], now=now)
    share = max(1, -(-limit // len(campaigns)))
    picked: dict[int, list[int]] = {}
    ready, lapsed = Q(due_at__lte=now), Q(lease_until__lt=now)

    def take(campaign_id: int, count: int, exclude: list[int]) -> list[int]:
        # Runs whose lease lapsed (a worker died) first, then pending ones: one query per status, so each
        # reads the queue index in order and stops at `count` (an OR of the two would sort the whole backlog).
        taken: list[int] = []
        for status, due_now in ((RunStatus.SENDING, lapsed), (RunStatus.CLAIMED, lapsed), (RunStatus.PENDING, ready)):
            if len(taken) >= count:
                break
            rows = (StepRun.objects.filter(due_now, campaign_id=campaign_id, status=status)
                    .exclude(id__in=exclude + taken).order_by("due_at", "id"))  # fmt: skip
            taken += rows.select_for_update(skip_locked=True).values_list("id", flat=True)[: count - len(taken)]
        return taken

    room = limit
    for campaign_id, _ in campaigns:
        want = min(share, room, allowance.get(campaign_id, limit))
        picked[campaign_id] = take(campaign_id, want, []) if want > 0 else []
        room -= len(picked[campaign_id])
    # Second round: the room others left goes to the campaigns that filled their share.
    for campaign_id, _ in campaigns:
        if room <= 0:
            break
        got = picked[campaign_id]
        left = allowance.get(campaign_id, limit) - len(got)
        if len(got) < share or left <= 0:
            continue
        more = take(campaign_id, min(room, left), got)
        got.extend(more)
        room -= len(more)
    used = {pk: len(ids) for pk, ids in picked.items() if pk in allowance and ids}
    for campaign_id, count in used.items():
        Campaign.objects.filter(pk=campaign_id).update(throttle_window_used=F("throttle_window_used") + count)
    return [pk for ids in picked.values() for pk in ids]


def _minute_allowances(campaign_ids: list[int], *, now: datetime.datetime) -> dict[int, int]:
    """Return {campaign id: steps it may still take this minute} for throttled campaigns; open a new window
    for those whose minute is over. Locks their rows (a second worker waits, then sees what this one used)."""
    if not campaign_ids:
        return {}
    minute_ago = now - datetime.timedelta(minutes=1)
    columns = ("id", "max_steps_per_minute", "throttle_window_start", "throttle_window_used")
    rows = list(Campaign.objects.select_for_update().filter(pk__in=campaign_ids).order_by("id").values_list(*columns))
    stale = [pk for pk, _, start, _ in rows if start is None or start <= minute_ago]
    if stale:
        Campaign.objects.filter(pk__in=stale).update(throttle_window_start=now, throttle_window_used=0)
    return {pk: max(0, cap - (0 if pk in stale else used)) for pk, cap, _, used in rows}


def claimed_runs(token: str) -> list[StepRun]:
    return list(StepRun.objects.filter(claim=token, status__in=(RunStatus.CLAIMED, RunStatus.SENDING)).order_by("id"))


def run_due(
    *, principal: Principal, limit: int = BATCH_SIZE, max_batches: int = 50, crash_after: str = ""
) -> RunResult:
    """Claim and run due runs, batch after batch, until none is due (or max_batches); return the counts.

    crash_after (tests only) raises after that phase, as a killed worker would stop.
    """
    total = RunResult()
    for _ in range(max_batches):
        token = claim_due(limit)
        if not token:
            break
        result = run_claimed(token, principal=principal, crash_after=crash_after)
        for name in ("claimed", "done", "skipped", "waiting", "lost"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
        for key, count in result.by_step.items():
            total.by_step[key] = total.by_step.get(key, 0) + count
    return total


class SimulatedCrash(RuntimeError):
    """Raised by the engine where a test asked it to stop, as a killed worker would."""


def run_claimed(token: str, *, principal: Principal, crash_after: str = "") -> RunResult:
    """Run the runs held under claim token, grouped by (campaign, version, step); return the counts."""
    from tidings.campaigns import email_step, goals, webhook_step  # they build on this module

    runs = claimed_runs(token)
    result = RunResult(claimed=len(runs))
    runs = goals.without_goal_reached(runs)
    groups: dict[tuple[int, int, int], list[StepRun]] = defaultdict(list)
    for run in runs:
        groups[(run.campaign_id, run.version, run.step)].append(run)
    for (campaign_id, version, step_id), group in groups.items():
        step = steps_of(campaign_id, version).get(step_id)
        if step is None:  # cannot happen with frozen versions; kept safe
            finish_group(token, group, {r.pk: Outcome(RunStatus.SKIPPED, reason="no_step") for r in group}, result)
            continue
        kind = step["kind"]
        result.by_step[kind] = result.by_step.get(kind, 0) + len(group)
        if kind == graphs.WEBHOOK:
            webhook_step.run_webhook(
                token, campaign_id, step, group, principal=principal, result=result, crash_after=crash_after
            )
            continue
        if kind in graphs.OUTBOUND:
            email_step.run_email(
                token, campaign_id, step, group, principal=principal, result=result, crash_after=crash_after
            )
            continue
        with atomic():
            mine = list(StepRun.objects.select_for_update().filter(pk__in=[r.pk for r in group], claim=token,
                                                                   status=RunStatus.CLAIMED))  # fmt: skip
            result.lost += len(group) - len(mine)
            if not mine:
                continue
            outcomes = _run_step(campaign_id, step, mine, principal=principal)
            if crash_after == "step":
                raise SimulatedCrash("after the step, before its runs were marked done")
            finish(campaign_id, step, mine, outcomes, result)
    return result


# ==============================================================================================
# Steps


def _run_step(campaign_id: int, step: Mapping, runs: list[StepRun], *, principal: Principal) -> dict[int, Outcome]:
    kind = step["kind"]
    if kind == "delay":
        return _delay(step, runs)
    if kind == "decision":
        return _decision(step, runs)
    if kind == "condition":
        return _condition(campaign_id, step, runs)
    return _action(step, runs, principal=principal)


def next_outcome(step: Mapping, **kwargs) -> Outcome:
    return Outcome(next_step=step.get("next"), **kwargs)


def _action(step: Mapping, runs: list[StepRun], *, principal: Principal) -> dict[int, Outcome]:
    kind = step["kind"]
    contact_ids = sorted({r.contact_id for r in runs})
    skipped: dict[int, str] = {}
    if kind in ("add_tags", "remove_tags"):
        tags = list(step["tags"]) if kind == "add_tags" else [f"-{t}" for t in step["tags"]]
        existing = set(existing_contact_ids(contact_ids))
        skipped.update({c: "no_contact" for c in contact_ids if c not in existing})
        for start in range(0, len(contact_ids), BATCH_SIZE * 10):
            contacts_actions.contacts_tag(contact_ids[start : start + BATCH_SIZE * 10], tags, principal=principal)
    elif kind in ("add_to_segment", "remove_from_segment"):
        act = segments_actions.segment_members_add if kind == "add_to_segment" else (
            segments_actions.segment_members_remove
        )  # fmt: skip
        try:
            for start in range(0, len(contact_ids), MANUAL_CHUNK):
                act(int(step["segment_id"]), contact_ids[start : start + MANUAL_CHUNK], principal=principal)
        except ObjectDoesNotExist:
            skipped.update({c: "no_segment" for c in contact_ids})
    elif kind == "change_points":
        for contact_id in contact_ids:
            try:
                contacts_actions.contact_points_change(contact_id, step["operator"], step["delta"],
                                                       principal=principal)  # fmt: skip
            except ObjectDoesNotExist:
                skipped[contact_id] = "no_contact"
            except ValidationError:
                skipped[contact_id] = "out_of_range"
    elif kind == "update_fields":
        for contact_id in contact_ids:
            try:
                contacts_actions.contact_update(contact_id, dict(step["values"]), principal=principal)
            except ObjectDoesNotExist:
                skipped[contact_id] = "no_contact"
            except ValidationError:
                skipped[contact_id] = "invalid_value"
    elif kind == "do_not_contact":
        for contact_id in contact_ids:
            try:
                contacts_actions.dnc_add(contact_id, channel=step.get("channel", "email"), principal=principal)
            except ObjectDoesNotExist:
                skipped[contact_id] = "no_contact"
    elif kind == "exit":
        return {r.pk: Outcome(exit=True) for r in runs}
    elif kind in graphs.MORE_ACTIONS:
        from tidings.campaigns import more_actions  # it builds on this module

        skipped.update(more_actions.run(step, contact_ids, principal=principal))
    out = {}
    for run in runs:
        reason = skipped.get(run.contact_id)
        if reason:
            out[run.pk] = next_outcome(step, status=RunStatus.SKIPPED, reason=reason)
        else:
            out[run.pk] = next_outcome(step)
    return out


def _delay(step: Mapping, runs: list[StepRun]) -> dict[int, Outcome]:
    """Arm each run at its time on its first pass; let it through on the next (or at once when already due)."""
    now = timezone.now()
    out: dict[int, Outcome] = {}
    pending = [r for r in runs if r.outcome != "armed"]
    targets: dict[int, datetime.datetime | None] = {}
    mode = step["mode"]
    if mode == "interval":
        targets = {r.pk: r.waiting_since + datetime.timedelta(seconds=step["seconds"]) for r in pending}
    elif mode == "until":
        moment = datetime.datetime.fromisoformat(step["until"])
        targets = {r.pk: moment for r in pending}
    elif mode == "window":
        # Each contact's own time zone (one query per batch), the step's for those without one; each zone once.
        zones = conditions.zones_of({r.contact_id for r in pending}, step)
        moments = {zone: conditions.next_in_window(now, step, zone=zone) for zone in set(zones.values())}
        targets = {r.pk: moments[zones[r.contact_id]] for r in pending}
    elif mode == "field":
        views = contacts_selectors.contacts_get(sorted({r.contact_id for r in pending}))
        for run in pending:
            view = views.get(run.contact_id)
            targets[run.pk] = conditions.field_time(view.get(step["field"]) if view else None, step, now)
    for run in runs:
        target = targets.get(run.pk) if run.pk in targets else None
        if run.pk in targets and target is None:
            out[run.pk] = next_outcome(step, status=RunStatus.SKIPPED, reason="no_date")
        elif target is not None and target > now:
            out[run.pk] = Outcome(wait_until=target, waiting="armed")
        else:
            out[run.pk] = next_outcome(step)
    return out


def _decision_events(step: Mapping):
    data: dict[str, Any] = {}
    if step.get("email_id") is not None:
        data["email_id"] = int(step["email_id"])
    if step.get("form_id") is not None:
        data["form_id"] = int(step["form_id"])
    if step.get("asset_id") is not None:
        data["asset_id"] = int(step["asset_id"])
    if step.get("url_contains"):
        data["url__contains"] = step["url_contains"]
    return code_for(DECISION_EVENTS[step["event"]]), data


def _decision(step: Mapping, runs: list[StepRun]) -> dict[int, Outcome]:
    """Yes for each contact with the event since it reached the step; no once its window closed; else wait."""
    now = timezone.now()
    code, data = _decision_events(step)
    since = min(r.waiting_since for r in runs)
    events = event_selectors.events_matching(code, since=since, data=data or None,
                                             contact_ids=sorted({r.contact_id for r in runs}))  # fmt: skip
    latest: dict[int, datetime.datetime] = {}
    for who, at in events.values_list("who", "at"):
        if who is not None:
            latest[who] = max(at, latest.get(who, at))
    window = datetime.timedelta(seconds=int(step["window_seconds"]))
    out: dict[int, Outcome] = {}
    for run in runs:
        if run.contact_id in latest and latest[run.contact_id] >= run.waiting_since:
            out[run.pk] = Outcome(path="yes", next_step=step.get("yes"))
        elif now >= run.waiting_since + window:
            out[run.pk] = Outcome(path="no", next_step=step.get("no"))
        else:
            out[run.pk] = Outcome(wait_until=min(run.waiting_since + window, now + RECHECK), waiting="waiting")
    return out


def _condition(campaign_id: int, step: Mapping, runs: list[StepRun]) -> dict[int, Outcome]:
    ids = sorted({r.contact_id for r in runs})
    test = step["test"]
    passed: set[int]
    if test == "segment":
        passed = set(segments_selectors.segment_member_ids(int(step["segment_id"])).filter(contact_id__in=ids))
    elif test == "consent":
        try:
            passed = consent_selectors.contacts_allowed(ids, step["purpose"], use=f"campaign:{campaign_id}")
        except ObjectDoesNotExist:  # a purpose the workspace does not have allows nobody
            passed = set()
    elif test in ("points", "device", "time"):
        passed = conditions.conditions_passed(step, ids)
    else:
        views = contacts_selectors.contacts_get(ids)
        if test == "tag":
            passed = {c for c, v in views.items() if step["tag"] in v.tags}
        else:
            passed = {c for c, v in views.items() if conditions.field_matches(v.get(step["field"]), step)}
    return {r.pk: Outcome(path="yes" if r.contact_id in passed else "no",
                          next_step=step.get("yes") if r.contact_id in passed else step.get("no"))
            for r in runs}  # fmt: skip


def finish_group(token, runs, outcomes, result, *, step=None, campaign_id=None, expect=RunStatus.CLAIMED) -> None:
    with atomic():
        mine = list(StepRun.objects.select_for_update().filter(pk__in=[r.pk for r in runs], claim=token,
                                                               status=expect))  # fmt: skip
        result.lost += len(runs) - len(mine)
        if mine:
            finish(campaign_id if campaign_id is not None else mine[0].campaign_id, step or {}, mine, outcomes, result)


# ==============================================================================================
# Finishing


def finish(campaign_id: int, step: Mapping, runs: Sequence[StepRun], outcomes: Mapping[int, Outcome],
            result: RunResult) -> None:  # fmt: skip
    """Record each run's outcome, schedule its successor, close finished walks; in the caller's transaction."""
    now = timezone.now()
    workspace_id = require_workspace().id
    rearm: list[tuple] = []
    closed: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    successors: list[tuple] = []
    finished: list[int] = []
    exited: list[int] = []
    events: list[EventRow] = []
    for run in runs:
        outcome = outcomes[run.pk]
        if outcome.wait_until is not None:
            rearm.append((RunStatus.PENDING, outcome.wait_until, outcome.waiting, "", None, run.pk))
            result.waiting += 1
            continue
        closed[(outcome.status, outcome.path, outcome.reason)].append(run.pk)
        data = {"campaign_id": campaign_id, "step_id": run.step}
        if outcome.status == RunStatus.SKIPPED:
            result.skipped += 1
            events.append(EventRow(type=CAMPAIGN_STEP_SKIPPED, contact_id=run.contact_id, at=now,
                                   data={**data, "reason": outcome.reason}))  # fmt: skip
        else:
            result.done += 1
            events.append(EventRow(type=CAMPAIGN_STEP, contact_id=run.contact_id, data=data, at=now))
        if outcome.path:
            events.append(EventRow(type=CAMPAIGN_DECIDED, contact_id=run.contact_id, at=now,
                                   data={**data, "path": outcome.path}))  # fmt: skip
        if outcome.exit:
            exited.append(run.enrolment_id)
        elif outcome.next_step is not None:
            successors.append((workspace_id, run.campaign_id, run.version, run.enrolment_id, run.contact_id,
                               int(outcome.next_step), run.entry, run.seq + 1, RunStatus.PENDING, now, now, 0, "",
                               "", ""))  # fmt: skip
        else:
            finished.append(run.enrolment_id)
    if rearm:
        bulk.update(StepRun, ["status", "due_at", "outcome", "claim", "lease_until"], rearm)
    for (status, path, reason), ids in closed.items():
        StepRun.objects.filter(pk__in=ids).update(status=status, outcome=path, reason=reason, done_at=now, claim="",
                                                  lease_until=None)  # fmt: skip
    if successors:
        bulk.insert(StepRun, ["workspace_id", "campaign_id", "version", "enrolment_id", "contact_id", "step", "entry",
                              "seq", "status", "due_at", "waiting_since", "attempts", "claim", "outcome", "reason"],
                    successors)  # fmt: skip
    for start in range(0, len(finished), BATCH_SIZE):
        Enrolment.objects.filter(pk__in=finished[start : start + BATCH_SIZE], status=EnrolmentStatus.ACTIVE).update(
            status=EnrolmentStatus.FINISHED, left_at=now
        )
    if exited:
        exit_enrolments(Enrolment.objects.filter(pk__in=exited), reason="exit_step", now=now)
    if events:
        store.write(events)


# ==============================================================================================
# Waking decisions


def nudge_decisions(*, lookback: datetime.timedelta = RECHECK, now: datetime.datetime | None = None) -> int:
    """Make waiting decisions of contacts with a fresh behaviour event due now; return how many were woken.

    One UPDATE: a contact who clicked is on its "yes" path within seconds, not at the next recheck.
    """
    now = now or timezone.now()
    codes = [code_for(name) for name in DECISION_EVENTS.values()]
    active = event_selectors.contact_ids_with_event(codes, since=now - lookback)
    return StepRun.objects.filter(status=RunStatus.PENDING, outcome="waiting", due_at__gt=now,
                                  contact_id__in=active).update(due_at=now)  # fmt: skip


def published_campaigns() -> list[Campaign]:
    return list(Campaign.objects.filter(status=CampaignStatus.PUBLISHED).order_by("id"))


def sources_of(campaigns: Iterable[Campaign]) -> dict[int, dict]:
    versions = CampaignVersion.objects.filter(
        Q(*[Q(campaign_id=c.pk, number=c.version) for c in campaigns], _connector=Q.OR)
    )
    return {v.campaign_id: v.graph for v in versions}
