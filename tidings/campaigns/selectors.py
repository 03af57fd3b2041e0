"""Reads of campaigns, always in the workspace in context: campaigns, versions, who is in them, a contact's journey."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, QuerySet

from tidings.campaigns.event_types import CAMPAIGN_CODES
from tidings.campaigns.models import Campaign, CampaignStatus, CampaignVersion, Enrolment, EnrolmentStatus, StepRun
from tidings.events import selectors as event_selectors


def campaigns(*, search: str = "") -> QuerySet[Campaign]:
    """Return the workspace's campaigns, newest first, optionally whose name contains search."""
    rows = Campaign.objects.all()
    if search:
        rows = rows.filter(name__icontains=search[:191])
    return rows.order_by("-id")


def campaign_get(campaign_id: int) -> Campaign:
    """Return a campaign of this workspace; raise Campaign.DoesNotExist otherwise."""
    return Campaign.objects.get(pk=campaign_id)


def campaign_version(campaign_id: int, number: int) -> CampaignVersion:
    return CampaignVersion.objects.get(campaign_id=campaign_id, number=number)


def campaign_versions(campaign_id: int) -> list[CampaignVersion]:
    return list(CampaignVersion.objects.filter(campaign_id=campaign_id).order_by("number"))


def enrolment_counts(campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """Return {campaign id: {status: contacts}} in one grouped query."""
    out: dict[int, dict[str, int]] = {c: {} for c in campaign_ids}
    rows = (Enrolment.objects.filter(campaign_id__in=campaign_ids).order_by().values("campaign_id", "status")
            .annotate(n=Count("id")))  # fmt: skip
    for row in rows:
        out[row["campaign_id"]][row["status"]] = row["n"]
    return out


def step_counts(campaign_id: int) -> dict[int, dict[str, int]]:
    """Return {step id: {run status: count}} of a campaign, every version, from one grouped query."""
    out: dict[int, dict[str, int]] = {}
    rows = (StepRun.objects.filter(campaign_id=campaign_id).order_by().values("step", "status")
            .annotate(n=Count("id")))  # fmt: skip
    for row in rows:
        out.setdefault(row["step"], {})[row["status"]] = row["n"]
    return out


def enrolments(campaign_id: int, *, status: str | None = None) -> QuerySet[Enrolment]:
    """Return a campaign's enrolments (who is or was in it), by id; status filters them."""
    rows = Enrolment.objects.filter(campaign_id=campaign_id)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("id")


def contact_enrolments(contact_id: int) -> list[Enrolment]:
    """Return the campaigns a contact is or was in (its enrolments), newest first."""
    return list(Enrolment.objects.filter(contact_id=contact_id).order_by("-entered_at", "-id"))


def journey(campaign_id: int, contact_id: int) -> list[StepRun]:
    """Return a contact's runs in a campaign, in the order it walked them."""
    return list(StepRun.objects.filter(campaign_id=campaign_id, contact_id=contact_id).order_by("entry", "seq"))


def journey_events(campaign_id: int, contact_id: int, *, limit: int = 500) -> list:
    """Return a contact's campaign events (entered, steps, skips, decisions, left) of a campaign, newest first."""
    events = event_selectors.contact_events(contact_id, types=list(CAMPAIGN_CODES)).filter(
        data__campaign_id=campaign_id
    )
    return list(events[:limit])


def published_campaign_exists() -> bool:
    return Campaign.objects.filter(status=CampaignStatus.PUBLISHED).exists()


def workspaces_with_published_campaigns() -> list[int]:
    """Return the ids of every workspace, in every region, with a published campaign (the periodic sweep's round).

    Crosses workspaces on purpose, through the one named door for that; ids only.
    """
    from tidings.tenancy.sweeps import dangerously_sweep_workspaces

    with dangerously_sweep_workspaces() as across:
        found = {
            pk
            for rows in across(Campaign)
            for pk in rows.filter(status=CampaignStatus.PUBLISHED).order_by().values_list("workspace_id", flat=True)
        }
    return sorted(found)


# The "in campaign" segment filter (registered with contacts.conditions.register_membership in apps.ready).


def campaign_ids() -> frozenset[int]:
    """Return the ids of the workspace's campaigns."""
    return frozenset(Campaign.objects.values_list("id", flat=True))


def campaign_names(ids: Iterable[int]) -> dict[int, str]:
    """Return {id: name} of those of ids that are campaigns of the workspace."""
    return dict(Campaign.objects.filter(pk__in=list(ids)).values_list("id", "name"))


def active_members(ids: list[int]) -> QuerySet[Enrolment]:
    """Return the active enrolments (rows with contact_id) in any of the campaigns ids, for a correlated EXISTS."""
    return Enrolment.objects.filter(campaign_id__in=ids, status=EnrolmentStatus.ACTIVE)


def more_reference_checks(campaign_id: int | None = None) -> dict:
    """Return graph.check's members=, campaigns=, recipients=, stages= and webhook_private_ok= for this workspace.

    members(ids): which user ids are members of the workspace; campaigns(ids): which are campaigns of the
    workspace other than campaign_id (a campaign does not send its contacts into itself); stages(ids):
    which are the workspace's contact stages.
    """
    from tidings.accounts.selectors import members_by_id
    from tidings.tenancy.context import require_workspace

    def members(ids) -> set[int]:
        return set(members_by_id(require_workspace(), set(ids)))

    def campaigns(ids) -> set[int]:
        found = Campaign.objects.filter(pk__in=[i for i in ids if i != campaign_id])
        return set(found.values_list("id", flat=True))

    def recipients(ids) -> set[int]:
        from tidings.privacy_centre import selectors as privacy_selectors

        found = privacy_selectors.recipients().filter(pk__in=list(ids), active=True)
        return set(found.values_list("id", flat=True))

    def stages(ids) -> set[int]:
        from tidings.contacts import selectors_stages

        return set(selectors_stages.stages_by_id(ids))

    from tidings.campaigns.webhooks import allow_private

    return {"members": members, "campaigns": campaigns, "recipients": recipients, "stages": stages,
            "webhook_private_ok": allow_private()}  # fmt: skip
