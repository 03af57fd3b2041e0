"""What the collect path stores besides events: visit sessions and the receipts that make a hit idempotent.

Imported from tidings/tracking/models.py (one line), so the app's migrations see them.
"""

from __future__ import annotations

from django.db import models
from django.utils.timezone import now

from tidings.privacy.categories import DataCategory
from tidings.privacy.registry import NotPersonal, PersonalData
from tidings.tenancy.models import TenantModel

SESSION_GAP_SECONDS = 30 * 60  # a profiled visitor's hits within 30 minutes of each other form one session


class TrackingSession(TenantModel):
    """One visit of a profiled visitor: its entry and exit page, how many hits, when it started and was last seen.

    The id is random (chosen by the flusher before the insert, so the page.hit events of the same batch can
    carry it). A session belongs to a visitor, not a contact: it is erased with the contact's visitors
    (tidings.tracking.collect.erasure).
    """

    personal_data = PersonalData(
        fields={"visitor_id": DataCategory.BEHAVIOR, "entry_url": DataCategory.BEHAVIOR},
        subject="visitor_id",
        erase="tidings.tracking.collect.erasure.erase_sessions",
        export="tidings.tracking.collect.erasure.export_sessions",
        merge="skip",  # sessions follow their visitor, which a merge re-points
    )

    id = models.BigIntegerField(primary_key=True)
    site_id = models.BigIntegerField()
    visitor_id = models.BigIntegerField()
    started_at = models.DateTimeField(default=now)
    last_seen_at = models.DateTimeField(default=now)
    entry_url = models.CharField(max_length=2000, blank=True)  # stripped: no query string, no fragment
    exit_url = models.CharField(max_length=2000, blank=True)
    hits = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(fields=["workspace_id", "visitor_id", "last_seen_at"], name="tracking_session_visitor_idx"),
            models.Index(fields=["workspace_id", "site_id", "started_at"], name="tracking_session_site_idx"),
        ]


class HitReceipt(TenantModel):
    """A client event id already persisted: a replayed spool or a re-sent beacon is written once.

    Pruned after RECEIPT_HOURS (tidings.tracking.collect.persist.receipts_prune); a client resends
    within seconds, and a spool is replayed at the next start of the server or worker.
    """

    personal_data = NotPersonal("a random id the tracker drew for one hit, kept 48 hours")

    client_id = models.CharField(max_length=64)
    at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace_id", "client_id"], name="tracking_receipt_unique")]
        indexes = [models.Index(fields=["workspace_id", "at"], name="tracking_receipt_at_idx")]
