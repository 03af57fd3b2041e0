"""How segment memberships are exported, erased and merged with a contact (the privacy registry's hooks).

A membership row is about one contact, so it joins the registry (models.SegmentMembership). The
hooks keep each touched segment's member count true, which plain row deletes would leave stale.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from tidings.segments.models import MEMBER_STATUSES, MembershipStatus, Segment, SegmentMembership


def _recount(segment_ids: Iterable[int]) -> None:
    ids = sorted(set(segment_ids))
    if not ids:
        return
    counted = (
        SegmentMembership.objects.filter(segment_id=OuterRef("pk"), status__in=MEMBER_STATUSES)
        .order_by()
        .values("segment_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    Segment.objects.filter(pk__in=ids).update(member_count=Coalesce(Subquery(counted), 0))


def export_memberships(model, contact_id: int) -> list[dict]:
    """Return the contact's segments by name: member (by filter or by hand) or kept out by hand, and since when."""
    rows = list(
        SegmentMembership.objects.filter(contact_id=contact_id)
        .order_by("segment_id")
        .values_list("segment_id", "status", "created_at")
    )
    names = dict(Segment.objects.filter(pk__in=[r[0] for r in rows]).values_list("pk", "name"))
    return [
        {
            "segment": names.get(segment_id, f"#{segment_id}"),
            "segment_id": segment_id,
            "status": MembershipStatus(status).label,
            "since": created_at.isoformat(),
        }
        for segment_id, status, created_at in rows
    ]


def erase_memberships(model, contact_ids) -> int:
    """Delete the contacts' memberships and recount their segments; return rows deleted."""
    rows = SegmentMembership.objects.filter(contact_id__in=list(contact_ids))
    touched = set(rows.values_list("segment_id", flat=True))
    deleted, _ = rows.delete()
    _recount(touched)
    return deleted


def merge_memberships(model, winner_id: int, loser_id: int) -> int:
    """Move the loser's memberships to the winner, one per segment (the winner's row wins); return rows moved.

    The winner's filter membership is then re-evaluated by the incremental refresh (the merge
    writes contact.merged), as any change of the contact.
    """
    loser = SegmentMembership.objects.filter(contact_id=loser_id)
    touched = set(loser.values_list("segment_id", flat=True))
    held = SegmentMembership.objects.filter(contact_id=winner_id, segment_id__in=touched).values_list(
        "segment_id", flat=True
    )
    loser.filter(segment_id__in=list(held)).delete()
    moved = loser.update(contact_id=winner_id)
    _recount(touched)
    return moved
