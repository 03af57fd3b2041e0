"""Members' pages of data-subject requests: the queue (soonest due first, overdue flagged) and one request.

Thin: forms in, tidings.subject_requests.actions and .selectors do the work. A request of another
workspace answers 404 like a missing one.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import found, require_permission
from tidings.inputs import InvalidInput, parse_id
from tidings.subject_requests import actions, selectors
from tidings.subject_requests.models import RequestKind, RequestSource, RequestStatus
from tidings.ui.datatable import Column, DataTable

QUEUE_LIMIT = 500
QUEUE_COLUMNS = [
    Column("id", "Request", required=True),
    Column("kind", "Kind"),
    Column("status", "Status"),
    Column("source", "From"),
    Column("received", "Received"),
    Column("due", "Due"),
]


def _detail_url(request, request_id: int) -> str:
    return reverse("subject_requests:detail", kwargs={"workspace_slug": request.workspace.slug,
                                                      "request_id": request_id})  # fmt: skip


@require_permission("privacy:view")
def queue(request, workspace_slug):
    """The requests to answer, the soonest due first; ?status=closed|all and ?overdue=1 narrow it."""
    status = request.GET.get("status", "open")
    overdue = request.GET.get("overdue") == "1"
    rows = list(selectors.requests_queue(status=status, overdue=overdue)[:QUEUE_LIMIT])
    now = timezone.now()
    for row in rows:
        setattr(row, "overdue", row.is_open and row.due_at < now)  # noqa: B010 - for the rows
    empty: dict = {
        "title": "No requests here" if status != "open" or overdue else "No open requests",
        "text": "People ask for their data, its correction or its erasure from the preference centre or the public "
        "request form; members record requests made another way from here.",
        "actions": [],
    }
    table = DataTable(columns=QUEUE_COLUMNS, query={}, order="due", rows=rows, id="requests",
                      caption="Data-subject requests", noun="requests", row_template="subject_requests/queue_rows.html",
                      row_actions=False, empty={} if rows else empty)  # fmt: skip
    context = {
        "table": table,
        "rows": rows,
        "counts": selectors.queue_counts(now=now),
        "status": status,
        "overdue": overdue,
        "kinds": RequestKind.choices,
        "can_handle": request.principal.can("privacy:requests"),
    }
    return render(request, "subject_requests/queue.html", context)


@require_POST
@require_permission("privacy:requests")
def record(request, workspace_slug):
    """Record a request a contact made another way (mail, phone), for that contact."""
    try:
        contact_id = parse_id(request.POST.get("contact_id", ""), name="contact_id")
        row = actions.request_receive(request.POST.get("kind", ""), principal=request.principal,
                                      source=RequestSource.OPERATOR, contact_id=contact_id,
                                      details=request.POST.get("details", ""),
                                      verified=request.POST.get("verified") == "1", request=request)  # fmt: skip
    except (ValidationError, InvalidInput) as error:
        messages.error(request, _message(error))
        return redirect(reverse("subject_requests:queue", kwargs={"workspace_slug": workspace_slug}))
    except ObjectDoesNotExist:
        messages.error(request, "No contact of this workspace has this id.")
        return redirect(reverse("subject_requests:queue", kwargs={"workspace_slug": workspace_slug}))
    messages.success(request, f"Request #{row.pk} recorded.")
    return redirect(_detail_url(request, row.pk))


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError) and hasattr(error, "message_dict"):
        return " ".join(f"{field}: {' '.join(texts)}" for field, texts in error.message_dict.items())
    return str(error) if isinstance(error, InvalidInput) else "The request is not valid."


@found
@require_permission("privacy:view")
def detail(request, workspace_slug, request_id: int):
    """One request: its facts, what the subject asked, its history, and what a member can do next."""
    row = selectors.request_get(request_id)
    can_handle = request.principal.can("privacy:requests")
    context = {
        "row": row,
        "details": selectors.request_details(row) if can_handle else "",
        "history": selectors.request_history(row),
        "can_handle": can_handle and row.is_open,
        "overdue": row.is_open and row.due_at < timezone.now(),
        "statuses": RequestStatus,
        "can_package": row.kind == RequestKind.ACCESS
        and row.contact_id is not None
        and request.principal.can("privacy:export"),
    }
    return render(request, "subject_requests/detail.html", context)


_STEPS = {
    "verify": actions.request_verify,
    "resend": actions.request_resend_verification,
    "approve": actions.request_approve,
    "start": actions.request_start,
    "complete": actions.request_complete,
}


@require_POST
@found
@require_permission("privacy:requests")
def act(request, workspace_slug, request_id: int):
    """Move a request along its lifecycle: verify, approve, start, extend, deny, complete."""
    step = request.POST.get("step", "")
    try:
        if step in _STEPS:
            _STEPS[step](request_id, principal=request.principal, request=request)
        elif step == "extend":
            days = request.POST.get("days", "")
            actions.request_extend(request_id, days=int(days) if days.isdigit() and len(days) < 4 else -1,
                                   reason=request.POST.get("reason", ""), principal=request.principal,
                                   request=request)  # fmt: skip
        elif step == "deny":
            actions.request_deny(request_id, reason=request.POST.get("reason", ""), principal=request.principal,
                                 request=request)  # fmt: skip
        else:
            messages.error(request, "Choose what to do with the request.")
            return redirect(_detail_url(request, request_id))
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, "The request is updated.")
    return redirect(_detail_url(request, request_id))


@found
@require_permission("privacy:export")
def package(request, workspace_slug, request_id: int) -> HttpResponse:
    """Download the access package of an access request (JSON), built from every store as it is now."""
    row = selectors.request_get(request_id)
    data = selectors.access_package(row)
    if data is None:
        return render(request, "subject_requests/no_package.html", status=404)
    response = JsonResponse({"request": row.pk, "data": data}, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="access-request-{row.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response
