"""The append-only event store, its string dictionary and anonymous visitors.

Every table lives in the workspace's region database (TenantModel); every index leads with
workspace_id and tables refer to each other by id columns, never foreign keys (the schema stays
distributable by workspace_id, decision 0006). The store is shared by every domain; which types
exist and what their data may hold is declared by the domains (tidings.events.registry).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from tidings.privacy.categories import DataCategory
from tidings.privacy.registry import PersonalData
from tidings.tenancy.models import TenantModel


class Visitor(TenantModel):
    """A device seen by tracking before (or without) knowing who it is; contact_id is set once identified.

    Events of an anonymous device carry visitor_id and no contact_id. Identifying the visitor is
    one UPDATE of this row (events.actions.visitor_identify), never a rewrite of its events: the
    selectors resolve an event's contact as COALESCE(event.contact_id, visitor.contact_id).
    The id is random (not a sequence), so it can sit in a first-party cookie without telling
    how many visitors a workspace has, nor who came before whom.
    """

    personal_data = PersonalData(
        fields={"contact_id": DataCategory.BEHAVIOR},
        export="skip",  # a visitor's events are exported with the contact's (events.event)
    )

    id = models.BigIntegerField(primary_key=True)
    contact_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    identified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["workspace_id", "contact_id"],
                name="events_visitor_contact_idx",
                condition=Q(contact_id__isnull=False),
            )
        ]


class Event(TenantModel):
    """One row of the append-only event store shared by contacts, tracking, forms, emails and campaigns.

    Kept small (budget 250 bytes on disk, indexes included): a small-int type, a timestamp, the
    contact or the anonymous visitor, and a small JSON of ids. Repeated strings (URLs) are stored
    once in EventString and the event holds their id. No personal data in clear: data holds only
    the keys its type's schema allows, IPs are truncated to their network and URLs lose their
    query string before storage. Write through tidings.events.actions (or store.write inside
    another domain's action), which checks, encodes and inserts in batches.
    """

    personal_data = PersonalData(
        fields={"data": DataCategory.BEHAVIOR},
        erase="tidings.events.erasure.erase_events",
        export="tidings.events.selectors.export_events",
    )

    contact_id = models.BigIntegerField(null=True, blank=True)
    visitor_id = models.BigIntegerField(null=True, blank=True)
    # The type's code, declared by its domain (registry); no choices: no one domain owns the list.
    type = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=now)
    data = models.JSONField(default=dict, blank=True)
    # A join on (workspace_id, visitor_id), not a column: lets querysets reach visitor__contact_id.
    visitor = models.ForeignObject(
        Visitor,
        on_delete=models.DO_NOTHING,
        from_fields=["workspace_id", "visitor_id"],
        to_fields=["workspace_id", "id"],
        related_name="+",
        null=True,
    )

    def save(self, *args, **kwargs):
        """Save the event after checking its type and data (UnknownEventType, EventDataRejected otherwise).

        Single rows go through the same checks and encoding as the batched write path.
        """
        from tidings.events.store import encode_data

        self.data = encode_data(self.type, self.data)
        super().save(*args, **kwargs)

    class Meta:
        db_table = "events_event"
        indexes = [
            models.Index(fields=["workspace_id", "contact_id", "at"], name="events_timeline_idx"),
            # Selectors (a type in a time range) and retention by type; replaces the age index. No contact_id in
            # it: the contact is COALESCE(contact_id, visitor.contact_id), read from the row anyway, and the
            # 250-byte budget counts every index.
            models.Index(fields=["workspace_id", "type", "at"], name="events_type_at_idx"),
            models.Index(
                fields=["workspace_id", "visitor_id", "at"],
                name="events_visitor_idx",
                condition=Q(visitor_id__isnull=False),
            ),
            # Segments' incremental refresh (decision 0017): a list of contacts' events of one type in a window,
            # read from the index instead of every event of theirs from the heap to test its type. Identified
            # contacts' events only: anonymous hits (most of tracking's) do not pay for it.
            models.Index(
                fields=["workspace_id", "contact_id", "type", "at"],
                name="events_contact_type_idx",
                condition=Q(contact_id__isnull=False),
            ),
        ]


class EventString(TenantModel):
    """A repeated string of events (a URL), stored once per workspace; events hold its id.

    Not personal by itself: URLs lose their query string and fragment before they get here
    (registry.strip_url), and a string no event refers to any more is deleted when a contact
    is erased (erasure.erase_events), so a path that named a person does not outlive
    the events that used it.
    """

    personal_data = PersonalData(
        fields={"value": DataCategory.BEHAVIOR},
        subject="id",
        erase="tidings.events.erasure.strings_erased_with_events",
        export="skip",  # exported resolved, inside each event
        merge="skip",  # shared by every contact of the workspace
    )

    kind = models.PositiveSmallIntegerField()
    digest = models.BinaryField(max_length=16)
    value = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace_id", "kind", "digest"], name="events_string_unique")]
