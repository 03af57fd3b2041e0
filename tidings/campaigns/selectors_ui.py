"""Reads for the campaign pages: the list's counts, the builder's tree and choices, a contact's journey.

Counts come from grouped queries (one per page), never from walking rows one by one. Everything reads the
workspace in context through the backend's selectors and the other apps' selectors.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q

from tidings.campaigns import graph as graphs
from tidings.campaigns import selectors
from tidings.campaigns.models import Campaign, CampaignVersion, Enrolment, RunStatus, StepRun

LIST_LIMIT = 500
WAITING = (RunStatus.PENDING, RunStatus.CLAIMED, RunStatus.SENDING)

KIND_LABELS = {
    "send_email": "Send an email",
    "add_tags": "Add tags",
    "remove_tags": "Remove tags",
    "add_to_segment": "Add to a segment",
    "remove_from_segment": "Remove from a segment",
    "change_points": "Change points",
    "update_fields": "Update a field",
    "do_not_contact": "Do not contact",
    "exit": "Leave the campaign",
    "decision": "Decision on behaviour",
    "condition": "Condition on data",
    "delay": "Wait",
    "change_stage": "Change stage",
    "set_owner": "Set the owner",
    "notify_user": "Notify a member",
    "enter_campaign": "Enter another campaign",
    "call_webhook": "Call a webhook",
}
EVENT_LABELS = {"opened_email": "opened an email", "clicked_email": "clicked in an email",
                "submitted_form": "submitted a form", "visited_page": "visited a page",
                "downloaded_asset": "downloaded an asset", "unsubscribed": "unsubscribed from email",
                "replied_email": "replied to an email"}  # fmt: skip
POINTS_LABELS = {"gte": "at least", "lte": "at most", "equals": "exactly", "between": "between"}
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
REASON_LABELS = {"no_consent": "no consent", "dnc_unsubscribed": "unsubscribed", "suppressed": "suppressed",
                 "not_member": "not a member any more", "campaign_unpublished": "campaign not published",
                 "no_stage": "stage deleted",
                 "entry_rule": "kept out by its entry rules", "not_allowed": "not allowed (consent or register)",
                 "webhook_5xx": "webhook answered with an error", "webhook_timeout": "webhook timed out",
                 "webhook_4xx": "webhook refused", "webhook_redirect": "webhook redirected (not followed)",
                 "webhook_private_address": "webhook address not on the internet"}  # fmt: skip


def campaign_rows(*, search: str = "") -> list[dict]:
    """Return the list's rows: each campaign with its contacts in it now and entered in total (one grouped query)."""
    campaigns = list(selectors.campaigns(search=search)[:LIST_LIMIT])
    counts = selectors.enrolment_counts([c.pk for c in campaigns])
    rows = []
    for campaign in campaigns:
        by_status = counts.get(campaign.pk, {})
        sources = (campaign.graph or {}).get("sources", [])
        rows.append({"campaign": campaign, "active": by_status.get("active", 0), "entered": sum(by_status.values()),
                     "sources": ", ".join(sorted({s.get("kind", "") for s in sources})) or "none"})  # fmt: skip
    return rows


def choices() -> dict[str, list[tuple[str, str]]]:
    """Return the workspace's own lists the step forms pick from: emails, segments, forms, tags, fields, purposes."""
    from tidings.consent import selectors as consent_selectors
    from tidings.contacts import selectors as contacts_selectors
    from tidings.contacts import selectors_fields as contacts_fields
    from tidings.emails import selectors_sending as emails_selectors
    from tidings.forms import selectors as forms_selectors
    from tidings.segments import selectors as segments_selectors

    return {
        "emails": emails_selectors.template_email_choices(),
        "segments": [
            (str(pk), name) for pk, name in segments_selectors.segments_list().values_list("pk", "name")[:500]
        ],
        "forms": [
            (str(pk), name) for pk, name in forms_selectors.forms().order_by("name").values_list("pk", "name")[:500]
        ],
        "tags": [(t.name, t.name) for t in contacts_selectors.tags(limit=500)],
        "fields": sorted((alias, f.label or alias) for alias, f in contacts_fields.fields_by_alias().items()),
        "purposes": [(p.key, p.name) for p in consent_selectors.purposes() if p.active],
        "assets": _asset_choices(),
        **more_choices(),
    }


def _asset_choices() -> list[tuple[str, str]]:
    """Return the workspace's assets (id, title) a download decision may wait for."""
    from tidings.assets import selectors as assets_selectors

    return [(str(pk), title) for pk, title in assets_selectors.assets().values_list("pk", "title")[:500]]


def more_choices() -> dict[str, list[tuple[str, str]]]:
    """The lists the newer steps pick from: the workspace's members (owner, notice), campaigns and stages."""
    from tidings.accounts.selectors import members_of
    from tidings.contacts import selectors_stages
    from tidings.tenancy.context import require_workspace
    from tidings.tenancy.selectors import workspace_by_id

    workspace = workspace_by_id(require_workspace().id)
    members = [(str(m.user_id), m.user.get_full_name() or m.user.email) for m in members_of(workspace)[:500]]
    campaigns = [(str(pk), name) for pk, name in selectors.campaigns().values_list("pk", "name")[:500]]
    from tidings.privacy_centre import selectors as privacy_selectors

    registered = privacy_selectors.recipients().filter(active=True).order_by("name").values_list("pk", "name")
    stages = [(str(s.id), s.name if s.is_published else f"{s.name} (unpublished)")
              for s in selectors_stages.stages()[:500]]  # fmt: skip
    return {
        "members": members,
        "campaigns": campaigns,
        "stages": stages,
        "recipients": [(str(pk), n) for pk, n in registered[:500]],
    }


@dataclass
class Node:
    """A step in the builder's tree: its step, the edge it hangs on, its counts and errors, its children."""

    step: dict
    edge: str
    summary: str
    counts: dict[str, int]
    reasons: list[tuple[str, int]]
    errors: list[str]
    children: list[Node] = field(default_factory=list)
    repeated: bool = False  # reached again (a loop back): shown as a link, not walked twice


def _name(pairs: list[tuple[str, str]], ident: Any) -> str:
    for key, label in pairs:
        if key == str(ident):
            return label
    return f"#{ident} (missing)"


def summary(step: Mapping, names: Mapping[str, list[tuple[str, str]]]) -> str:
    """Return a one-line, value-free description of a step's settings."""
    kind = step["kind"]
    if kind == "send_email":
        return f"Send “{_name(names['emails'], step.get('email_id'))}”"
    if kind in ("add_tags", "remove_tags"):
        return f"{KIND_LABELS[kind]}: {', '.join(step.get('tags', []))}"
    if kind in ("add_to_segment", "remove_from_segment"):
        return f"{KIND_LABELS[kind]}: {_name(names['segments'], step.get('segment_id'))}"
    if kind == "change_points":
        return f"Points {step.get('operator')} {step.get('delta')}"
    if kind == "update_fields":
        return "Update " + ", ".join(sorted(step.get("values", {})))
    if kind == "do_not_contact":
        return f"Do not contact by {step.get('channel')}"
    if kind == "decision":
        what = EVENT_LABELS.get(step.get("event", ""), step.get("event", ""))
        if step.get("email_id"):
            what += f" “{_name(names['emails'], step['email_id'])}”"
        if step.get("form_id"):
            what += f" “{_name(names['forms'], step['form_id'])}”"
        if step.get("asset_id"):
            what += f" “{_name(names.get('assets', []), step['asset_id'])}”"
        return f"Has the contact {what} within {duration(step.get('window_seconds') or 0)}?"
    if kind == "condition":
        test = step.get("test")
        if test == "field":
            return f"Is field {step.get('field')} {step.get('operator')} {step.get('value', '')}?".replace(" ?", "?")
        if test == "tag":
            return f"Has the tag {step.get('tag')}?"
        if test == "segment":
            return f"Is in segment {_name(names['segments'], step.get('segment_id'))}?"
        if test in ("points", "device", "time"):
            return _condition_summary(step)
        return f"Has consent to {step.get('purpose')}?"
    if kind in graphs.MORE_ACTIONS:
        return _more_summary(step, names)
    if kind == graphs.WEBHOOK:
        host = urllib.parse.urlsplit(str(step.get("url") or "")).hostname or "?"
        recipient = _name(names.get("recipients", []), step.get("recipient_id"))
        return f"Call a webhook at {host} ({recipient}): {', '.join(step.get('fields', []))}"
    if kind == "delay":
        mode = step.get("mode")
        if mode == "interval":
            return f"Wait {duration(step.get('seconds') or 0)}"
        if mode == "until":
            return f"Wait until {step.get('until')}"
        if mode == "field":
            return f"Wait until field {step.get('field')} {step.get('offset_days', 0):+d} days at {step.get('hour')}:00"
        return f"Wait for {_hours_and_days(step)}"
    return KIND_LABELS.get(kind, kind)


def _hours_and_days(step: Mapping) -> str:
    days = ", ".join(DAYS[d] for d in step.get("weekdays", []) if 0 <= d < 7)
    return (f"{step.get('start_hour')}:00–{step.get('end_hour')}:00 on {days}, in the contact's time zone "
            f"(else {step.get('timezone')})")  # fmt: skip


def _condition_summary(step: Mapping) -> str:
    """Describe a condition on points, device or local time."""
    test = step.get("test")
    if test == "points":
        bound = f"{step.get('value')} and {step.get('value_to')}" if step.get("operator") == "between" else (
            f"{step.get('value')}")  # fmt: skip
        return f"Has {POINTS_LABELS.get(step.get('operator', ''), '')} {bound} points?"
    if test == "device":
        seen = " on ".join(str(v) for v in (step.get("device"), step.get("os")) if v)
        return f"Was last seen on {seen}?"
    return f"Is it {_hours_and_days(step)}?"


def _more_summary(step: Mapping, names: Mapping[str, list[tuple[str, str]]]) -> str:
    kind = step["kind"]
    if kind == "change_stage":
        return f"Move to the stage “{_name(names.get('stages', []), step.get('stage_id'))}”"
    if kind == "set_owner":
        return f"Owner: {_name(names.get('members', []), step.get('user_id'))}"
    if kind == "notify_user":
        return f"Notify {_name(names.get('members', []), step.get('user_id'))}"
    return f"Enter the campaign “{_name(names.get('campaigns', []), step.get('campaign_id'))}”"


def goal_summary(goal: Mapping, names: Mapping[str, list[tuple[str, str]]]) -> str:
    """Return a one-line description of a goal."""
    kind = goal.get("kind")
    if kind == "submitted_form":
        which = _name(names.get("forms", []), goal["form_id"]) if goal.get("form_id") else "any form"
        return f"Submitted {which}"
    if kind == "clicked_email":
        which = _name(names.get("emails", []), goal["email_id"]) if goal.get("email_id") else "any email"
        return f"Clicked in {which}"
    if kind == "points_at_least":
        return f"Has at least {goal.get('points')} points"
    return f"Has the tag {goal.get('tag')}"


def duration(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return f"{seconds} seconds"


def step_reasons(campaign_id: int) -> dict[int, list[tuple[str, int]]]:
    """Return {step id: [(skip reason, count)]} of a campaign's skipped runs, from one grouped query."""
    out: dict[int, list[tuple[str, int]]] = {}
    rows = (StepRun.objects.filter(campaign_id=campaign_id, status=RunStatus.SKIPPED).order_by()
            .values("step", "reason").annotate(n=Count("id")).order_by("step", "-n"))  # fmt: skip
    for row in rows:
        out.setdefault(row["step"], []).append(
            (REASON_LABELS.get(row["reason"], row["reason"] or "no reason"), row["n"])
        )
    return out


def tree(
    graph: Mapping,
    *,
    counts: Mapping[int, Mapping[str, int]],
    reasons: Mapping[int, list],
    errors: Mapping[int, list[str]],
    names: Mapping[str, list[tuple[str, str]]],
) -> tuple[list[Node], list[Node]]:
    """Return (the tree from the start step, the steps not reachable from it), each node with its counts and errors."""
    steps = graphs.step_map(graph)
    seen: set[int] = set()

    def node(step_id: int, edge: str) -> Node:
        step = steps[step_id]
        raw = counts.get(step_id, {})
        shown = {"waiting": sum(raw.get(s, 0) for s in WAITING), "done": raw.get(RunStatus.DONE, 0),
                 "skipped": raw.get(RunStatus.SKIPPED, 0)}  # fmt: skip
        made = Node(step=step, edge=edge, summary=summary(step, names), counts=shown,
                    reasons=list(reasons.get(step_id, [])), errors=list(errors.get(step_id, [])))  # fmt: skip
        if step_id in seen:
            made.repeated = True
            return made
        seen.add(step_id)
        for name, target in graphs.successors(step):
            if target in steps:
                made.children.append(node(target, name))
        return made

    roots = [node(graph["start"], "start")] if graph.get("start") in steps else []
    loose = []
    for step_id in steps:
        if step_id not in seen:
            loose.append(node(step_id, "none"))
    return roots, loose


def removed_steps_waiting(campaign: Campaign) -> list[dict]:
    """Return the steps of published versions no longer in the draft at which contacts wait, with how many.

    Publishing can move them (actions.campaign_publish's moves); otherwise they finish on their version.
    """
    if not campaign.version:
        return []
    draft_ids = set(graphs.step_map(campaign.graph or {}))
    waiting = StepRun.objects.filter(campaign_id=campaign.pk, status__in=(RunStatus.PENDING, RunStatus.CLAIMED))
    rows = waiting.exclude(step__in=draft_ids).order_by().values("step").annotate(n=Count("id")).order_by("step")
    versions = {v.number: v.graph for v in CampaignVersion.objects.filter(campaign_id=campaign.pk)}
    latest = versions.get(campaign.version, {})
    out = []
    for row in rows:
        step = graphs.step_map(latest).get(row["step"]) or next(
            (graphs.step_map(g)[row["step"]] for g in versions.values() if row["step"] in graphs.step_map(g)), None
        )
        label = KIND_LABELS.get(step["kind"], step["kind"]) if step else "a step"
        out.append({"step": row["step"], "label": label, "waiting": row["n"]})
    return out


def campaign_contacts(campaign_id: int, *, limit: int = 200) -> list[Enrolment]:
    """Return the latest enrolments of a campaign (the contacts list of the campaign page)."""
    return list(Enrolment.objects.filter(campaign_id=campaign_id).order_by("-entered_at", "-id")[:limit])


def enrolment_of(campaign_id: int, contact_id: int) -> Enrolment:
    """Return a contact's enrolment in a campaign of this workspace; raise Enrolment.DoesNotExist otherwise."""
    return Enrolment.objects.get(campaign_id=campaign_id, contact_id=contact_id)


def journey_rows(campaign: Campaign, contact_id: int) -> list[dict]:
    """Return a contact's steps in a campaign in walking order: the step's description, status, times, reason."""
    from tidings.campaigns.selectors import journey

    runs = journey(campaign.pk, contact_id)
    versions = {v.number: graphs.step_map(v.graph) for v in CampaignVersion.objects.filter(campaign_id=campaign.pk)}
    names = choices()
    rows = []
    for run in runs:
        step = versions.get(run.version, {}).get(run.step)
        rows.append({"run": run, "summary": summary(step, names) if step else f"step {run.step}",
                     "reason": REASON_LABELS.get(run.reason, run.reason)})  # fmt: skip
    return rows


def contact_campaigns(contact_id: int) -> list[tuple[Enrolment, str]]:
    """Return (enrolment, campaign name) of the campaigns a contact is or was in, newest first."""
    enrolments = selectors.contact_enrolments(contact_id)
    names = dict(Campaign.objects.filter(pk__in=[e.campaign_id for e in enrolments]).values_list("pk", "name"))
    return [(e, names.get(e.campaign_id, "")) for e in enrolments if e.campaign_id in names]


def has_waiting(campaign_id: int) -> bool:
    return StepRun.objects.filter(Q(campaign_id=campaign_id) & Q(status__in=WAITING)).exists()


def graph_problems(graph: Any, campaign_id: int | None = None) -> dict[str, list[str]]:
    """Return graph.check's errors of a draft in this workspace ({"graph.steps.2.email_id": [...]}), {} when valid.

    The same check the actions run on save, read-only: a draft saved valid can still name an email or a
    segment deleted since, which the builder shows at its step.
    """
    from django.core.exceptions import ValidationError

    from tidings.emails import selectors_sending as emails_selectors
    from tidings.forms import selectors as forms_selectors
    from tidings.segments import selectors as segments_selectors

    def forms(ids) -> set[int]:
        return set(forms_selectors.forms().filter(pk__in=list(ids)).values_list("id", flat=True))

    def segments(ids) -> set[int]:
        return set(segments_selectors.segment_names(set(ids)))

    def assets(ids) -> set[int]:
        from tidings.assets import selectors as assets_selectors

        return set(assets_selectors.assets().filter(pk__in=list(ids)).values_list("id", flat=True))

    try:
        graphs.check(graph, emails=emails_selectors.template_email_ids, segments=segments, forms=forms,
                     assets=assets, **selectors.more_reference_checks(campaign_id))  # fmt: skip
    except ValidationError as error:
        return {f"graph.{key}": messages for key, messages in error.message_dict.items()}
    return {}
