"""Writes of the event store: record events, identify visitors, purge by retention, erase.

Each action takes the principal that acts and checks its permission first. Domain actions that
already checked their own permission write their events through tidings.events.store.write
inside their transaction; this module is the checked door for everyone else.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tidings.accounts.permissions import Principal, require
from tidings.audit.actions import audit_record
from tidings.events import store
from tidings.events.models import Event, Visitor
from tidings.events.registry import RETENTION_PERIODS, event_types
from tidings.events.store import EventRow
from tidings.tenancy.bulk import BATCH_SIZE
from tidings.tenancy.context import require_workspace

__all__ = [
    "EventRow",
    "events_purge_before",
    "events_purge_expired",
    "events_record",
    "visitor_create",
    "visitor_identify",
]


def _atomic():
    return transaction.atomic(using=require_workspace().db_alias)


def _require(principal: Principal, permission: str) -> Principal:
    return require(principal, permission, workspace_id=require_workspace().id)


def events_record(rows: Iterable[EventRow | Mapping[str, Any]], *, batch_size: int = BATCH_SIZE, principal) -> int:
    """Record events in batches (one insert each); return how many were written.

    Each row is an EventRow or a dict with type (a registered code), contact_id and/or visitor_id,
    at (default now) and data holding only the keys and value kinds its type declares
    (tidings.events.registry); IPs are truncated to their network, URLs lose their query string
    and are stored once in the string dictionary. Not audited: the store is itself a record,
    written at tracking rates. Raise UnknownEventType, EventDataRejected (both ValueError) or
    ValueError (no contact nor visitor); each batch is written whole or not at all.
    """
    _require(principal, "contacts:edit")
    written = 0
    batch: list[EventRow | Mapping[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= batch_size:
            with _atomic():
                written += store.write(batch, batch_size=batch_size)
            batch = []
    if batch:
        with _atomic():
            written += store.write(batch, batch_size=batch_size)
    return written


def _purge(condition: Q, batch_size: int) -> int:
    deleted = 0
    while True:
        with _atomic():
            ids = list(Event.objects.filter(condition).values_list("id", flat=True)[:batch_size])
            if not ids:
                return deleted
            Event.objects.filter(id__in=ids).delete()
        deleted += len(ids)


def events_purge_before(cutoff: datetime.datetime, *, batch_size: int = 5000, principal) -> int:
    """Delete the workspace's events older than cutoff in batches, whatever their type; return how many went.

    Each batch is its own short transaction, so purging millions of rows never holds the write
    lock for long. One audit entry records the cutoff and the count.
    """
    _require(principal, "contacts:delete")
    deleted = _purge(Q(at__lt=cutoff), batch_size)
    with _atomic():
        audit_record("events.purged", principal=principal, target_type="contact_event",
                     data={"cutoff": cutoff.isoformat(), "deleted": deleted})  # fmt: skip
    return deleted


def events_purge_expired(*, batch_size: int = 5000, principal) -> int:
    """Delete the workspace's events older than their type's retention period; return how many went.

    Types of a class kept without limit (Retention.RECORD) are left alone. One audit entry.
    """
    _require(principal, "contacts:delete")
    now = timezone.now()
    deleted = 0
    for retention, period in RETENTION_PERIODS.items():
        codes = [spec.code for spec in event_types() if spec.retention == retention]
        if period is not None and codes:
            deleted += _purge(Q(type__in=codes, at__lt=now - period), batch_size)
    with _atomic():
        audit_record("events.purged", principal=principal, target_type="contact_event",
                     data={"retention": "by type", "deleted": deleted})  # fmt: skip
    return deleted


def visitor_create(*, principal) -> Visitor:
    """Create an anonymous visitor with a random 63-bit id (for a tracking cookie) and return it."""
    _require(principal, "contacts:edit")
    with _atomic():
        while True:
            candidate = secrets.randbits(63) or 1
            if not Visitor.objects.filter(pk=candidate).exists():
                return Visitor.objects.create(id=candidate)


def visitor_identify(visitor_id: int, contact_id: int, *, principal) -> bool:
    """Join the anonymous visitor to contact_id: one UPDATE of the visitor row, its events stay as written.

    Every selector then counts the visitor's past events for the contact. Return False when the
    visitor is already this contact's; raise Visitor.DoesNotExist for a visitor of another
    workspace (or none), ValueError when it already belongs to another contact (a shared device:
    the caller starts a new visitor rather than moving history between people).
    """
    _require(principal, "contacts:edit")
    with _atomic():
        visitor = Visitor.objects.select_for_update().get(pk=visitor_id)
        if visitor.contact_id == contact_id:
            return False
        if visitor.contact_id is not None:
            raise ValueError("this visitor is already identified as another contact")
        Visitor.objects.filter(pk=visitor_id).update(contact_id=contact_id, identified_at=timezone.now())
        audit_record("events.visitor_identified", principal=principal, target_type="contact", target_id=contact_id,
                     data={"visitor": visitor_id})  # fmt: skip
    return True
