"""Every write of campaigns: create, change, publish, unpublish and delete them, add and remove contacts, run them.

Each action takes the principal that acts and checks campaigns:edit (the engine's run too: tasks act as the
system), runs in one transaction on the workspace's region database and writes an audit entry holding ids
and counts only. A campaign's states:

    draft --publish--> published --unpublish--> unpublished --publish--> published

Publishing freezes the draft graph as a new version when it changed; contacts already walking keep their
version, unless `moves` sends the runs waiting at a step of an older version to a step of the new one.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tidings.accounts.permissions import Principal, require
from tidings.audit.actions import audit_record
from tidings.campaigns import engine, goals
from tidings.campaigns import graph as graphs
from tidings.campaigns import selectors as campaign_selectors
from tidings.campaigns.models import (
    Campaign,
    CampaignStatus,
    CampaignVersion,
    Enrolment,
    EnrolmentStatus,
    RunStatus,
    StepRun,
)
from tidings.emails import selectors_sending as emails_selectors
from tidings.forms import selectors as forms_selectors
from tidings.segments import selectors as segments_selectors
from tidings.tenancy.context import require_workspace

EDIT = "campaigns:edit"
MAX_NAME = 191
MAX_DESCRIPTION = 2000
MAX_CONTACTS = 10_000  # contacts added or removed by hand in one call
MAX_STEPS_PER_MINUTE = 1_000_000


def _atomic():
    return transaction.atomic(using=require_workspace().db_alias)


def _require(principal: Principal, permission: str = EDIT) -> Principal:
    return require(principal, permission, workspace_id=require_workspace().id)


def _audit(action: str, *, principal, request=None, campaign_id: object = "", **data) -> None:
    audit_record(action, principal=principal, request=request, target_type="campaign", target_id=campaign_id,
                 data=data)  # fmt: skip


def _asset_ids(ids: Iterable[int]) -> set[int]:
    """Return which of ids are assets of the workspace in context (a decision may wait for a download)."""
    from tidings.assets import selectors as assets_selectors

    return set(assets_selectors.assets().filter(pk__in=list(ids)).values_list("id", flat=True))


def _check_graph(raw: Any, campaign_id: int | None = None) -> dict:
    """Return raw as a clean graph of this workspace; raise ValidationError keyed by path ("graph.steps.2.kind")."""

    def forms(ids: Iterable[int]) -> set[int]:
        return set(forms_selectors.forms().filter(pk__in=list(ids)).values_list("id", flat=True))

    def segments(ids: Iterable[int]) -> set[int]:
        return set(segments_selectors.segment_names(set(ids)))

    try:
        return graphs.check(raw, emails=emails_selectors.template_email_ids, segments=segments, forms=forms,
                            assets=_asset_ids, **campaign_selectors.more_reference_checks(campaign_id))  # fmt: skip
    except ValidationError as error:
        raise ValidationError({f"graph.{key}": messages for key, messages in error.message_dict.items()}) from error


def _checked(values: Mapping[str, Any], campaign_id: int | None = None) -> dict:
    out: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if "name" in values:
        name = values["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            errors["name"] = [f"a name of 1 to {MAX_NAME} characters"]
        else:
            out["name"] = " ".join(name.split())
    if "description" in values:
        text = values["description"] if values["description"] is not None else ""
        if not isinstance(text, str) or len(text) > MAX_DESCRIPTION:
            errors["description"] = [f"a text of at most {MAX_DESCRIPTION} characters"]
        else:
            out["description"] = text
    if "max_steps_per_minute" in values:
        limit = values["max_steps_per_minute"]
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or not 1 <= limit <= MAX_STEPS_PER_MINUTE):  # fmt: skip
            errors["max_steps_per_minute"] = [f"empty (no limit) or a whole number from 1 to {MAX_STEPS_PER_MINUTE}"]
        else:
            out["max_steps_per_minute"] = limit
    if "graph" in values:
        try:
            out["graph"] = _check_graph(values["graph"] if values["graph"] is not None else {}, campaign_id)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return out


def campaign_create(*, principal: Principal, name: str, description: str = "", graph: Any = None,
                    max_steps_per_minute: int | None = None, request=None) -> Campaign:  # fmt: skip
    """Create a draft campaign; return it. Needs campaigns:edit. Raise ValidationError keyed by field.

    max_steps_per_minute: a throttle on how fast its steps run (None: only the fair share of each pass).
    """
    _require(principal)
    values = _checked({"name": name, "description": description, "graph": graph,
                       "max_steps_per_minute": max_steps_per_minute})  # fmt: skip
    with _atomic():
        campaign = Campaign.objects.create(created_by=getattr(principal.user, "pk", None), **values)
        _audit("campaign.created", principal=principal, request=request, campaign_id=campaign.pk,
               steps=len(values["graph"]["steps"]))  # fmt: skip
    return campaign


def campaign_update(campaign_id: int, *, principal: Principal, request=None, **changes: Any) -> Campaign:
    """Change a campaign's name, description, throttle or draft graph; return it. Needs campaigns:edit.

    A published campaign's contacts are not affected until it is published again. Raise
    Campaign.DoesNotExist, ValidationError keyed by field (an unknown field too).
    """
    _require(principal)
    unknown = set(changes) - {"name", "description", "graph", "max_steps_per_minute"}
    if unknown:
        raise ValidationError({name: ["not a field of a campaign"] for name in sorted(unknown)})
    values = _checked(changes, campaign_id)
    with _atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        for name, value in values.items():
            setattr(campaign, name, value)
        campaign.updated_at = timezone.now()
        campaign.save()
        _audit("campaign.updated", principal=principal, request=request, campaign_id=campaign.pk,
               fields=sorted(values))  # fmt: skip
    return campaign


def campaign_delete(campaign_id: int, *, principal: Principal, request=None) -> None:
    """Delete a campaign with its versions, enrolments and runs (the events stay). Needs campaigns:edit."""
    _require(principal)
    with _atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        StepRun.objects.filter(campaign_id=campaign.pk).delete()
        Enrolment.objects.filter(campaign_id=campaign.pk).delete()
        CampaignVersion.objects.filter(campaign_id=campaign.pk).delete()
        campaign.delete()
        _audit("campaign.deleted", principal=principal, request=request, campaign_id=campaign_id)


def _wake_on_commit() -> None:
    from tidings.campaigns.tasks import wake

    workspace_id = require_workspace().id
    transaction.on_commit(lambda: wake(workspace_id), using=require_workspace().db_alias)


def campaign_publish(campaign_id: int, *, principal: Principal, moves: Mapping[Any, Any] | None = None,
                     request=None) -> Campaign:  # fmt: skip
    """Publish the draft: freeze it as a new version when it changed; new entrants start on it. Needs campaigns:edit.

    moves: {step id of an older version: step id of the new one}: the contacts waiting at such a step
    (of any older version) continue at the new step of the new version; the others keep their version.
    Raise Campaign.DoesNotExist, ValidationError when the graph is not valid, has no step or source,
    or a move names a step the new version does not have.
    """
    _require(principal)
    with _atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        graph = _check_graph(campaign.graph, campaign.pk)
        if not graph["steps"]:
            raise ValidationError({"graph.steps": ["add at least one step before publishing"]})
        if not graph["sources"]:
            raise ValidationError({"graph.sources": ["add at least one source (segment, form, manual or API)"]})
        checked_moves = _checked_moves(moves, graph)
        latest = CampaignVersion.objects.filter(campaign_id=campaign.pk).order_by("-number").first()
        if latest is None or latest.graph != graph:
            number = (latest.number if latest else 0) + 1
            CampaignVersion.objects.create(campaign_id=campaign.pk, number=number, graph=graph)
        else:
            number = latest.number
        now = timezone.now()
        first = campaign.published_at is None
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.PUBLISHED, version=number,
                                                       published_at=campaign.published_at or now,
                                                       entry_watermark=None,
                                                       updated_at=now)  # fmt: skip
        moved = 0
        for old_step, new_step in checked_moves.items():
            moved += StepRun.objects.filter(campaign_id=campaign.pk, version__lt=number, step=old_step,
                                            status__in=(RunStatus.PENDING, RunStatus.CLAIMED)).update(
                version=number, step=new_step, due_at=now, waiting_since=now, outcome="", claim="", lease_until=None,
                status=RunStatus.PENDING,
            )  # fmt: skip
        campaign.refresh_from_db()
        _audit("campaign.published", principal=principal, request=request, campaign_id=campaign.pk, version=number,
               first=first, moved=moved)  # fmt: skip
        _wake_on_commit()
    return campaign


def _checked_moves(moves: Mapping[Any, Any] | None, graph: dict) -> dict[int, int]:
    if not moves:
        return {}
    if not isinstance(moves, Mapping) or len(moves) > graphs.MAX_STEPS:
        raise ValidationError({"moves": ["an object {old step id: new step id}"]})
    ids = {s["id"] for s in graph["steps"]}
    out = {}
    for old, new in moves.items():
        try:
            old_id, new_id = int(old), int(new)
        except (TypeError, ValueError):
            raise ValidationError({"moves": ["step ids are whole numbers"]}) from None
        if new_id not in ids:
            raise ValidationError({"moves": ["each move leads to a step of the published graph"]})
        out[old_id] = new_id
    return out


def campaign_unpublish(campaign_id: int, *, principal: Principal, request=None) -> Campaign:
    """Stop a campaign: no one enters and no step runs until it is published again (contacts keep their place).

    Needs campaigns:edit. Raise Campaign.DoesNotExist, ValidationError when it is not published.
    """
    _require(principal)
    with _atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status != CampaignStatus.PUBLISHED:
            raise ValidationError({"status": ["only a published campaign can be unpublished"]})
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.UNPUBLISHED, updated_at=timezone.now())
        campaign.refresh_from_db()
        _audit("campaign.unpublished", principal=principal, request=request, campaign_id=campaign.pk)
    return campaign


def _ids(contact_ids: Iterable[Any]) -> list[int]:
    ids = sorted({int(c) for c in contact_ids})
    if len(ids) > MAX_CONTACTS:
        raise ValidationError({"ids": [f"at most {MAX_CONTACTS} contacts at a time"]})
    return ids


def campaign_contacts_add(campaign_id: int, contact_ids: Iterable[int], *, principal: Principal, source: str = "manual",
                          request=None) -> int:  # fmt: skip
    """Put contacts into a published campaign at its first step; return how many entered. Needs campaigns:edit.

    Ids not in this workspace are skipped; a contact already in it stays where it is (a repeating campaign
    takes back one that left, after its minimum gap). Raise Campaign.DoesNotExist, ValidationError when
    the campaign is not published.
    """
    _require(principal)
    ids = _ids(contact_ids)
    with _atomic():
        campaign = Campaign.objects.get(pk=campaign_id)
        if campaign.status != CampaignStatus.PUBLISHED:
            raise ValidationError({"status": ["publish the campaign before adding contacts"]})
        entered = engine.enter_contacts(campaign, ids, source=source, reenter=True) if ids else 0
        _audit("campaign.contacts_added", principal=principal, request=request, campaign_id=campaign.pk,
               count=len(ids), entered=entered)  # fmt: skip
        _wake_on_commit()
    return entered


def campaign_contacts_remove(campaign_id: int, contact_ids: Iterable[int], *, principal: Principal,
                             request=None) -> int:  # fmt: skip
    """Take contacts out of a campaign (their steps still to do are cancelled); return how many left.

    Needs campaigns:edit. Raise Campaign.DoesNotExist.
    """
    _require(principal)
    ids = _ids(contact_ids)
    with _atomic():
        campaign = Campaign.objects.get(pk=campaign_id)
        left = engine.exit_enrolments(
            Enrolment.objects.filter(campaign_id=campaign.pk, contact_id__in=ids, status=EnrolmentStatus.ACTIVE),
            reason="removed",
        )
        _audit("campaign.contacts_removed", principal=principal, request=request, campaign_id=campaign.pk,
               count=len(ids), left=left)  # fmt: skip
    return left


def campaigns_run(*, principal: Principal, limit: int = engine.BATCH_SIZE, max_batches: int = 50,
                  enter: bool = True, crash_after: str = "") -> engine.RunResult:  # fmt: skip
    """Run the workspace's campaigns once: enter new contacts, wake decisions, run what is due; return the counts.

    Needs campaigns:edit (the tasks act as the system). Not audited: each step is recorded in the event
    store and each action the steps call writes its own audit entry. Safe to run in several workers at
    once: runs are claimed under a lease.
    """
    _require(principal)
    if enter:
        for campaign in engine.published_campaigns():
            engine.enter_from_sources(campaign)
    with _atomic():
        engine.nudge_decisions()
        goals.reach_goals()
    return engine.run_due(principal=principal, limit=limit, max_batches=max_batches, crash_after=crash_after)


def lease_expire_now(*, principal: Principal, before: datetime.datetime | None = None) -> int:
    """Expire every lease taken before `before` (default now): as when a killed worker's lease runs out.

    Needs campaigns:edit. For operators recovering from a crash without waiting, and for tests.
    """
    _require(principal)
    with _atomic():
        return StepRun.objects.filter(status__in=(RunStatus.CLAIMED, RunStatus.SENDING)).update(
            lease_until=before or timezone.now() - datetime.timedelta(seconds=1)
        )
