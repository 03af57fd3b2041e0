"""Campaigns: a graph of steps a contact walks, versioned when published, run from rows with a due time.

A Campaign holds the draft graph its authors edit; publishing freezes it as a CampaignVersion that
is never changed again, so a contact keeps walking the version it is on while the campaign is
edited. An Enrolment is a contact's place in a campaign (one row per contact and campaign, counting
its entries); a StepRun is one step of one walk: its due time, its claim by a worker, its outcome.
StepRuns are unique per (enrolment, entry, seq), seq being the position along the walk, which is
what makes a crash neither skip nor repeat a step. Tables refer to each other by id columns and
every index leads with workspace_id (decision 0006).
"""

from __future__ import annotations

from django.db import models
from django.utils.timezone import now

from tidings.privacy.categories import DataCategory
from tidings.privacy.registry import NotPersonal, PersonalData
from tidings.tenancy.models import TenantModel


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    UNPUBLISHED = "unpublished", "Unpublished"


class Campaign(TenantModel):
    """A campaign as its authors edit it: the draft graph, and the version new entrants start on."""

    personal_data = NotPersonal("a campaign's graph and settings as authored")

    name = models.CharField(max_length=191)
    description = models.TextField(blank=True, default="")
    status = models.CharField(max_length=12, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    graph = models.JSONField(default=dict, blank=True)  # the draft, checked by tidings.campaigns.graph
    version = models.PositiveIntegerField(default=0)  # the published version new entrants get; 0: never published
    published_at = models.DateTimeField(null=True, blank=True)
    # Where the entry sweep's scan of source events starts next (see engine.enter_from_sources).
    entry_watermark = models.DateTimeField(null=True, blank=True)
    # Throttle: at most this many steps claimed per minute (None: no limit), counted in a fixed one-minute
    # window (engine.fair_pick), so a campaign can be slowed to what its audience or a webhook can take.
    max_steps_per_minute = models.PositiveIntegerField(null=True, blank=True)
    throttle_window_start = models.DateTimeField(null=True, blank=True)
    throttle_window_used = models.PositiveIntegerField(default=0)
    created_by = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [
            models.Index(fields=["workspace_id", "name"], name="campaigns_campaign_name_idx"),
            models.Index(fields=["workspace_id", "status"], name="campaigns_campaign_status_idx"),
        ]


class CampaignVersion(TenantModel):
    """A published graph, frozen: contacts on it keep their steps whatever the draft becomes."""

    personal_data = NotPersonal("a published campaign graph")

    campaign_id = models.BigIntegerField()
    number = models.PositiveIntegerField()
    graph = models.JSONField()
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "campaign_id", "number"], name="campaigns_version_uniq"),
        ]


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", "In the campaign"
    FINISHED = "finished", "Walked to the end"
    EXITED = "exited", "Left the campaign"


class Enrolment(TenantModel):
    """A contact's place in a campaign: the version it walks, how often it entered, whether it is in it now."""

    personal_data = PersonalData(
        fields={"entered_at": DataCategory.BEHAVIOR, "left_at": DataCategory.BEHAVIOR},
        erase="delete",
        merge="skip",
        note="which campaigns a contact went through and when; erasing the contact deletes these",
    )

    campaign_id = models.BigIntegerField()
    contact_id = models.BigIntegerField()
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ACTIVE)
    entries = models.PositiveIntegerField(default=1)
    source = models.CharField(max_length=16, blank=True, default="")  # segment, form, manual, api
    entered_at = models.DateTimeField(default=now)
    left_at = models.DateTimeField(null=True, blank=True)
    exit_reason = models.CharField(max_length=32, blank=True, default="")  # a code: left_segment, removed, step

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "campaign_id", "contact_id"], name="campaigns_enrol_uniq"),
        ]
        indexes = [
            models.Index(fields=["workspace_id", "contact_id"], name="campaigns_enrol_contact_idx"),
            models.Index(fields=["workspace_id", "campaign_id", "status"], name="campaigns_enrol_status_idx"),
        ]


class RunStatus(models.TextChoices):
    PENDING = "pending", "Due"
    CLAIMED = "claimed", "Taken by a worker"
    SENDING = "sending", "Message handed to the mail server"  # an outbound step under way: never done twice
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled (the contact left)"


class StepRun(TenantModel):
    """One step of one contact's walk: due at due_at, claimed under a lease, done once.

    seq is the position along the walk of entry `entry` (0: the first step); the unique constraint on
    (enrolment, entry, seq) means a step finished and its successor scheduled in one transaction can
    never be scheduled twice. outcome: for a decision or condition the path taken ("yes"/"no"); reason:
    why a step was skipped (a code: no_consent, dnc_unsubscribed...).
    """

    personal_data = PersonalData(
        fields={"done_at": DataCategory.BEHAVIOR, "outcome": DataCategory.BEHAVIOR},
        erase="delete",
        merge="skip",
        note="the steps a contact went through in a campaign; erasing the contact deletes these",
    )

    campaign_id = models.BigIntegerField()
    version = models.PositiveIntegerField()
    enrolment_id = models.BigIntegerField()
    contact_id = models.BigIntegerField()
    step = models.PositiveIntegerField()  # the step's id in the version's graph
    entry = models.PositiveIntegerField(default=1)
    seq = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    due_at = models.DateTimeField(default=now)
    waiting_since = models.DateTimeField(default=now)  # a decision looks for events from here
    lease_until = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(max_length=8, blank=True, default="")
    reason = models.CharField(max_length=32, blank=True, default="")
    done_at = models.DateTimeField(null=True, blank=True)
    # When an email step's run was committed "sending": after a crash, the emails app's Delivery of the first
    # send of the step's email to the contact from then on tells what became of the message (email_step.run_email).
    sending_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace_id", "enrolment_id", "entry", "seq"], name="campaigns_steprun_uniq"
            ),  # fmt: skip
        ]
        indexes = [
            # The engine's pick: a campaign's runs in one status, oldest due first, read in index order so a
            # batch costs its own size whatever the backlog (a partial index on the status would be smaller,
            # but SQLite cannot match its condition against a query's parameters).
            models.Index(
                fields=["workspace_id", "campaign_id", "status", "due_at", "id"], name="campaigns_steprun_queue_idx"
            ),  # fmt: skip
            # A batch's runs, read again by their claim token.
            models.Index(fields=["workspace_id", "claim"], name="campaigns_steprun_claim_idx"),
            models.Index(fields=["workspace_id", "contact_id"], name="campaigns_steprun_contact_idx"),
            models.Index(fields=["workspace_id", "campaign_id", "step", "status"], name="campaigns_steprun_step_idx"),
        ]
