"""Reads of data-subject requests: the queue, one request, its history, and a subject's access package."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from tidings.audit.selectors import entries_for_target
from tidings.privacy.registry import export_subject
from tidings.privacy.vault import DecryptionFailed, KeyShredded, keyring
from tidings.subject_requests.models import OPEN_STATUSES, RequestKind, RequestStatus, SubjectRequest


def requests_queue(*, status: str = "open", kind: str = "", overdue: bool = False,
                   now: datetime.datetime | None = None) -> QuerySet[SubjectRequest]:  # fmt: skip
    """Return the workspace's requests, the soonest due first; status "open" (default), "closed", "all" or one."""
    rows = SubjectRequest.objects.all()
    if status == "open":
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif status == "closed":
        rows = rows.exclude(status__in=OPEN_STATUSES)
    elif status in RequestStatus.values:
        rows = rows.filter(status=status)
    if kind in RequestKind.values:
        rows = rows.filter(kind=kind)
    if overdue:
        rows = rows.filter(status__in=OPEN_STATUSES, due_at__lt=now or timezone.now())
    return rows.order_by("due_at", "id")


@dataclass(frozen=True)
class QueueCounts:
    open: int
    due_within_week: int
    overdue: int


def queue_counts(*, now: datetime.datetime | None = None) -> QueueCounts:
    now = now or timezone.now()
    open_rows = SubjectRequest.objects.filter(status__in=OPEN_STATUSES)
    return QueueCounts(
        open=open_rows.count(),
        due_within_week=open_rows.filter(due_at__gte=now, due_at__lt=now + datetime.timedelta(days=7)).count(),
        overdue=open_rows.filter(due_at__lt=now).count(),
    )


def request_get(request_id: int) -> SubjectRequest:
    return SubjectRequest.objects.get(pk=request_id)


def awaiting_confirmation(request_id: int) -> bool:
    """Whether this workspace has request_id waiting for its subject's confirmation link (says nothing more)."""
    return SubjectRequest.objects.filter(pk=request_id, status__in=(RequestStatus.RECEIVED, RequestStatus.UNVERIFIED),
                                         code_hash__isnull=False).exists()  # fmt: skip


def contact_requests(contact_id: int) -> QuerySet[SubjectRequest]:
    return SubjectRequest.objects.filter(contact_id=contact_id).order_by("-received_at", "-id")


def request_details(row: SubjectRequest) -> str:
    """What the subject asked to have rectified, in clear for a member who handles the request ("" if none)."""
    if row.details_enc is None or row.contact_id is None:
        return ""
    try:
        return keyring().data_key(row.contact_id).decrypt_text("subject_request", row.details_enc)
    except (KeyShredded, DecryptionFailed):
        return ""


def request_history(row: SubjectRequest) -> list:
    return list(entries_for_target("subject_request", row.pk))


def access_package(row: SubjectRequest) -> dict[str, list[dict]] | None:
    """Return everything held about the request's contact (every registered store), or None when it has none."""
    if row.kind != RequestKind.ACCESS or row.contact_id is None:
        return None
    return export_subject(row.contact_id)


def export_requests(model, contact_id: int) -> list[dict]:
    """The contact's own requests, for its access package (no codes, no hashes)."""
    return [
        {"id": row.pk, "kind": row.kind, "status": row.status, "source": row.source,
         "received_at": row.received_at.isoformat(), "due_at": row.due_at.isoformat(),
         "closed_at": row.closed_at.isoformat() if row.closed_at else None}
        for row in SubjectRequest.objects.filter(contact_id=contact_id).order_by("id")
    ]  # fmt: skip


def workspaces_with_open_requests() -> list[int]:
    """Return the ids of every workspace, in every region, with an open request (the overdue job's round).

    Crosses workspaces on purpose, through the one named door for that; ids only.
    """
    from tidings.tenancy.sweeps import dangerously_sweep_workspaces

    with dangerously_sweep_workspaces() as across:
        found = {
            pk
            for rows in across(SubjectRequest)
            for pk in rows.filter(status__in=OPEN_STATUSES).order_by().values_list("workspace_id", flat=True).distinct()
        }
    return sorted(found)
