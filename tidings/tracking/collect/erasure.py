"""Erasure and export of visit sessions, called by the privacy registry (not actions: the caller audits)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q

from tidings.events.models import Visitor


def erase_sessions(model, contact_ids: Sequence[int]) -> int:
    """Delete the sessions of contact_ids' visitors, and those whose visitor is already gone.

    The registry erases stores by label, so events.Visitor rows are deleted before this runs:
    a session whose visitor no longer exists belonged to an erased contact.
    """
    theirs = Visitor.objects.filter(contact_id__in=list(contact_ids)).values("id")
    every_visitor = Visitor.objects.values("id")
    count, _ = model.objects.filter(Q(visitor_id__in=theirs) | ~Q(visitor_id__in=every_visitor)).delete()
    return count


def export_sessions(model, contact_id: int) -> list[dict]:
    """Return the sessions of contact_id's visitors, oldest first."""
    visitors = Visitor.objects.filter(contact_id=contact_id).values("id")
    rows = model.objects.filter(visitor_id__in=visitors).order_by("started_at", "id")
    return list(rows.values("started_at", "last_seen_at", "entry_url", "exit_url", "hits"))
