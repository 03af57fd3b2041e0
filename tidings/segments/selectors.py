"""Reads of segments: the list, one segment, its members, a contact's segments and the builder's live preview."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from tidings.consent.selectors import purposes
from tidings.contacts.capabilities import FieldCapability, FieldObject
from tidings.contacts.conditions import Conditions, contacts_where, memberships, tag_ids
from tidings.events.registry import IP, event_types
from tidings.pagination import Page, keyset_page
from tidings.segments.compiler import NOBODY, Compiler, open_value
from tidings.segments.definition import SEALED_STORAGE, Lookups, check_shape, field_capability, walk
from tidings.segments.models import MEMBER_STATUSES, MembershipStatus, Segment, SegmentCountDay, SegmentMembership

PREVIEW_SAMPLE = 10
PREVIEW_COUNT_CAP = 100_000  # beyond it the builder says "more than"


def lookups() -> Lookups:
    """Return what checking a definition needs: the workspace's fields, tags, segments, event types and purposes."""
    conditions = Conditions()
    return Lookups(
        contact_fields=conditions.capabilities(FieldObject.CONTACT),
        company_fields=conditions.capabilities(FieldObject.COMPANY),
        tag_ids=tag_ids(),
        segment_ids=frozenset(Segment.objects.values_list("id", flat=True)),
        event_keys={
            spec.name: {key: kind for key, kind in spec.keys.items() if kind != IP}
            for spec in event_types()
            if spec.domain != "segments"
        },
        purpose_keys=frozenset(purpose.key for purpose in purposes()),
        membership_ids={kind: membership.ids() for kind, membership in memberships().items()},
    )


def definition_check(definition: Any, *, known: Lookups | None = None) -> dict:
    """Return definition checked and normalised, values included; raise ValidationError keyed by path.

    Values are checked by building the condition (the same code that runs it), so what is
    accepted here runs at rebuild. Messages never repeat a value.
    """
    known = known or lookups()
    checked = check_shape(definition, known)
    compiler = Compiler(known)
    errors: dict[str, list[str]] = {}
    for path, node in _paths(checked):
        if node["kind"] != "field":
            continue
        try:
            compiler.field(node)
        except ValidationError as error:
            messages = error.messages if not hasattr(error, "error_dict") else sum(error.message_dict.values(), [])
            errors.setdefault(f"{path}.value", []).extend(messages)
    if errors:
        raise ValidationError(errors, code="invalid")
    return checked


def _paths(group: Mapping, prefix: str = ""):
    for index, node in enumerate(group.get("filters", [])):
        path = f"{prefix}filters.{index}"
        if node.get("kind") == "group":
            yield from _paths(node, f"{path}.")
        else:
            yield path, node


def definition_for_display(definition: Mapping, *, open_sealed: bool = True) -> dict:
    """Return a stored definition with its sealed values opened (for the builder and the API, never for logs).

    With open_sealed=False (a caller who may change segments but not see them), sealed values
    are shown as null: the filter is named, the searched value is not.
    """

    def opened(group: Mapping) -> dict:
        nodes = []
        for node in group.get("filters", []):
            if node.get("kind") == "group":
                nodes.append({**node, **opened(node)})
            elif "value_sealed" in node:
                shown = {k: v for k, v in node.items() if k != "value_sealed"}
                try:
                    shown["value"] = open_value(node["value_sealed"]) if open_sealed else None
                except ValidationError:
                    shown["value"] = None
                nodes.append(shown)
            else:
                nodes.append(dict(node))
        return {"match": group.get("match", "all"), "filters": nodes}

    return opened(definition or {})


def sealed_fields(definition: Mapping, known: Lookups) -> list[FieldCapability]:
    """Return the capabilities of the fields whose filter values a definition must store sealed."""
    found = []
    for node in walk(definition):
        if node.get("kind") == "field":
            cap = field_capability(known, node["object"], node["field"])
            if cap is not None and cap.storage in SEALED_STORAGE:
                found.append(cap)
    return found


def condition_of(
    definition: Mapping,
    *,
    known: Lookups | None = None,
    now: datetime.datetime | None = None,
    contact_ids: list[int] | None = None,
):
    """Return the Q on contacts of a stored (checked) definition.

    contact_ids: the condition will only be asked about these contacts (the incremental refresh
    filters by them too); behaviour filters then read only their events. Others may not match.
    """
    if not definition or not definition.get("filters"):
        return NOBODY
    return Compiler(known or lookups(), now=now, contact_ids=contact_ids).compile(definition)


def matching_contacts(definition: Mapping, *, now: datetime.datetime | None = None) -> QuerySet:
    """Return the contacts a stored definition's filters match (manual adds and removes not applied)."""
    return contacts_where(condition_of(definition, now=now))


@dataclass(frozen=True)
class Preview:
    count: int
    capped: bool  # count is PREVIEW_COUNT_CAP and there are more
    sample_ids: list[int]


def segment_preview(definition: Any) -> Preview:
    """Return how many contacts a definition matches now and the ids of a few of them (the builder's live count).

    Raise ValidationError keyed by path for a definition that does not check.
    """
    known = lookups()
    checked = definition_check(definition, known=known)
    matching = contacts_where(condition_of(checked, known=known)).order_by()
    count = matching.values("id")[: PREVIEW_COUNT_CAP + 1].count()
    sample = list(matching.order_by("-id").values_list("id", flat=True)[:PREVIEW_SAMPLE])
    return Preview(count=min(count, PREVIEW_COUNT_CAP), capped=count > PREVIEW_COUNT_CAP, sample_ids=sample)


def segments_list(*, search: str = "", published_only: bool = False) -> QuerySet:
    """Return the workspace's segments by name (with member_count kept by the rebuilds)."""
    segments = Segment.objects.order_by("name", "id")
    if search:
        segments = segments.filter(name__icontains=search[:191])
    if published_only:
        segments = segments.filter(is_published=True)
    return segments


def with_members_before(segments: QuerySet, *, days: int) -> QuerySet:
    """Annotate members_before: the count at the segment's last rebuild at least `days` days ago (None if newer).

    One subquery per row on the (workspace, segment, day) key, so a page of the list stays one query.
    """
    cutoff = timezone.now().date() - datetime.timedelta(days=days)
    then = SegmentCountDay.objects.filter(segment_id=OuterRef("pk"), day__lte=cutoff).order_by("-day")
    return segments.annotate(members_before=Subquery(then.values("members")[:1]))


def segment_get(segment_id: int) -> Segment:
    """Return one segment; raise Segment.DoesNotExist for an id not in this workspace."""
    return Segment.objects.get(pk=segment_id)


def segment_by_alias(alias: str) -> Segment:
    """Return the segment called alias; raise Segment.DoesNotExist."""
    return Segment.objects.get(alias=alias)


def segment_member_ids(segment_id: int) -> QuerySet:
    """Return a queryset of the ids of a segment's members (filter matches and manual adds)."""
    return SegmentMembership.objects.filter(segment_id=segment_id, status__in=MEMBER_STATUSES).values_list(
        "contact_id", flat=True
    )


def segment_members(segment_id: int) -> QuerySet:
    """Return the membership rows of a segment's members (filter matches and manual adds), for paging."""
    return SegmentMembership.objects.filter(segment_id=segment_id, status__in=MEMBER_STATUSES)


def segment_members_page(segment_id: int, *, removed: bool = False, after: str | None = None, limit: int = 50) -> Page:
    """Return a page of a segment's membership rows by contact id (removed=True: the manually removed ones).

    Raise pagination.InvalidCursor on a cursor this list did not issue.
    """
    statuses = (MembershipStatus.REMOVED,) if removed else MEMBER_STATUSES
    rows = SegmentMembership.objects.filter(segment_id=segment_id, status__in=statuses)
    return keyset_page(rows, ordering="contact_id", after=after, limit=limit)


def segment_memberships(segment_id: int, contact_ids: list[int]) -> dict[int, int]:
    """Return {contact id: membership status} of the given contacts in a segment (members and manual removes)."""
    rows = SegmentMembership.objects.filter(segment_id=segment_id, contact_id__in=contact_ids)
    return dict(rows.values_list("contact_id", "status"))


def contact_segments(contact_id: int) -> list[Segment]:
    """Return the segments a contact is a member of, by name."""
    ids = SegmentMembership.objects.filter(contact_id=contact_id, status__in=MEMBER_STATUSES).values("segment_id")
    return list(Segment.objects.filter(id__in=ids).order_by("name", "id"))


def contact_memberships(contact_id: int) -> list[tuple[Segment, SegmentMembership]]:
    """Return (segment, membership) of each segment a contact is a member of, by segment name (two queries)."""
    rows = {
        row.segment_id: row
        for row in SegmentMembership.objects.filter(contact_id=contact_id, status__in=MEMBER_STATUSES)
    }
    segments = Segment.objects.filter(id__in=list(rows)).order_by("name", "id") if rows else []
    return [(segment, rows[segment.pk]) for segment in segments]


def segments_with_membership(contact_id: int, *, limit: int = 500) -> list[Segment]:
    """Return the workspace's segments by name, each with is_member for the contact (one query: the contact panel)."""
    member = SegmentMembership.objects.filter(
        segment_id=OuterRef("pk"), contact_id=contact_id, status__in=MEMBER_STATUSES
    )
    return list(Segment.objects.annotate(is_member=Exists(member)).order_by("name", "id")[:limit])


def segment_growth(segment_id: int, *, days: int = 90) -> list[tuple[datetime.date, int]]:
    """Return (day, members) of a segment's last days with a rebuild, oldest first (the growth chart)."""
    rows = SegmentCountDay.objects.filter(segment_id=segment_id).order_by("-day")[:days]
    return sorted((row.day, row.members) for row in rows)


def dependencies() -> dict[int, set[int]]:
    """Return {segment id: ids of the segments its filters name} for the workspace."""
    from tidings.segments.definition import referenced_segments

    return {
        pk: referenced_segments(definition or {}) for pk, definition in Segment.objects.values_list("id", "definition")
    }


def rebuild_order(graph: Mapping[int, set[int]]) -> list[int]:
    """Return segment ids so that each comes after the segments it names (dependencies first)."""
    order: list[int] = []
    state: dict[int, int] = {}

    def visit(node: int) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:  # a cycle saved before checks existed: break it here
            return
        state[node] = 1
        for child in sorted(graph.get(node, ())):
            if child in graph:
                visit(child)
        state[node] = 2
        order.append(node)

    for node in sorted(graph):
        visit(node)
    return order


def segment_names(ids: set[int]) -> dict[int, str]:
    """Return {id: name} of the given segments (timeline sentences)."""
    return dict(Segment.objects.filter(id__in=ids).values_list("id", "name"))


def workspaces_with_segments() -> list[int]:
    """Return the ids of every workspace, in every region, that has a segment (the periodic jobs' round).

    Crosses workspaces on purpose, through the one named door for that; ids only.
    """
    from tidings.tenancy.sweeps import dangerously_sweep_workspaces

    with dangerously_sweep_workspaces() as across:
        found = {
            pk for rows in across(Segment) for pk in rows.order_by().values_list("workspace_id", flat=True).distinct()
        }
    return sorted(found)
