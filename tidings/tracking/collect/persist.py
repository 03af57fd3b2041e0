"""The batch write of spooled hits: receipts, visitors, sessions, page.hit events and the traffic counts.

One transaction per region database per batch. A hit whose client event id already has a receipt
in its workspace was persisted before (a spool replayed after a crash, a beacon sent twice) and is
skipped whole: no second event, no second count. Receipts older than RECEIPT_HOURS are pruned.
"""

from __future__ import annotations

import datetime
import time
from collections import defaultdict
from collections.abc import Iterable

from django.db import connections, transaction
from django.utils import timezone

from tidings.accounts.permissions import Principal, system_principal
from tidings.events import store
from tidings.events.models import Visitor
from tidings.tenancy import bulk
from tidings.tenancy.context import ActiveWorkspace, region_db_alias, require_workspace, use_workspace
from tidings.tracking.collect import seams
from tidings.tracking.collect.models import SESSION_GAP_SECONDS, HitReceipt, TrackingSession
from tidings.tracking.event_types import CUSTOM_EVENT, PAGE_HIT

RECEIPT_HOURS = 48
PRUNE_EVERY_SECONDS = 600  # each process prunes a workspace's old receipts at most this often
_last_pruned: dict[int, float] = {}
_GAP = datetime.timedelta(seconds=SESSION_GAP_SECONDS)


def _at(record: dict) -> datetime.datetime:
    # Converted once per record: the receipt, visitor, session, event and counts all ask for it.
    at = record.get("_at")
    if at is None:
        at = record["_at"] = datetime.datetime.fromtimestamp(record["at"], tz=datetime.UTC)
    return at


def _label(*parts: str) -> str | None:
    text = "|".join(parts)
    if text.count("|") != len(parts) - 1:  # a part holds the separator (rare): replace it in that part
        text = "|".join(part.replace("|", "/") for part in parts)
    return text if text.strip("|") else None


def _require(principal: Principal, workspace: ActiveWorkspace) -> None:
    if not isinstance(principal, Principal) or principal.workspace is None:
        raise TypeError("hits are recorded by an explicit principal")
    if getattr(principal.workspace, "id", getattr(principal.workspace, "pk", None)) != workspace.id:
        raise PermissionError("the principal acts in another workspace")
    if not (principal.is_system or "tracking:record" in principal.permissions):
        raise PermissionError("recording hits needs the tracking:record permission")


def _sessions(records: list[dict]) -> dict[str, int]:
    """Assign each profiled record to a session (new or continued); return client id -> session id."""
    by_visitor: dict[int, list[dict]] = defaultdict(list)
    for record in records:
        by_visitor[record["v"]].append(record)
    if not by_visitor:
        return {}
    earliest = min(_at(record) for record in records) - _GAP
    open_sessions: dict[int, TrackingSession] = {}
    # id_in: the batch's ~thousand visitor ids as one parameter, not each resolved by the ORM (~18 ms a batch).
    recent = TrackingSession.objects.filter(bulk.id_in("visitor_id", list(by_visitor)), last_seen_at__gte=earliest)
    for session in recent.order_by("last_seen_at"):
        open_sessions[session.visitor_id] = session  # the latest per visitor wins
    from tidings.tracking.collect.decide import new_visitor_id

    created: dict[int, TrackingSession] = {}
    changed: dict[int, TrackingSession] = {}
    added: dict[int, int] = defaultdict(int)  # hits added to each continued session
    assigned: dict[str, int] = {}
    workspace_id = records[0]["w"]
    for visitor_id, hits in by_visitor.items():
        session = open_sessions.get(visitor_id)
        for record in sorted(hits, key=lambda r: r["at"]):
            at = _at(record)
            if session is None or at - session.last_seen_at > _GAP or session.site_id != record["s"]:
                session = TrackingSession(
                    id=new_visitor_id(), workspace_id=workspace_id, site_id=record["s"], visitor_id=visitor_id,
                    started_at=at, last_seen_at=at, entry_url=record["u"], exit_url=record["u"], hits=1,
                )  # fmt: skip
                created[session.id] = session
            else:
                session.hits += 1
                if at >= session.last_seen_at:
                    session.last_seen_at = at
                    session.exit_url = record["u"]
                if session.id not in created:
                    changed[session.id] = session
                    added[session.id] += 1
            assigned[record["id"]] = session.id
    columns = ["id", "workspace_id", "site_id", "visitor_id", "started_at", "last_seen_at", "entry_url", "exit_url",
               "hits"]  # fmt: skip
    bulk.insert(TrackingSession, columns, [tuple(getattr(s, c) for c in columns) for s in created.values()])
    if changed:
        _update_sessions(list(changed.values()), added)
    return assigned


def _update_sessions(sessions: list[TrackingSession], added: dict[int, int]) -> None:
    """Add each continued session's new hits with one executemany (bulk_update's CASE per row costs ~2 ms a row).

    Increments, not the values read: two processes' flushers may continue one session at once. Rows are
    updated in id order, so two flushers lock them in the same order (no deadlock).
    """
    connection = connections[require_workspace().db_alias]
    adapt = bulk.datetime_adapter(connection)
    table = connection.ops.quote_name(TrackingSession._meta.db_table)
    sql = (
        f"UPDATE {table} SET hits = hits + %s, "  # noqa: S608 (the table name is ours)
        "exit_url = CASE WHEN last_seen_at <= %s THEN %s ELSE exit_url END, "
        "last_seen_at = CASE WHEN last_seen_at <= %s THEN %s ELSE last_seen_at END "
        "WHERE workspace_id = %s AND id = %s"
    )
    rows = []
    for session in sorted(sessions, key=lambda s: s.id):
        seen = adapt(session.last_seen_at)
        rows.append((added[session.id], seen, session.exit_url, seen, seen, session.workspace_id, session.id))
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _event(record: dict, session_id: int | None) -> store.EventRow:
    if record["t"] == "event":
        data = {"site": record["s"], "name": record["n"], "url": record["u"], "sn": session_id}
        return store.EventRow(type=CUSTOM_EVENT, visitor_id=record["v"], at=_at(record), data=data)
    data = {
        "site": record["s"],
        "url": record["u"],
        "ip": record["ip"] or None,
        "sn": session_id,
        "ref": record["rh"] or None,
        "utm": _label(*record["utm"]),
        "ctx": _label(record["d"], record["o"], record["b"], record["cc"]),
    }
    return store.EventRow(type=PAGE_HIT, visitor_id=record["v"], at=_at(record), data=data)


def _traffic_row(record: dict) -> dict:
    source, medium, campaign = record["utm"]
    return {
        "workspace_id": record["w"], "site_id": record["s"], "at": _at(record), "digest": bytes.fromhex(record["g"]),
        "url": record["u"], "referrer_host": record["rh"], "utm_source": source, "utm_medium": medium,
        "utm_campaign": campaign, "device": record["d"], "os": record["o"], "browser": record["b"],
        "country": record["cc"], "is_pageview": record["t"] == "pageview",
    }  # fmt: skip


def hits_record_workspace(records: list[dict], *, principal: Principal) -> int:
    """Persist one workspace's spooled records (in context, inside a transaction); return how many were new.

    Raise TypeError without a principal, PermissionError when it may not record hits here.
    """
    workspace = records[0]["w"]
    active = ActiveWorkspace(id=workspace, slug="", region=records[0]["r"])
    _require(principal, active)
    unique = list({record["id"]: record for record in records}.values())
    # One INSERT ... ON CONFLICT DO NOTHING RETURNING: the receipts actually inserted are the new hits.
    new_ids = set(
        bulk.insert_new(
            HitReceipt,
            ["workspace_id", "client_id", "at"],
            [(workspace, r["id"], _at(r)) for r in unique],
            returning="client_id",
        )  # fmt: skip
    )
    fresh = unique if len(new_ids) == len(unique) else [record for record in unique if record["id"] in new_ids]
    if not fresh:
        return 0
    profiled = [record for record in fresh if record.get("v")]
    if profiled:
        visitors = {record["v"]: _at(record) for record in profiled}
        bulk.insert(
            Visitor, ["id", "workspace_id", "created_at"], [(v, workspace, at) for v, at in visitors.items()],
            ignore_conflicts=True,
        )  # fmt: skip
        sessions = _sessions(profiled)
        # One batch for the store (its default is 1,000 rows): the string dictionary is read once per kind, not
        # once per kind and thousand events (the events themselves are still inserted 1,000 rows a statement).
        store.write((_event(record, sessions.get(record["id"])) for record in profiled), batch_size=len(profiled))
    seams.traffic_count([_traffic_row(record) for record in fresh])
    if time.monotonic() - _last_pruned.get(workspace, 0.0) > PRUNE_EVERY_SECONDS:
        _last_pruned[workspace] = time.monotonic()
        receipts_prune()
    return len(fresh)


def hits_record(records: Iterable[dict]) -> int:
    """Persist spooled records of any workspaces: one transaction per region; return how many were new.

    Acts as the system principal of each workspace: the hits were accepted (site key, origin,
    rate limit, consent) when they came in; this is their delayed write.
    """
    by_region: dict[str, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        by_region[record["r"]][record["w"]].append(record)
    written = 0
    for region, workspaces in by_region.items():
        with transaction.atomic(using=region_db_alias(region)):
            for workspace_id, rows in workspaces.items():
                active = ActiveWorkspace(id=workspace_id, slug="", region=region)
                with use_workspace(active):
                    principal = system_principal(active, reason="tracking:collect")
                    written += hits_record_workspace(rows, principal=principal)
    return written


def receipts_prune(*, now: datetime.datetime | None = None) -> int:
    """Delete the receipts older than RECEIPT_HOURS in the workspace in context; return how many."""
    cutoff = (now or timezone.now()) - datetime.timedelta(hours=RECEIPT_HOURS)
    count, _ = HitReceipt.objects.filter(at__lt=cutoff).delete()
    return count
