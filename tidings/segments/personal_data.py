"""Segments' part in privacy: memberships in the export/erasure registry, sealed filter values in key rotation.

A membership row is about one contact, so it joins the registry (models.SegmentMembership). The
hooks keep each touched segment's member count true, which plain row deletes would leave stale.
Filter values on encrypted fields are sealed under the workspace key (compiler.seal_value); when
the key rotates, reseal_filter_values re-wraps them before the old key version is retired.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from tidings.segments.compiler import reseal_value
from tidings.segments.models import MEMBER_STATUSES, MembershipStatus, Segment, SegmentMembership
from tidings.tenancy.context import require_workspace


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


def _resealed(group: Mapping, ring) -> dict[str, Any]:
    nodes = []
    for node in group.get("filters", []):
        if node.get("kind") == "group" or ("filters" in node and "kind" not in node):
            node = {**node, **_resealed(node, ring)}
        elif "value_sealed" in node:
            node = {**node, "value_sealed": reseal_value(node["value_sealed"], ring)}
        nodes.append(node)
    return {**group, "filters": nodes}


def reseal_filter_values(ring) -> int:
    """Re-wrap every sealed filter value of the workspace's segments under ring's active key; return segments changed.

    Called by tidings.privacy.vault.rotate_workspace_key (registered in apps.py) before it
    retires the old versions. Values are never opened: only their file keys are re-wrapped.
    """
    changed = 0
    with transaction.atomic(using=require_workspace().db_alias):
        for segment in Segment.objects.select_for_update().only("id", "definition").order_by("pk"):
            resealed = _resealed(segment.definition or {}, ring)
            if resealed != segment.definition:
                Segment.objects.filter(pk=segment.pk).update(definition=resealed)
                changed += 1
    return changed
