"""Settings › Stages: the workspace's contact stages, their form, and deleting one.

Thin: the form in, tidings.contacts.actions and .selectors_stages do the work. A stage named in a URL is
read through a selector scoped to request.workspace; another workspace's id answers 404 exactly
like one that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import found, require_permission
from tidings.contacts import actions, selectors_stages
from tidings.contacts.forms import StageForm
from tidings.contacts.views.common import render_page
from tidings.ui.confirm import confirmation_required
from tidings.ui.datatable import Column, DataTable
from tidings.validation import form_add_errors

STAGE_COLUMNS = [
    Column("name", "Name", required=True),
    Column("weight", "Weight"),
    Column("contacts", "Contacts"),
    Column("published", "Status"),
]

DELETE_MESSAGE = "Its contacts are left without a stage. Their timelines keep the stage changes already recorded."


def _url(request, name: str, **kwargs) -> str:
    return reverse(f"contacts:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


@require_permission("contacts:view")
def stage_list(request, workspace_slug):
    """List the workspace's stages by weight, with how many contacts each holds."""
    stages = selectors_stages.stages()
    counts = selectors_stages.stage_contact_counts()
    rows = [{"stage": stage, "contacts": counts.get(stage.id, 0)} for stage in stages]
    can_edit = request.principal.can("contacts:edit")
    empty = {
        "title": "No stages yet",
        "text": "Stages are the steps of your contacts' lifecycle (lead, qualified, customer): a contact is in "
        "at most one, moved by hand, by a campaign or through the API."
        + ("" if can_edit else " A member who can edit contacts adds stages."),
        "actions": [("New stage", _url(request, "stage_create"))] if can_edit else [],
    }
    table = DataTable(columns=STAGE_COLUMNS, query={}, order="weight", rows=rows, id="stages", caption="Stages",
                      noun="stages", row_template="contacts/stages_rows.html", row_actions=can_edit,
                      empty={} if rows else empty)  # fmt: skip
    return render_page(request, "contacts/stages_list.html", {"table": table, "rows": rows})


def _save(request, form: StageForm, stage=None):
    try:
        if stage is None:
            saved = actions.stage_create(form.values(), principal=request.principal, request=request)
        else:
            saved = actions.stage_update(stage.pk, form.values(), principal=request.principal, request=request)
    except ValidationError as error:
        form_add_errors(form, error)
        return render_page(request, "contacts/stages_form.html", {"form": form, "stage": stage}, status=400)
    messages.success(request, f"Stage “{saved.name}” {'created' if stage is None else 'saved'}.")
    return redirect(_url(request, "stage_list"))


@require_permission("contacts:edit")
def stage_create(request, workspace_slug):
    """The form for a new stage."""
    if request.method == "POST":
        form = StageForm(request.POST)
        if form.is_valid():
            return _save(request, form)
        return render_page(request, "contacts/stages_form.html", {"form": form, "stage": None}, status=400)
    return render_page(request, "contacts/stages_form.html", {"form": StageForm(), "stage": None})


@found
@require_permission("contacts:edit")
def stage_edit(request, workspace_slug, stage_id):
    """The form of an existing stage."""
    stage = selectors_stages.stage_get(stage_id)
    if request.method == "POST":
        form = StageForm(request.POST)
        if form.is_valid():
            return _save(request, form, stage)
        return render_page(request, "contacts/stages_form.html", {"form": form, "stage": stage}, status=400)
    return render_page(request, "contacts/stages_form.html", {"form": StageForm.for_stage(stage), "stage": stage})


@require_POST
@found
@require_permission("contacts:edit")
def stage_delete(request, workspace_slug, stage_id):
    """Delete a stage after a confirmation; its contacts are left without a stage."""
    stage = selectors_stages.stage_get(stage_id)
    page = confirmation_required(
        request,
        title=f"Delete the stage “{stage.name}”?",
        message=DELETE_MESSAGE,
        label="Delete stage",
        back=_url(request, "stage_list"),
    )
    if page:
        return page
    cleared = actions.stage_delete(stage.pk, principal=request.principal, request=request)
    messages.success(request, f"Stage “{stage.name}” deleted; {cleared} contact{'s' if cleared != 1 else ''} left it.")
    return redirect(_url(request, "stage_list"))
