"""Pages of the privacy centre: retention, records of processing (page and exports), recipients and transfers.

Thin: forms in, tidings.privacy_centre.actions and .selectors do the work. A recipient named in
a URL is read through a selector scoped to request.workspace; one of another workspace answers
404 exactly like one that does not exist.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import require_permission
from tidings.accounts.permissions import require
from tidings.consent import selectors as consent
from tidings.privacy_centre import actions, selectors
from tidings.privacy_centre.forms import RecipientForm, RetentionForm
from tidings.ui.confirm import confirmation_required
from tidings.validation import error_message, form_add_errors

AGGREGATES_SHOWN = 30
TRANSFERS_SHOWN = 50


def _url(request, name: str) -> str:
    return reverse(f"privacy_centre:{name}", kwargs={"workspace_slug": request.workspace.slug})


@require_permission("privacy:view")
def retention(request, workspace_slug):
    """The retention period of each data class, what is kept beyond it, and the latest aggregates."""
    rules = selectors.retention_rules()
    form = RetentionForm(request.POST or None, rules=rules)
    status = 200
    if request.method == "POST":
        require(request.principal, "privacy:manage")  # viewing needs privacy:view, saving more
        if form.is_valid():
            try:
                for rule in rules:
                    if rule.data_class in form.cleaned_data:
                        days = form.cleaned_data[rule.data_class]
                        if days != rule.days:
                            actions.retention_rule_set(rule.data_class, days, principal=request.principal,
                                                       request=request)  # fmt: skip
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                messages.success(request, "Retention periods saved; the daily job applies them.")
                return redirect(_url(request, "retention"))
        status = 400
    context = {
        "rules": rules,
        "form": form,
        "can_manage": request.principal.can("privacy:manage"),
        "aggregates": list(selectors.retention_aggregates()[:AGGREGATES_SHOWN]),
    }
    return render(request, "privacy_centre/retention.html", context, status=status)


@require_POST
@require_permission("privacy:manage")
def retention_run(request, workspace_slug):
    """Queue this workspace's retention run now (the daily job's task), after a confirmation."""
    page = confirmation_required(
        request,
        title="Run retention now?",
        message="Rows older than each period are deleted now, as the daily job would; only counts are kept.",
        label="Run retention now",
        back=_url(request, "retention"),
    )
    if page:
        return page
    actions.retention_run_request(principal=request.principal, request=request)
    messages.success(request, "Retention run queued: it deletes in the background and writes each class to the "
                              "audit log.")  # fmt: skip
    return redirect(_url(request, "retention"))


@require_permission("privacy:view")
def records(request, workspace_slug):
    """The workspace's records of processing (GDPR art. 30), with links to download them."""
    return render(request, "privacy_centre/records.html", {"records": selectors.records_of_processing()})


def _download(body: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_permission("privacy:view")
def records_json(request, workspace_slug):
    data = selectors.records_of_processing()
    body = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
    return _download(body, "application/json", f"records-of-processing-{request.workspace.slug}.json")


@require_permission("privacy:view")
def records_csv(request, workspace_slug):
    body = selectors.records_csv(selectors.records_of_processing())
    return _download(body, "text/csv; charset=utf-8", f"records-of-processing-{request.workspace.slug}.csv")


def _recipients_page(request, *, form=None, status=200):
    listed = list(selectors.recipients())
    log = list(selectors.transfers()[:TRANSFERS_SHOWN])
    names = {r.pk: r.name for r in listed}
    context = {
        "recipients": listed,
        "abroad": {r.pk for r in listed if selectors.is_transfer_abroad(r, str(request.workspace.region))},
        "transfers": [(names.get(t.recipient_id, f"#{t.recipient_id}"), t) for t in log],
        "form": form or RecipientForm(purposes=consent.purposes()),
        "can_manage": request.principal.can("privacy:manage"),
    }
    return render(request, "privacy_centre/recipients.html", context, status=status)


@require_permission("privacy:view")
def recipients(request, workspace_slug):
    """The register of recipients (sub-processors, integrations, webhooks) and the latest transfers."""
    return _recipients_page(request)


def _cleaned(form) -> dict:
    return dict(form.cleaned_data)


@require_POST
@require_permission("privacy:manage")
def recipient_create(request, workspace_slug):
    form = RecipientForm(request.POST, purposes=consent.purposes())
    if form.is_valid():
        try:
            actions.recipient_create(principal=request.principal, request=request, **_cleaned(form))
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, "Recipient added to the register.")
            return redirect(_url(request, "recipients"))
    return _recipients_page(request, form=form, status=400)


def _recipient(recipient_id: int):
    try:
        return selectors.recipient_get(recipient_id)
    except ObjectDoesNotExist as error:
        raise Http404("Not found.") from error


@require_permission("privacy:manage")
def recipient_edit(request, workspace_slug, recipient_id):
    recipient = _recipient(recipient_id)
    status = 200
    if request.method == "POST":
        form = RecipientForm(request.POST, purposes=consent.purposes())
        if form.is_valid():
            try:
                actions.recipient_update(recipient.pk, principal=request.principal, request=request, **_cleaned(form))
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                messages.success(request, "Recipient saved.")
                return redirect(_url(request, "recipients"))
        status = 400
    else:
        names = ("name", "kind", "country", "safeguard", "purposes", "categories", "description", "active")
        initial = {name: getattr(recipient, name) for name in names}
        form = RecipientForm(initial=initial, purposes=consent.purposes())
    return render(request, "privacy_centre/recipient_edit.html", {"recipient": recipient, "form": form}, status=status)


@require_POST
@require_permission("privacy:manage")
def recipient_delete(request, workspace_slug, recipient_id):
    recipient = _recipient(recipient_id)
    page = confirmation_required(
        request,
        title=f"Remove “{recipient.name}” from the register?",
        message="A recipient that transfers name stays in the register, inactive: the log keeps naming it.",
        label="Remove recipient",
        back=_url(request, "recipients"),
    )
    if page:
        return page
    try:
        actions.recipient_delete(recipient.pk, principal=request.principal, request=request)
    except ValidationError as error:
        messages.error(request, error_message(error))
    else:
        messages.success(request, "Recipient removed (kept, inactive, when transfers name it).")
    return redirect(_url(request, "recipients"))
