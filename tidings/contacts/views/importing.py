"""Contact imports: upload, column mapping, progress, errors, resume and cancel."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import found, require_permission
from tidings.contacts import actions, imports, selectors
from tidings.contacts.forms import (
    GuardPolicyForm,
    ImportMappingForm,
    ImportUploadForm,
)
from tidings.contacts.models import ImportStatus
from tidings.contacts.views.common import render_page, slug_of
from tidings.validation import error_message as _message
from tidings.validation import form_add_errors

# ==============================================================================================
# Imports


@require_permission("contacts:import")
def import_upload(request, workspace_slug):
    """Upload a CSV file; the next step maps its columns."""
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.import_create(form.cleaned_data["file"], principal=request.principal, request=request)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            return redirect("contacts:import_map", workspace_slug=slug_of(request), import_id=job.id)
    context = {"form": form, "max_mb": imports.max_upload_bytes() // (1024 * 1024)}
    return render_page(request, "contacts/import_upload.html", context, status=400 if form.errors else 200)


@require_permission("contacts:import")
def import_list(request, workspace_slug):
    """List recent imports; members who manage settings choose the sensitive-data policy here."""
    settings_row = selectors.contact_settings()
    context = {
        "imports": selectors.imports_recent(),
        "policy_form": GuardPolicyForm(initial={"guard_policy": settings_row.guard_policy}),
        "can_manage": request.principal.can("settings:manage"),
    }
    return render_page(request, "contacts/import_list.html", context)


@require_POST
@require_permission("settings:manage")
def import_policy(request, workspace_slug):
    form = GuardPolicyForm(request.POST)
    if form.is_valid():
        actions.contact_settings_update(guard_policy=form.cleaned_data["guard_policy"], principal=request.principal,
                                        request=request)  # fmt: skip
        messages.success(request, "Sensitive-data policy saved; it applies to imports started from now on.")
    else:
        messages.error(request, "Choose a policy.")
    return redirect("contacts:import_list", workspace_slug=slug_of(request))


@found
@require_permission("contacts:import")
def import_map(request, workspace_slug, import_id):
    """Map columns to fields (auto-mapped by header), with a preview, then choose lawful basis and tags."""
    job = selectors.import_get(import_id)
    if job.status != ImportStatus.UPLOADED:
        return redirect("contacts:import_detail", workspace_slug=slug_of(request), import_id=job.id)
    form = ImportMappingForm(
        request.POST or None, headers=job.headers, targets=imports.mapping_targets(), initial_mapping=job.mapping
    )
    if request.method == "POST" and form.is_valid():
        try:
            imports.import_configure(
                job.id,
                mapping=form.mapping(),
                lawful_basis=form.cleaned_data["lawful_basis"],
                tags=form.tag_list(),
                overwrite_with_blank=form.cleaned_data["overwrite_with_blank"],
                principal=request.principal,
                request=request,
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            return redirect("contacts:import_detail", workspace_slug=slug_of(request), import_id=job.id)
    rows = imports.preview(job)
    context = {
        "job": job,
        "form": form,
        "columns": [
            (form[name], [row[i] if i < len(row) else "" for row in rows]) for i, name in enumerate(form.columns)
        ],
        "policy": selectors.contact_settings().get_guard_policy_display(),
    }
    return render_page(request, "contacts/import_map.html", context, status=400 if form.errors else 200)


@found
@require_permission("contacts:import")
def import_detail(request, workspace_slug, import_id):
    """Show an import's progress; htmx polls the progress part while it is queued or running."""
    job = selectors.import_get(import_id)
    context = {"job": job, "flagged": job.flagged[:50], "errors": job.errors[:50]}
    template = "contacts/_import_progress.html" if request.htmx else "contacts/import_detail.html"
    return render_page(request, template, context)


@found
@require_permission("contacts:import")
def import_errors(request, workspace_slug, import_id):
    """Download an import's row outcomes as CSV: lines and messages, with the original rows while the file is kept."""
    job, text = imports.import_errors_download(import_id, principal=request.principal, request=request)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.id}-errors.csv"'
    return response


@require_POST
@found
@require_permission("contacts:import")
def import_resume(request, workspace_slug, import_id):
    selectors.import_get(import_id)
    try:
        imports.import_resume(import_id, principal=request.principal, request=request)
    except ValidationError as error:
        messages.error(request, _message(error))
    return redirect("contacts:import_detail", workspace_slug=slug_of(request), import_id=import_id)


@require_POST
@found
@require_permission("contacts:import")
def import_cancel(request, workspace_slug, import_id):
    selectors.import_get(import_id)
    try:
        imports.import_cancel(import_id, principal=request.principal, request=request)
    except ValidationError as error:
        messages.error(request, _message(error))
    return redirect("contacts:import_detail", workspace_slug=slug_of(request), import_id=import_id)
