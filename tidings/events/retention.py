"""Retention hooks of the event store, called by the privacy centre's retention job (tidings.privacy.retention).

Not actions: the privacy centre's retention action checks its permission and audits each run.
Each batch is its own short transaction, so purging millions of rows never holds the write lock
for long; what is kept beyond the limit is the count per day and event type of the rows deleted.
Events of types kept as records (Retention.RECORD: consent, DNC, merges) are never purged here:
they are proof, and go with their contact.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterator

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from tidings.events.models import Event, Visitor
from tidings.events.registry import Retention, event_types, label
from tidings.privacy.retention import DataClass, PurgedBatch, RetentionHook, register_retention_hook
from tidings.tenancy.context import require_workspace


def _codes(domain: str) -> list[int]:
    return [spec.code for spec in event_types() if spec.domain == domain and spec.retention == Retention.BEHAVIOUR]


def _purge_events(condition: Q, batch_size: int) -> Iterator[PurgedBatch]:
    alias = require_workspace().db_alias
    while True:
        with transaction.atomic(using=alias):
            rows = list(Event.objects.filter(condition).order_by("id").values_list("id", "type", "at")[:batch_size])
            if not rows:
                return
            Event.objects.filter(id__in=[row[0] for row in rows]).delete()
            daily = Counter((at.date(), label(type_)) for _id, type_, at in rows)
            yield PurgedBatch(deleted=len(rows), daily=dict(daily))


def purge_tracking_events(cutoff: datetime.datetime, *, batch_size: int, principal) -> Iterator[PurgedBatch]:
    """Delete tracking events (page hits, downloads, video, custom events) older than cutoff, in batches."""
    codes = _codes("tracking")
    if codes:
        yield from _purge_events(Q(type__in=codes, at__lt=cutoff), batch_size)


def purge_email_events(cutoff: datetime.datetime, *, batch_size: int, principal) -> Iterator[PurgedBatch]:
    """Delete email engagement events (opens, clicks, bounces) older than cutoff, in batches."""
    codes = _codes("emails")
    if codes:
        yield from _purge_events(Q(type__in=codes, at__lt=cutoff), batch_size)


def stale_anonymous_visitors(cutoff: datetime.datetime):
    """Return the never-identified visitors first seen before cutoff with no event since: the ones purged.

    The consent ledger's hook (tidings.consent.retention) purges their records with the same test.
    """
    recent = Event.objects.filter(visitor_id=OuterRef("id"), at__gte=cutoff)
    return Visitor.objects.filter(contact_id__isnull=True, created_at__lt=cutoff).filter(~Exists(recent))


def purge_anonymous_visitors(cutoff: datetime.datetime, *, batch_size: int, principal) -> Iterator[PurgedBatch]:
    """Delete never-identified visitors first seen before cutoff and with no event since, with their events.

    A visitor identified as a contact is the contact's (erased with it); one still active is kept.
    """
    alias = require_workspace().db_alias
    stale = stale_anonymous_visitors(cutoff)
    while True:
        with transaction.atomic(using=alias):
            rows = list(stale.order_by("id").values_list("id", "created_at")[:batch_size])
            if not rows:
                return
            ids = [row[0] for row in rows]
            Event.objects.filter(visitor_id__in=ids, contact_id__isnull=True).delete()
            Visitor.objects.filter(id__in=ids).delete()
            daily = Counter((created.date(), "visitor") for _id, created in rows)
            yield PurgedBatch(deleted=len(rows), daily=dict(daily))


def register_event_retention() -> None:
    """Register the event store's hooks: tracking events, email events, anonymous visitors (idempotent)."""
    per_type = "daily count of the deleted events per event type (day, type name)"
    register_retention_hook(RetentionHook(DataClass.TRACKING_EVENTS, "events.tracking",
                                          purge_tracking_events, per_type))  # fmt: skip
    register_retention_hook(RetentionHook(DataClass.EMAIL_EVENTS, "events.emails", purge_email_events, per_type))
    register_retention_hook(RetentionHook(
        DataClass.ANONYMOUS_VISITORS, "events.visitor", purge_anonymous_visitors,
        "daily count of the deleted visitors by the day they were first seen (day, 'visitor')",
        note="their anonymous events go with them; visitors identified as a contact are kept with the contact",
    ))  # fmt: skip
