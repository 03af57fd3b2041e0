"""Goals of the campaign engine: reaching any of a campaign's goals ends the contact's enrolment (exit reason
"goal") wherever it waits.

    goals_reached(goals, entered)     which contacts reached a goal since they entered (one query per goal)
    exit_on_goals(campaign, goals)    exit those who did
    without_goal_reached(runs)        checked at each step by engine.run_claimed
    reach_goals()                     woken by goal-related events (campaigns_run), so a goal ends a walk in seconds
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from django.utils import timezone

from tidings.campaigns import engine
from tidings.campaigns.models import Enrolment, EnrolmentStatus, StepRun
from tidings.contacts import selectors as contacts_selectors
from tidings.events import selectors as event_selectors
from tidings.events.registry import code_for

GOAL_EVENTS = {"submitted_form": "form.submitted", "clicked_email": "email.clicked"}
# Events after which a goal may have been reached (the listener wakes the campaigns on them too).
GOAL_WAKING = ("form.submitted", "email.clicked", "points.changed", "contact.tag_added")


def goals_reached(goals: Sequence[Mapping], entered: Mapping[int, datetime.datetime]) -> set[int]:
    """Return which contacts of entered ({contact id: entered at}) reached any goal since they entered.

    One query per goal for the whole set: events since the earliest entry (then compared per contact),
    points and tags through the contacts' filters.
    """
    ids = sorted(entered)
    if not goals or not ids:
        return set()
    reached: set[int] = set()
    for goal in goals:
        kind = goal.get("kind")
        if kind in GOAL_EVENTS:
            key = "form_id" if kind == "submitted_form" else "email_id"
            data = {key: int(goal[key])} if goal.get(key) is not None else None
            events = event_selectors.events_matching(code_for(GOAL_EVENTS[kind]), since=min(entered.values()),
                                                     data=data, contact_ids=ids)  # fmt: skip
            reached |= {who for who, at in events.values_list("who", "at") if who in entered and at >= entered[who]}
        elif kind == "points_at_least":
            reached |= set(contacts_selectors.contact_ids(filters={"ids": ids, "points__gte": int(goal["points"])}))
        elif kind == "has_tag":
            reached |= set(contacts_selectors.contact_ids(filters={"ids": ids, "tag": goal["tag"]}))
    return reached


def exit_on_goals(campaign_id: int, goals: Sequence[Mapping], contact_ids: Iterable[int] | None = None,
                  *, now: datetime.datetime | None = None) -> set[int]:  # fmt: skip
    """Exit the campaign's active enrolments (of contact_ids, or all) whose contact reached a goal; return them."""
    active = Enrolment.objects.filter(campaign_id=campaign_id, status=EnrolmentStatus.ACTIVE)
    if contact_ids is not None:
        active = active.filter(contact_id__in=sorted(set(contact_ids)))
    entered = dict(active.values_list("contact_id", "entered_at")[: engine.BATCH_SIZE * 10])
    reached = goals_reached(goals, entered)
    if reached:
        engine.exit_enrolments(active.filter(contact_id__in=sorted(reached)), reason="goal", now=now)
    return reached


def without_goal_reached(runs: list[StepRun]) -> list[StepRun]:
    """Exit the contacts of claimed runs who reached a goal of their campaign; return the runs still to run.

    Checked at each step so a goal reached without an event that woke the campaign still ends the walk.
    """
    by_version: dict[tuple[int, int], list[StepRun]] = defaultdict(list)
    for run in runs:
        by_version[(run.campaign_id, run.version)].append(run)
    gone: set[tuple[int, int]] = set()
    for (campaign_id, version), group in by_version.items():
        goals = engine.graph_of(campaign_id, version).get("goals") or []
        if not goals:
            continue
        with engine.atomic():
            reached = exit_on_goals(campaign_id, goals, [r.contact_id for r in group])
        gone |= {(campaign_id, c) for c in reached}
    return [r for r in runs if (r.campaign_id, r.contact_id) not in gone] if gone else runs


def reach_goals(*, lookback: datetime.timedelta = engine.RECHECK, now: datetime.datetime | None = None) -> int:
    """Exit contacts with a fresh goal-related event who reached a goal of a campaign they are in; return how many.

    Wherever they wait (a delay of weeks, a decision's window): the events that wake campaigns call this
    through campaigns_run, so a goal ends the walk within seconds.
    """
    now = now or timezone.now()
    campaigns = engine.published_campaigns()
    graphs_by_id = engine.sources_of(campaigns) if campaigns else {}
    with_goals = {k: g["goals"] for k, g in graphs_by_id.items() if g.get("goals")}
    if not with_goals:
        return 0
    fresh = event_selectors.contact_ids_with_event([code_for(n) for n in GOAL_WAKING], since=now - lookback)
    total = 0
    for campaign_id, goals in with_goals.items():
        candidates = Enrolment.objects.filter(campaign_id=campaign_id, status=EnrolmentStatus.ACTIVE,
                                              contact_id__in=fresh).values_list("contact_id", flat=True)  # fmt: skip
        ids = list(candidates[: engine.BATCH_SIZE * 10])
        if ids:
            total += len(exit_on_goals(campaign_id, goals, ids, now=now))
    return total
