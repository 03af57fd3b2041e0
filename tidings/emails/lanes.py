"""Who runs a send and how far it got: the runners' leases, checkpoints and counts on the Send row.

A send in one lane (Send.lanes == {}) keeps its runner, lease and checkpoint in the Send's own columns. A
broadcast started with TIDINGS_EMAIL_SEND_LANES = n > 1 is sent in n lanes (decision 0036), lane k walking
the recipients whose contact id % n == k; each lane's state is an entry of the Send's lanes field:

    {"n": n, "<k>": {"runner": ..., "lease": <ISO time>, "checkpoint": <last contact id>, "done": true}}

Every write here locks the Send row (select_for_update; SQLite runs IMMEDIATE transactions): a batch adds
its counts and moves its lane's checkpoint and lease in one locked update, and taking a lane is a locked
read-check-write. Send.lease_until holds the latest lease of any lane, so the retry of deferred messages,
which takes the send's lease, never runs beside a live lane. Each lane has its own journal; a lane's
recovery reads that one only, the retry (no lane) all of them. The send finishes when its last lane does.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tidings.emails.journal import Journal
from tidings.emails.models import Send, SendStatus
from tidings.tenancy.context import require_workspace

LEASE = datetime.timedelta(minutes=2)
LANE_DONE = "lane_done"  # a lane's run that walked its slice while other lanes still run
LANE_BUSY = "lane_busy"  # a lane's run that found its lane held by another runner, or done


def atomic():
    """A transaction on the current workspace's database (the run's and the retry's writes)."""
    return transaction.atomic(using=require_workspace().db_alias)


def lane_total(send: Send) -> int:
    """Return how many lanes send is sent in (1: no lanes, its runner's state is in its own columns)."""
    return max(1, int((send.lanes or {}).get("n", 1)))


def new_send_lanes() -> dict:
    """Return the lanes field of a broadcast starting now: {"n": TIDINGS_EMAIL_SEND_LANES}, {} for one lane."""
    n = int(getattr(django_settings, "TIDINGS_EMAIL_SEND_LANES", 1) or 1)
    return {"n": n} if n > 1 else {}


# ==============================================================================================
# Counts and checkpoints


def bump_counts(send_id: int, changes: Mapping[str, int], *, lane: tuple[int, dict] | None = None, **fields) -> None:
    """Add changes to the send's counts (and set fields); only the runners write counts, row locked.

    lane: (k, state) merged into lane k's state (a send in lanes); a lease in it also moves the send's
    lease_until on (the latest lease of any lane).
    """
    send = Send.objects.select_for_update().get(pk=send_id)
    counts = dict(send.counts or {})
    for key, n in changes.items():
        if n:
            counts[key] = counts.get(key, 0) + n
    if lane is not None:
        lanes = dict(send.lanes or {})
        lanes[str(lane[0])] = {**(lanes.get(str(lane[0])) or {}), **lane[1]}
        fields["lanes"] = lanes
        if lane[1].get("lease"):
            until = datetime.datetime.fromisoformat(lane[1]["lease"])
            fields["lease_until"] = max(until, send.lease_until) if send.lease_until else until
    Send.objects.filter(pk=send_id).update(counts=counts, **fields)


def advance(send_id: int, counts: Mapping[str, int], *, lane: int | None, checkpoint: int,
            until: datetime.datetime) -> None:  # fmt: skip
    """Add a sent batch's counts; move the runner's checkpoint and lease on (its lane's in a send in lanes).

    Call inside a transaction."""
    if lane is None:
        bump_counts(send_id, counts, checkpoint_contact_id=checkpoint, lease_until=until)
    else:
        bump_counts(send_id, counts, lane=(lane, {"checkpoint": checkpoint, "lease": until.isoformat()}))


def runner_state(send_id: int, lane: int | None) -> dict | None:
    """Return the send's status, and the runner and checkpoint of lane (the send's own without one); None
    when the send is gone."""
    state = Send.objects.filter(pk=send_id).values("status", "runner", "checkpoint_contact_id", "lanes").first()
    if state is not None and lane is not None:
        mine = (state["lanes"] or {}).get(str(lane)) or {}
        state.update(runner=mine.get("runner", ""), checkpoint_contact_id=int(mine.get("checkpoint") or 0))
    return state


# ==============================================================================================
# Leases


def take(send_id: int, runner: str) -> bool:
    """Take the lease of a send in one lane when it has none, or it lapsed; return whether taken."""
    now = timezone.now()
    with atomic():
        taken = Send.objects.filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(runner=runner),
            pk=send_id, status__in=[SendStatus.QUEUED, SendStatus.RUNNING],
        ).update(status=SendStatus.RUNNING, runner=runner, lease_until=now + LEASE)  # fmt: skip
        if taken:
            Send.objects.filter(pk=send_id, started_at__isnull=True).update(started_at=now)
    return bool(taken)


def take_lane(send_id: int, runner: str, lane: int) -> str:
    """Take lane's lease of a send in lanes: "taken", LANE_BUSY, the send's status when it is paused or
    cancelled, or FINISHED when every lane is done and this call finished the send (its last lane finished
    while it was paused, say)."""
    now = timezone.now()
    with atomic():
        send = Send.objects.select_for_update().filter(pk=send_id, status__in=[SendStatus.QUEUED,
                                                                               SendStatus.RUNNING]).first()  # fmt: skip
        if send is None:  # paused, cancelled (that status is the answer) or finished (by another lane's run)
            status = Send.objects.filter(pk=send_id).values_list("status", flat=True).first()
            return LANE_BUSY if status in (None, SendStatus.FINISHED) else str(status)
        lanes = dict(send.lanes or {})
        state = dict(lanes.get(str(lane)) or {})
        if state.get("done"):
            if all((lanes.get(str(k)) or {}).get("done") for k in range(lane_total(send))):
                Send.objects.filter(pk=send_id).update(status=SendStatus.FINISHED, finished_at=now,
                                                       lease_until=None, runner="")  # fmt: skip
                return SendStatus.FINISHED
            return LANE_BUSY
        lease = state.get("lease")
        if lease and datetime.datetime.fromisoformat(lease) >= now and state.get("runner") != runner:
            return LANE_BUSY
        until = now + LEASE
        lanes[str(lane)] = {**state, "runner": runner, "lease": until.isoformat()}
        fields: dict = {"status": SendStatus.RUNNING, "lanes": lanes,
                        "lease_until": max(until, send.lease_until) if send.lease_until else until}  # fmt: skip
        if send.started_at is None:
            fields["started_at"] = now
        Send.objects.filter(pk=send_id).update(**fields)
    return "taken"


def finish(send_id: int, runner: str, lane: int | None) -> str:
    """The runner walked all its recipients: finish the send (one lane), or mark its lane done, the last
    lane finishing the send. Return FINISHED or LANE_DONE (RUNNING: the lane's lease was lost)."""
    if lane is not None:
        return _finish_lane(send_id, runner, lane)
    with atomic():
        Send.objects.filter(pk=send_id, runner=runner).update(
            status=SendStatus.FINISHED, finished_at=timezone.now(), lease_until=None, runner=""
        )
    return SendStatus.FINISHED


def _finish_lane(send_id: int, runner: str, lane: int) -> str:
    """Mark lane done; the last lane finishes the send. Return FINISHED or LANE_DONE (RUNNING: lease lost)."""
    now = timezone.now()
    with atomic():
        send = Send.objects.select_for_update().get(pk=send_id)
        lanes = dict(send.lanes or {})
        state = dict(lanes.get(str(lane)) or {})
        if state.get("runner") != runner:
            return SendStatus.RUNNING
        lanes[str(lane)] = {**state, "done": True, "runner": "", "lease": None}
        fields: dict = {"lanes": lanes, "lease_until": _other_leases(lanes, lane, now)}
        finished = all((lanes.get(str(k)) or {}).get("done") for k in range(lane_total(send)))
        if finished and send.status == SendStatus.RUNNING:
            fields.update(status=SendStatus.FINISHED, finished_at=now, lease_until=None, runner="")
        Send.objects.filter(pk=send_id).update(**fields)
    return SendStatus.FINISHED if finished and send.status == SendStatus.RUNNING else LANE_DONE


def _other_leases(lanes: Mapping, lane: int, now: datetime.datetime) -> datetime.datetime | None:
    """Return the latest live lease of the lanes other than lane (the send's lease_until once lane lets go)."""
    leases = [datetime.datetime.fromisoformat(state["lease"]) for key, state in lanes.items()
              if key not in ("n", str(lane)) and isinstance(state, dict) and state.get("lease")]  # fmt: skip
    live = [lease for lease in leases if lease >= now]
    return max(live) if live else None


def release(send_id: int, runner: str, lane: int | None) -> None:
    """Let go of the runner's lease (its lane's in a send in lanes): a resume can take it at once."""
    if lane is None:
        Send.objects.filter(pk=send_id, runner=runner).update(lease_until=None, runner="")
        return
    with atomic():
        send = Send.objects.select_for_update().get(pk=send_id)
        lanes = dict(send.lanes or {})
        state = dict(lanes.get(str(lane)) or {})
        if state.get("runner") != runner:
            return
        lanes[str(lane)] = {**state, "runner": "", "lease": None}
        Send.objects.filter(pk=send_id).update(lanes=lanes, lease_until=_other_leases(lanes, lane, timezone.now()))


# ==============================================================================================
# Journals


def journals(send: Send, lane: int | None) -> tuple[tuple[int, int] | None, list[Journal]]:
    """Return (the lane part (k, n) whose claims to settle, or None for all, the journals that tell them).

    lane: that lane's own journal (a send in lanes). A send in lanes without a lane (a retry, once the walk
    is over) is settled from every journal of the send.
    """
    n = lane_total(send)
    if n > 1 and lane is not None:
        return (lane, n), [Journal(send.workspace_id, send.pk, lane)]
    found = [Journal(send.workspace_id, send.pk)]
    if n > 1:
        found += [Journal(send.workspace_id, send.pk, k) for k in range(n)]
    return None, found


def read_journals(found: list[Journal]) -> tuple[bool, dict[int, tuple]]:
    """Return (all trusted, lines) over several journals (a send in lanes, settled as a whole by a retry)."""
    if len(found) == 1:
        return found[0].read()
    trusted, seen = True, False
    lines: dict[int, tuple] = {}
    for journal in found:
        if not journal.path.exists():
            continue
        ok, read = journal.read()
        seen, trusted = True, trusted and ok
        for contact_id, line in read.items():
            if lines.get(contact_id, ("",))[0] not in ("s", "f", "d"):  # an outcome is final
                lines[contact_id] = line
    return seen and trusted, lines
