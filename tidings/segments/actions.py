"""Every write about segments: definitions, rebuilds, incremental refreshes and manual membership.

A rebuild is set-based: the additions and removals are each computed in SQL against the current
memberships (anti-joins) and applied with INSERT ... SELECT and DELETE, with one membership event
per change written the same way, so nothing proportional to the segment's size passes through
Python. Manual adds (status ADDED) and removes (REMOVED) are never touched by a rebuild.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.text import slugify

from tidings.accounts.permissions import Principal, require
from tidings.audit.actions import audit_record
from tidings.contacts.conditions import contact_ids_changed_since, contacts_where, existing_contact_ids
from tidings.events import store
from tidings.events.selectors import events_after, last_event_id
from tidings.events.store import EventRow
from tidings.segments.compiler import seal_value
from tidings.segments.definition import SEALED_STORAGE, Lookups, field_capability, referenced_segments
from tidings.segments.event_types import SEGMENT_ADDED, SEGMENT_EVENT_CODES, SEGMENT_REMOVED
from tidings.segments.models import (
    LEAVING,
    MEMBER_STATUSES,
    MembershipStatus,
    Segment,
    SegmentCountDay,
    SegmentMembership,
    SegmentRefreshState,
)
from tidings.segments.selectors import condition_of, definition_check, dependencies, lookups, rebuild_order
from tidings.tenancy import bulk
from tidings.tenancy.context import require_workspace

MAX_NAME = 191
MAX_DESCRIPTION = 2000
MAX_MANUAL = 10_000  # contacts added or removed by hand in one call
# Contacts re-evaluated per statement by the incremental refresh. Not more: at a million contacts PostgreSQL
# reads a behaviour filter's events through the type-and-time index (the type's whole window) from between
# 5,000 and 10,000 contacts on; and SQLite binds each id, repeated (with the contacts' visitors) once per
# behaviour filter, 32,766 parameters at most.
REFRESH_BATCH = 2000


def _atomic():
    return transaction.atomic(using=require_workspace().db_alias)


def _require(principal: Principal, permission: str) -> Principal:
    return require(principal, permission, workspace_id=require_workspace().id)


def _audit(action: str, *, principal, request=None, segment_id: object = "", **data) -> None:
    audit_record(action, principal=principal, request=request, target_type="segment", target_id=segment_id, data=data)


# ==============================================================================================
# Definitions


def _checked_fields(name: Any, alias: Any, description: Any, *, exclude_id: int | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME:
        errors["name"] = [f"a name of 1 to {MAX_NAME} characters"]
    alias = slugify(alias if isinstance(alias, str) and alias.strip() else name)[:MAX_NAME] or "segment"
    if Segment.objects.filter(alias=alias).exclude(pk=exclude_id).exists():
        errors["alias"] = ["another segment has this alias"]
    description = description if isinstance(description, str) else ""
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = [f"at most {MAX_DESCRIPTION} characters"]
    if errors:
        raise ValidationError(errors, code="invalid")
    return {"name": name, "alias": alias, "description": description}


def _stored_definition(definition: Any, known: Lookups, *, segment_id: int | None) -> dict:
    """Return definition checked, cycle-free and with the values of encrypted-field filters sealed."""
    checked = definition_check(definition, known=known)
    if segment_id is not None:
        graph = dependencies()
        graph[segment_id] = referenced_segments(checked)
        if _reaches(graph, segment_id):
            raise ValidationError({"definition": ["a segment cannot include itself, directly or through others"]})
    return _sealed(checked, known)


def _reaches(graph: Mapping[int, set[int]], start: int) -> bool:
    seen: set[int] = set()
    todo = list(graph.get(start, ()))
    while todo:
        node = todo.pop()
        if node == start:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return False


def _sealed(group: Mapping, known: Lookups) -> dict:
    nodes = []
    for node in group.get("filters", []):
        if node.get("kind") == "group":
            nodes.append({"kind": "group", **_sealed(node, known)})
            continue
        node = dict(node)
        if node.get("kind") == "field" and "value" in node:
            cap = field_capability(known, node["object"], node["field"])
            if cap is not None and cap.storage in SEALED_STORAGE:
                node["value_sealed"] = seal_value(node.pop("value"))
        nodes.append(node)
    return {"match": group.get("match", "all"), "filters": nodes}


def segment_create(
    *,
    principal: Principal,
    name: Any,
    definition: Any = None,
    alias: Any = "",
    description: Any = "",
    is_published: bool = True,
    in_preference_centre: bool = False,
    request=None,
) -> Segment:
    """Create a segment and build its membership; raise ValidationError keyed by field (or filter path)."""
    _require(principal, "segments:edit")
    with _atomic():
        fields = _checked_fields(name, alias, description)
        known = lookups()
        stored = _stored_definition(definition, known, segment_id=None)
        segment = Segment.objects.create(
            **fields,
            definition=stored,
            is_published=bool(is_published),
            in_preference_centre=bool(in_preference_centre),
            created_by=getattr(principal.user, "pk", None) if not principal.is_system else None,
        )
        _audit("segment.created", principal=principal, request=request, segment_id=segment.pk, alias=segment.alias)
        _refresh_state_start()
        _rebuild(segment, known)
    return segment


def segment_update(segment_id: int, *, principal: Principal, request=None, **changes: Any) -> Segment:
    """Change a segment's name, alias, description, publication or filters; a new definition rebuilds it.

    Raise Segment.DoesNotExist for an id not in this workspace, ValidationError for bad values.
    """
    _require(principal, "segments:edit")
    unknown = set(changes) - {"name", "alias", "description", "is_published", "in_preference_centre", "definition"}
    if unknown:
        raise ValidationError({"segment": [f"unknown attribute {name}" for name in sorted(unknown)[:5]]})
    with _atomic():
        segment = Segment.objects.select_for_update().get(pk=segment_id)
        fields = _checked_fields(
            changes.get("name", segment.name),
            changes.get("alias", segment.alias),
            changes.get("description", segment.description),
            exclude_id=segment.pk,
        )
        for attribute, value in fields.items():
            setattr(segment, attribute, value)
        if "is_published" in changes:
            segment.is_published = bool(changes["is_published"])
        if "in_preference_centre" in changes:
            segment.in_preference_centre = bool(changes["in_preference_centre"])
        known = lookups()
        redefined = "definition" in changes
        if redefined:
            segment.definition = _stored_definition(changes["definition"], known, segment_id=segment.pk)
        segment.updated_at = timezone.now()
        segment.save()
        _audit("segment.updated", principal=principal, request=request, segment_id=segment.pk,
               changed=sorted(changes))  # fmt: skip
        if redefined:
            _rebuild(segment, known)
    return segment


def segment_delete(segment_id: int, *, principal: Principal, request=None) -> None:
    """Delete a segment and its memberships; raise ValidationError while another segment's filters name it."""
    _require(principal, "segments:edit")
    with _atomic():
        segment = Segment.objects.select_for_update().get(pk=segment_id)
        users = sorted(pk for pk, names in dependencies().items() if segment.pk in names and pk != segment.pk)
        if users:
            raise ValidationError({"segment": [f"used by the filters of {len(users)} other segment(s)"]})
        SegmentMembership.objects.filter(segment_id=segment.pk).delete()
        SegmentCountDay.objects.filter(segment_id=segment.pk).delete()
        segment.delete()
        _audit("segment.deleted", principal=principal, request=request, segment_id=segment_id)


# ==============================================================================================
# Membership


@dataclass(frozen=True)
class RebuildResult:
    segment_id: int
    added: int
    removed: int
    members: int
    seconds: float


def segment_rebuild(segment_id: int, *, principal: Principal) -> RebuildResult:
    """Recompute a segment's filter members and apply only the difference (manual adds and removes stay)."""
    _require(principal, "segments:edit")
    with _atomic():
        segment = Segment.objects.select_for_update().get(pk=segment_id)
        return _rebuild(segment, lookups())


def segments_rebuild_all(*, principal: Principal) -> list[RebuildResult]:
    """Rebuild every segment of the workspace, each after the segments its filters name (the schedule's job)."""
    _require(principal, "segments:edit")
    known = lookups()
    results = []
    for segment_id in rebuild_order(dependencies()):
        with _atomic():
            segment = Segment.objects.select_for_update().filter(pk=segment_id).first()
            if segment is not None:
                results.append(_rebuild(segment, known))
    return results


def _rebuild(segment: Segment, known: Lookups) -> RebuildResult:
    started = time.perf_counter()
    matching = contacts_where(condition_of(segment.definition, known=known)).order_by()
    rows = SegmentMembership.objects.filter(segment_id=segment.pk)
    additions = matching.exclude(Exists(rows.filter(contact_id=OuterRef("pk")))).values_list("id")
    # Members by filter that no longer match: EXCEPT, computed once as a set. An anti-join (NOT EXISTS
    # matching contact) lets PostgreSQL run the filters once per member when its statistics think the
    # segment small, as they do right after its rows were written: minutes at a million contacts.
    by_filter = rows.filter(status=MembershipStatus.FILTER)
    gone = by_filter.values_list("contact_id").difference(matching.values_list("id"))
    data = {"segment_id": segment.pk}
    workspace_id = require_workspace().id
    now = timezone.now()
    # Removals first: they concern the rows that were there before, not those about to be added. None
    # there (a first build): skip them, as EXCEPT would still run the filters.
    removed = 0
    if by_filter.exists():
        # One run of the filters: the leaving rows are marked, then their events are written from the marks
        # and the marks deleted, which reads the segment's rows, not the filters (writing the events from
        # EXCEPT and deleting by it ran the filters twice, as long as the additions each time).
        removed = by_filter.filter(contact_id__in=gone).update(status=LEAVING)
        if removed:
            leaving = rows.filter(status=LEAVING)
            store.write_select(SEGMENT_REMOVED, leaving.values_list("contact_id"), data)
            leaving.delete()
    added = bulk.insert_select(
        SegmentMembership,
        {"workspace_id": workspace_id, "segment_id": segment.pk, "status": MembershipStatus.FILTER, "created_at": now},
        ["contact_id"],
        additions,
    )
    if added:
        # The rows just written (this instant, under the segment's lock) are the additions: their events
        # are read from them rather than from a second run of the filters, which costs as much as the first.
        store.write_select(SEGMENT_ADDED, rows.filter(created_at=now).values_list("contact_id"), data)
    return _finish(segment, added, removed, time.perf_counter() - started)


def _finish(segment: Segment, added: int, removed: int, seconds: float) -> RebuildResult:
    members = SegmentMembership.objects.filter(segment_id=segment.pk, status__in=MEMBER_STATUSES).count()
    now = timezone.now()
    Segment.objects.filter(pk=segment.pk).update(member_count=members, rebuilt_at=now, rebuild_seconds=seconds)
    SegmentCountDay.objects.update_or_create(segment_id=segment.pk, day=now.date(), defaults={"members": members})
    return RebuildResult(segment.pk, added, removed, members, seconds)


def segment_refresh_contacts(contact_ids: Iterable[int], *, principal: Principal) -> dict[int, tuple[int, int]]:
    """Re-evaluate every segment for the given contacts only (those that just changed).

    Return {segment id: (added, removed)} of the segments that changed.

    Costs one query per segment and batch of contacts, whatever the workspace's size: the
    incremental refresh that keeps memberships fresh within seconds of a change.
    """
    _require(principal, "segments:edit")
    ids = sorted({int(pk) for pk in contact_ids})
    if not ids:
        return {}
    known, now = lookups(), timezone.now()
    changes: dict[int, tuple[int, int]] = {}
    for segment_id in rebuild_order(dependencies()):
        with _atomic():
            segment = Segment.objects.select_for_update().filter(pk=segment_id).first()
            if segment is None:
                continue
            _without_jit()
            started, added, removed = time.perf_counter(), 0, 0
            for start in range(0, len(ids), REFRESH_BATCH):
                batch = ids[start : start + REFRESH_BATCH]
                condition = condition_of(segment.definition, known=known, now=now, contact_ids=batch)
                a, r = _refresh_batch(segment.pk, condition, batch)
                added, removed = added + a, removed + r
            if added or removed:
                _finish(segment, added, removed, time.perf_counter() - started)
                changes[segment.pk] = (added, removed)
    return changes


def _without_jit() -> None:
    """Turn PostgreSQL's JIT compilation off for the rest of the transaction.

    A refresh's statements read a few thousand rows, but the planner's estimates for the events
    of a list of contacts are high enough to JIT-compile them: 0.1 to 4 s a statement at a million
    contacts, for queries that then run in a tenth of a second.
    """
    connection = connections[require_workspace().db_alias]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def _refresh_batch(segment_id: int, condition, batch: list[int]) -> tuple[int, int]:
    matching = set(contacts_where(condition).filter(bulk.id_in("id", batch)).values_list("id", flat=True))
    current = dict(
        SegmentMembership.objects.filter(bulk.id_in("contact_id", batch), segment_id=segment_id).values_list(
            "contact_id", "status"
        )
    )
    additions = sorted(matching - set(current))
    removals = sorted(c for c, status in current.items() if status == MembershipStatus.FILTER and c not in matching)
    _write_changes(segment_id, additions, MembershipStatus.FILTER, removals)
    return len(additions), len(removals)


def _write_changes(segment_id: int, additions: list[int], status: int, removals: list[int]) -> None:
    workspace_id, now = require_workspace().id, timezone.now()
    if additions:
        bulk.insert(
            SegmentMembership,
            ["workspace_id", "segment_id", "contact_id", "status", "created_at"],
            [(workspace_id, segment_id, c, status, now) for c in additions],
        )
    if removals:
        SegmentMembership.objects.filter(bulk.id_in("contact_id", removals), segment_id=segment_id).delete()
    data = {"segment_id": segment_id}
    store.write(
        [EventRow(type=SEGMENT_ADDED, contact_id=c, data=data, at=now) for c in additions]
        + [EventRow(type=SEGMENT_REMOVED, contact_id=c, data=data, at=now) for c in removals]
    )


def segment_members_add(segment_id: int, contact_ids: Iterable[int], *, principal: Principal, request=None) -> int:
    """Add contacts to a segment by hand: they stay whatever the filters say; return how many became members.

    Ids not in this workspace are skipped. Raise Segment.DoesNotExist for a segment not in it.
    """
    _require(principal, "segments:edit")
    return _manual(principal, segment_id, contact_ids, MembershipStatus.ADDED, request=request)


def segment_members_remove(segment_id: int, contact_ids: Iterable[int], *, principal: Principal, request=None) -> int:
    """Remove contacts from a segment by hand: they stay out whatever the filters say; return how many left it."""
    _require(principal, "segments:edit")
    return _manual(principal, segment_id, contact_ids, MembershipStatus.REMOVED, request=request)


def _manual(principal: Principal, segment_id: int, contact_ids: Iterable[int], status: int, *, request) -> int:
    ids = sorted({int(pk) for pk in contact_ids})
    if len(ids) > MAX_MANUAL:
        raise ValidationError({"ids": [f"at most {MAX_MANUAL} contacts at a time"]})
    with _atomic():
        segment = Segment.objects.select_for_update().get(pk=segment_id)
        found = existing_contact_ids(ids) if ids else []
        current = dict(
            SegmentMembership.objects.filter(segment_id=segment.pk, contact_id__in=found).values_list(
                "contact_id", "status"
            )
        )
        was_member = {c for c, s in current.items() if s in MEMBER_STATUSES}
        # Everyone named gets the manual status (it sticks across rebuilds); events only for real changes.
        SegmentMembership.objects.filter(segment_id=segment.pk, contact_id__in=found).delete()
        workspace_id, now = require_workspace().id, timezone.now()
        bulk.insert(
            SegmentMembership,
            ["workspace_id", "segment_id", "contact_id", "status", "created_at"],
            [(workspace_id, segment.pk, c, status, now) for c in found],
        )
        if status == MembershipStatus.ADDED:
            changed = [c for c in found if c not in was_member]
            code = SEGMENT_ADDED
        else:
            changed = [c for c in found if c in was_member]
            code = SEGMENT_REMOVED
        store.write(EventRow(type=code, contact_id=c, data={"segment_id": segment.pk}, at=now) for c in changed)
        _finish(
            segment, len(changed) if code == SEGMENT_ADDED else 0, len(changed) if code != SEGMENT_ADDED else 0, 0.0
        )
        verb = "added" if status == MembershipStatus.ADDED else "removed"
        _audit(f"segment.members_{verb}", principal=principal, request=request, segment_id=segment.pk,
               count=len(found), changed=len(changed))  # fmt: skip
    return len(changed)


def segment_members_reset(segment_id: int, contact_ids: Iterable[int], *, principal: Principal, request=None) -> int:
    """Forget manual adds and removes of contacts: the filters decide again; return how many were reset."""
    _require(principal, "segments:edit")
    ids = sorted({int(pk) for pk in contact_ids})
    if len(ids) > MAX_MANUAL:
        raise ValidationError({"ids": [f"at most {MAX_MANUAL} contacts at a time"]})
    with _atomic():
        segment = Segment.objects.select_for_update().get(pk=segment_id)
        manual = SegmentMembership.objects.filter(
            segment_id=segment.pk, contact_id__in=ids, status__in=(MembershipStatus.ADDED, MembershipStatus.REMOVED)
        )
        statuses = dict(manual.values_list("contact_id", "status"))
        matching = set(
            contacts_where(condition_of(segment.definition)).filter(id__in=list(statuses)).values_list("id", flat=True)
        )
        stay = [c for c in statuses if c in matching]
        leave = [c for c, status in statuses.items() if c not in matching and status == MembershipStatus.ADDED]
        come_back = [c for c, status in statuses.items() if c in matching and status == MembershipStatus.REMOVED]
        SegmentMembership.objects.filter(segment_id=segment.pk, contact_id__in=stay).update(
            status=MembershipStatus.FILTER
        )
        SegmentMembership.objects.filter(
            segment_id=segment.pk, contact_id__in=[c for c in statuses if c not in matching]
        ).delete()
        now, data = timezone.now(), {"segment_id": segment.pk}
        store.write(
            [EventRow(type=SEGMENT_ADDED, contact_id=c, data=data, at=now) for c in come_back]
            + [EventRow(type=SEGMENT_REMOVED, contact_id=c, data=data, at=now) for c in leave]
        )
        _finish(segment, len(come_back), len(leave), 0.0)
        _audit("segment.members_reset", principal=principal, request=request, segment_id=segment.pk,
               count=len(statuses))  # fmt: skip
    return len(statuses)


# ==============================================================================================
# Freshness: the incremental refresh of changed contacts

REFRESH_EVENTS = 5000  # events read per pass (the change log's page)
# More contacts changed (by their row) than this in one pass: one set-based rebuild of every
# segment is cheaper than re-evaluating them by id.
REFRESH_REBUILD_ABOVE = 20_000
# PostgreSQL hands out event ids and stamps updated_at before the writing transaction commits,
# so a change may become visible after a newer one was read. Positions younger than this are
# read again by the next pass (a repeat is harmless: the refresh is idempotent). SQLite needs
# none: the pass holds the write lock (BEGIN IMMEDIATE), so every earlier writer has committed.
CONCURRENT_COMMIT_MARGIN = datetime.timedelta(seconds=5)


@dataclass(frozen=True)
class RefreshPass:
    """What one pass of segments_refresh_changed did."""

    contacts: int  # contacts re-evaluated (0: nothing had changed)
    changes: dict[int, tuple[int, int]]  # {segment id: (added, removed)}
    last_event_id: int  # the watermark after the pass
    more: bool  # the pass read a full page of events: call again to catch up
    rebuilt: bool = False  # so many contacts changed that every segment was rebuilt instead


def _refresh_state_start() -> SegmentRefreshState:
    """Return the workspace's refresh watermark, creating it at the newest event (now) when missing.

    Called when a segment is created, before its first build, so the changes the build does not
    see are exactly those the refresh reads. Needs no permission of its own: it moves nothing.
    """
    state = SegmentRefreshState.objects.filter().first()
    if state is not None:
        return state
    bulk.insert(
        SegmentRefreshState,
        ["workspace_id", "last_event_id", "changed_since"],
        [(require_workspace().id, last_event_id(), timezone.now())],
        ignore_conflicts=True,  # a concurrent first segment created it
    )
    return SegmentRefreshState.objects.get()


def _anything_changed(state: SegmentRefreshState) -> bool:
    # A cheap look outside the pass's lock; a change it misses is seen by the next pass.
    return bool(events_after(state.last_event_id, limit=1)) or contact_ids_changed_since(state.changed_since).exists()


def segments_refresh_changed(*, principal: Principal) -> RefreshPass:
    """Re-evaluate every segment for the contacts changed since the last pass; move the watermark past them.

    The event store is the change log (every write a filter can see writes an event; writes that
    do not, bump the contact's or its company's updated_at): the changed contacts are those of
    events after the watermark's event id, plus those updated since its time. One pass reads at
    most REFRESH_EVENTS events and applies the refresh and the new watermark in one transaction,
    so a crash neither skips nor repeats a change. Segments' own events (segment.added/removed)
    are not changes: reading them would re-evaluate every contact a pass just moved. Does nothing
    (two indexed reads, no write) in a workspace without segments or without changes.
    """
    _require(principal, "segments:edit")
    state = SegmentRefreshState.objects.filter().first()
    if not Segment.objects.exists():
        return RefreshPass(0, {}, state.last_event_id if state else 0, more=False)
    if state is None:
        # Segments made before the watermark existed: start it now; the full rebuild covers the past.
        with _atomic():
            state = _refresh_state_start()
        return RefreshPass(0, {}, state.last_event_id, more=False)
    if not _anything_changed(state):
        return RefreshPass(0, {}, state.last_event_id, more=False)
    with _atomic():
        state = SegmentRefreshState.objects.select_for_update().get(pk=state.pk)
        read_at = timezone.now()
        rows = events_after(state.last_event_id, limit=REFRESH_EVENTS)
        ids = {who for _, code, _, who in rows if who is not None and code not in SEGMENT_EVENT_CODES}
        updated = list(contact_ids_changed_since(state.changed_since)[: REFRESH_REBUILD_ABOVE + 1])
        rebuilt = len(updated) > REFRESH_REBUILD_ABOVE
        if rebuilt:
            segments_rebuild_all(principal=principal)
            changes: dict[int, tuple[int, int]] = {}
        else:
            ids.update(updated)
            changes = segment_refresh_contacts(ids, principal=principal) if ids else {}
        margin = _commit_margin()
        state.last_event_id = _event_watermark(state.last_event_id, rows, read_at, margin)
        state.changed_since = read_at - margin if margin else read_at
        state.refreshed_at = timezone.now()
        state.save(update_fields=["last_event_id", "changed_since", "refreshed_at"])
    more = len(rows) == REFRESH_EVENTS and state.last_event_id > rows[0][0] - 1
    return RefreshPass(len(ids), changes, state.last_event_id, more=more, rebuilt=rebuilt)


def _commit_margin() -> datetime.timedelta | None:
    """Return how far back the next pass reads again: CONCURRENT_COMMIT_MARGIN on PostgreSQL, None on SQLite."""
    return CONCURRENT_COMMIT_MARGIN if connections[require_workspace().db_alias].vendor == "postgresql" else None


def _event_watermark(current: int, rows: list, read_at: datetime.datetime, margin: datetime.timedelta | None) -> int:
    """Return the new event watermark after reading rows (id, type, at, contact) in id order.

    Without a margin every row read is final. With one (PostgreSQL), the watermark stops at the
    first event written less than margin before the read: an id below it may still be in a
    transaction that has not committed, and must stay above the watermark to be read next time.
    """
    if not rows:
        return current
    if margin is None:
        return rows[-1][0]
    settled = current
    for event_id, _, at, _ in rows:
        if at >= read_at - margin:
            break
        settled = event_id
    return settled
