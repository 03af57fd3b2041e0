"""Segments: named, filtered sets of contacts, and who is in each.

A segment's filters are a JSON tree (tidings.segments.definition) compiled to one SQL condition
(tidings.segments.compiler). Memberships are rows, not a query run at send time: campaigns and
emails start from them, and each change is an event (segment.added / segment.removed).
Tables refer to each other by id columns, never foreign keys, and every index leads with
workspace_id (decision 0006).
"""

from __future__ import annotations

from django.db import models
from django.utils.timezone import now

from tidings.privacy.categories import DataCategory
from tidings.privacy.registry import NotPersonal, PersonalData
from tidings.tenancy.models import TenantModel


class Segment(TenantModel):
    """A named set of contacts: those its filters match, plus manual adds, minus manual removes."""

    personal_data = NotPersonal("segment definitions; values of encrypted-field filters are sealed")

    name = models.CharField(max_length=191)
    alias = models.SlugField(max_length=191, db_index=False)  # the unique constraint leads with workspace_id
    description = models.TextField(blank=True, default="")
    definition = models.JSONField(default=dict, blank=True)
    is_published = models.BooleanField(default=True)
    # A subscription list: shown to contacts in the preference centre, who may join or leave it (Mautic's
    # isPreferenceCenter). Its name is then public.
    in_preference_centre = models.BooleanField(default=False)
    created_by = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    member_count = models.PositiveIntegerField(default=0)
    rebuild_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace_id", "alias"], name="segments_alias_uniq")]

    def __str__(self) -> str:
        return self.name


class MembershipStatus(models.IntegerChoices):
    FILTER = 1, "matched by the filters"
    ADDED = 2, "added manually"
    REMOVED = 3, "removed manually"  # not a member: keeps the contact out whatever the filters say


MEMBER_STATUSES = (MembershipStatus.FILTER, MembershipStatus.ADDED)
# A member by filter a rebuild is removing: marked, its event written from the mark, then deleted, all in
# the rebuild's transaction, so no other transaction ever sees it. Not a choice: never stored for good.
LEAVING = 0


class SegmentMembership(TenantModel):
    """One contact's place in one segment: a member (by filter or added manually), or kept out manually."""

    personal_data = PersonalData(
        fields={"segment_id": DataCategory.BEHAVIOR},
        unique_with=("segment_id",),  # one membership per segment: merge_memberships keeps the winner's
        export="tidings.segments.personal_data.export_memberships",
        erase="tidings.segments.personal_data.erase_memberships",
        merge="tidings.segments.personal_data.merge_memberships",
    )

    segment_id = models.BigIntegerField()
    contact_id = models.BigIntegerField()
    status = models.PositiveSmallIntegerField(choices=MembershipStatus.choices, default=MembershipStatus.FILTER)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace_id", "segment_id", "contact_id"], name="segments_membership_uniq"
            )
        ]
        indexes = [models.Index(fields=["workspace_id", "contact_id"], name="segments_member_contact_idx")]


class SegmentCountDay(TenantModel):
    """A segment's member count at the end of its last rebuild of a day: the growth chart."""

    personal_data = NotPersonal("counts of members per day")

    segment_id = models.BigIntegerField()
    day = models.DateField()
    members = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "segment_id", "day"], name="segments_countday_uniq")
        ]


class SegmentRefreshState(TenantModel):
    """How far the incremental refresh has read the workspace's changes (one row per workspace).

    The event store is the change log: every change a filter can see writes an event (fields,
    tags, DNC, companies, tracking, emails), so contacts changed since the last refresh are the
    contacts of events after last_event_id, plus contacts updated after changed_since.
    """

    personal_data = NotPersonal("a position in the event store")

    last_event_id = models.BigIntegerField(default=0)
    changed_since = models.DateTimeField(default=now)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace_id"], name="segments_refresh_state_uniq")]
