"""The forms pages: the list, a new form, the builder (settings, fields, actions, live preview, embed codes),
and a form's results with their CSV export.

Thin: Django forms in, tidings.forms.actions and .selectors do the work. The builder's field and
action changes answer htmx with the builder's panel (fields, actions and preview), and a plain post
with a redirect. A form named in a URL is read through a selector scoped to request.workspace;
another workspace's id answers 404 exactly like one that does not exist.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import found, require_permission
from tidings.accounts.selectors import members_of
from tidings.consent import selectors as consent_selectors
from tidings.contacts import selectors_fields as contacts_fields
from tidings.emails import selectors_sending as emails_selectors
from tidings.forms import actions, selectors
from tidings.forms.forms import ActionForm, FieldForm, FormSettingsForm
from tidings.inputs import InvalidInput, parse_int
from tidings.segments import selectors as segments_selectors
from tidings.ui.confirm import confirmation_required
from tidings.ui.datatable import Column, DataTable
from tidings.validation import error_fields, form_add_errors

FORM_COLUMNS = [
    Column("name", "Name", required=True),
    Column("alias", "Alias"),
    Column("published", "Status"),
    Column("submissions", "Submissions"),
]


def _url(request, name: str, **kwargs) -> str:
    return reverse(f"forms:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


def _can(request) -> dict[str, bool]:
    principal = request.principal
    return {"edit": principal.can("forms:edit"), "results": principal.can("forms:results")}


@require_permission("forms:view")
def form_list(request, workspace_slug):
    """List the workspace's forms by name, with their number of submissions."""
    rows = selectors.forms_with_counts()
    can = _can(request)
    empty = {
        "title": "No forms yet",
        "text": "Build a form for your pages: it creates contacts, records their consent with proof and can "
        "send a double opt-in confirmation." + ("" if can["edit"] else " A member who can edit forms builds them."),
        "actions": [("New form", _url(request, "create"))] if can["edit"] else [],
    }
    table = DataTable(columns=FORM_COLUMNS, query={}, order="name", rows=list(rows), id="forms", caption="Forms",
                      noun="forms", row_template="forms/list_rows.html", row_actions=False,
                      empty={} if rows else empty)  # fmt: skip
    return render(request, "forms/list.html", {"table": table, "rows": rows, "can": can})


@require_permission("forms:edit")
def form_create(request, workspace_slug):
    """The settings of a new form; saving creates it (unpublished unless ticked) and opens the builder."""
    form = FormSettingsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = actions.form_create(principal=request.principal, request=request, **form.cleaned_data)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, f"Form “{created.name}” created: add its fields.")
            return redirect(_url(request, "detail", form_id=created.pk))
    status = 400 if request.method == "POST" else 200
    return render(request, "forms/create.html", {"form": form}, status=status)


def _field_form(data=None, initial=None) -> FieldForm:
    known = contacts_fields.fields_by_alias()
    contact_fields = [
        (alias, f"{field.label} ({alias})") for alias, field in known.items() if field.archived_at is None
    ]
    company_fields = [(f"company:{alias}", f"Company: {field.label}")
                      for alias, field in contacts_fields.fields_by_alias("company").items()
                      if field.archived_at is None]  # fmt: skip
    purposes = [(p.key, p.name) for p in consent_selectors.purposes()]
    return FieldForm(data, initial=initial, contact_fields=sorted(contact_fields) + sorted(company_fields),
                     purposes=purposes)  # fmt: skip


def _action_form(request, data=None) -> ActionForm:
    segments = [(str(s.pk), s.name) for s in segments_selectors.segments_list()[:500]]
    members = [(str(m.user_id), m.user.email) for m in members_of(request.workspace)]
    purposes = [(p.key, p.name) for p in consent_selectors.purposes()]
    emails = emails_selectors.template_email_choices()
    return ActionForm(data, segments=segments, members=members, purposes=purposes, emails=emails,
                      initial={"purpose": "marketing_email"})  # fmt: skip


def _builder_context(request, form, *, field_form=None, action_form=None, settings_form=None, errors=None) -> dict:
    base = str(settings.TIDINGS_BASE_URL).rstrip("/")
    slug = request.workspace.slug
    segment_names = {str(s.pk): s.name for s in segments_selectors.segments_list()[:500]}
    return {
        "form": form,
        "fields": list(enumerate(form.fields)),
        "actions": [
            (n, action, segment_names.get(str(action.get("segment_id")), "")) for n, action in enumerate(form.actions)
        ],  # fmt: skip
        "field_form": field_form or _field_form(),
        "action_form": action_form or _action_form(request),
        "settings_form": settings_form or FormSettingsForm.for_form(form),
        "preview": selectors.render_form(form),
        "builder_errors": errors or [],
        "embed_script": f'<script src="{base}/m/{slug}/form/generate.js?id={form.pk}"></script>',
        "embed_iframe": (
            f'<iframe src="{base}/m/{slug}/form/{form.pk}" width="100%" height="600" title="{form.name}"></iframe>'
        ),  # fmt: skip
        "embed_html": str(selectors.render_form(form)),
        "can": _can(request),
    }


def _builder(request, form, *, status=200, **kwargs):
    context = _builder_context(request, form, **kwargs)
    template = "forms/_builder.html" if getattr(request, "htmx", False) else "forms/builder.html"
    return render(request, template, context, status=status)


@found
@require_permission("forms:view")
def form_detail(request, workspace_slug, form_id):
    """The builder: a form's settings, fields (add, edit, move, remove), submit actions, a live preview and its
    embed codes. Members without forms:edit see it read-only."""
    return _builder(request, selectors.form_get(form_id))


def _flat_errors(error: ValidationError) -> list[str]:
    return [f"{key}: {' '.join(messages)}" for key, messages in error_fields(error).items()]


def _save_fields(request, form, fields, *, field_form=None):
    try:
        saved = actions.form_update(form.pk, fields=fields, principal=request.principal, request=request)
    except ValidationError as error:
        return _builder(request, form, status=400, field_form=field_form, errors=_flat_errors(error))
    return _after_change(request, saved)


def _after_change(request, form):
    if getattr(request, "htmx", False):
        return _builder(request, form)
    return redirect(_url(request, "detail", form_id=form.pk) + "#fields")


@require_POST
@found
@require_permission("forms:edit")
def form_settings(request, workspace_slug, form_id):
    """Save a form's settings (name, alias, description, published, message, redirect)."""
    form = selectors.form_get(form_id)
    settings_form = FormSettingsForm(request.POST)
    if settings_form.is_valid():
        try:
            form = actions.form_update(form.pk, principal=request.principal, request=request,
                                       **settings_form.cleaned_data)  # fmt: skip
        except ValidationError as error:
            form_add_errors(settings_form, error)
        else:
            messages.success(request, f"Form “{form.name}” saved.")
            return redirect(_url(request, "detail", form_id=form.pk))
    return _builder(request, form, status=400, settings_form=settings_form)


@require_POST
@found
@require_permission("forms:edit")
def field_add(request, workspace_slug, form_id):
    """Add a field at the end of the form."""
    form = selectors.form_get(form_id)
    field_form = _field_form(request.POST)
    if not field_form.is_valid():
        return _builder(request, form, status=400, field_form=field_form)
    return _save_fields(request, form, [*form.fields, field_form.field_values()], field_form=field_form)


def _index_of(form, field_id: int) -> int:
    for index, field in enumerate(form.fields):
        if field["id"] == field_id:
            return index
    raise Http404("Not found.")


@found
@require_permission("forms:edit")
def field_edit(request, workspace_slug, form_id, field_id):
    """The form of one field; saving replaces it in place."""
    form = selectors.form_get(form_id)
    index = _index_of(form, field_id)
    if request.method == "POST":
        field_form = _field_form(request.POST)
        if field_form.is_valid():
            fields = list(form.fields)
            fields[index] = field_form.field_values(field_id)
            try:
                actions.form_update(form.pk, fields=fields, principal=request.principal, request=request)
            except ValidationError as error:
                for key, problems in error_fields(error).items():
                    name = key.rsplit(".", 1)[-1]
                    field_form.add_error(name if name in field_form.fields else None, problems)
            else:
                messages.success(request, "Field saved.")
                return redirect(_url(request, "detail", form_id=form.pk) + "#fields")
        return render(request, "forms/field_edit.html", {"form": form, "field_form": field_form,
                                                         "field_id": field_id}, status=400)  # fmt: skip
    field_form = _field_form(initial=FieldForm.initial_of(form.fields[index]))
    return render(request, "forms/field_edit.html", {"form": form, "field_form": field_form, "field_id": field_id})


@require_POST
@found
@require_permission("forms:edit")
def field_move(request, workspace_slug, form_id, field_id):
    """Move a field one place up or down (direction=up|down)."""
    form = selectors.form_get(form_id)
    index = _index_of(form, field_id)
    target = index - 1 if request.POST.get("direction") == "up" else index + 1
    fields = list(form.fields)
    if 0 <= target < len(fields):
        fields[index], fields[target] = fields[target], fields[index]
    return _save_fields(request, form, fields)


@require_POST
@found
@require_permission("forms:edit")
def field_remove(request, workspace_slug, form_id, field_id):
    """Remove a field (answers already stored keep it)."""
    form = selectors.form_get(form_id)
    index = _index_of(form, field_id)
    return _save_fields(request, form, [f for n, f in enumerate(form.fields) if n != index])


@require_POST
@found
@require_permission("forms:edit")
def action_add(request, workspace_slug, form_id):
    """Add a submit action at the end."""
    form = selectors.form_get(form_id)
    action_form = _action_form(request, request.POST)
    if not action_form.is_valid():
        return _builder(request, form, status=400, action_form=action_form)
    try:
        saved = actions.form_update(form.pk, actions=[*form.actions, action_form.action_values()],
                                    principal=request.principal, request=request)  # fmt: skip
    except ValidationError as error:
        return _builder(request, form, status=400, action_form=action_form, errors=_flat_errors(error))
    return _after_change(request, saved)


@require_POST
@found
@require_permission("forms:edit")
def action_remove(request, workspace_slug, form_id, index):
    """Remove the submit action at index."""
    form = selectors.form_get(form_id)
    if not 0 <= index < len(form.actions):
        raise Http404("Not found.")
    try:
        saved = actions.form_update(form.pk, actions=[a for n, a in enumerate(form.actions) if n != index],
                                    principal=request.principal, request=request)  # fmt: skip
    except ValidationError as error:
        return _builder(request, form, status=400, errors=_flat_errors(error))
    return _after_change(request, saved)


@require_POST
@found
@require_permission("forms:edit")
def form_delete(request, workspace_slug, form_id):
    """Delete a form and its submissions after a confirmation."""
    form = selectors.form_get(form_id)
    page = confirmation_required(
        request,
        title=f"Delete the form “{form.name}”?",
        message="Its submissions are deleted with it; contacts and their consent records stay. Pages embedding it "
        "stop showing it.",
        label="Delete form",
        back=_url(request, "detail", form_id=form.pk),
    )
    if page:
        return page
    actions.form_delete(form.pk, principal=request.principal, request=request)
    messages.success(request, f"Form “{form.name}” deleted.")
    return redirect(_url(request, "list"))


def _shown(value):
    return ", ".join(str(v) for v in value) if isinstance(value, list) else value


@found
@require_permission("forms:results")
def form_results(request, workspace_slug, form_id):
    """A form's submissions, newest first (50 a page, ?before=<id> for the next), with their answers."""
    form = selectors.form_get(form_id)
    try:
        before = parse_int(request.GET["before"], name="before") if request.GET.get("before") else None
    except InvalidInput:
        before = None
    rows = selectors.submissions_page(form.pk, before_id=before)
    columns = selectors.answer_columns(form)
    table_rows = [(row, [_shown(row.answers.get(alias)) for alias, _label in columns]) for row in rows]
    more = len(rows) == selectors.SUBMISSIONS_PAGE
    context = {"form": form, "columns": columns, "rows": table_rows, "total": selectors.submissions_count(form.pk),
               "next_before": rows[-1].id if more else None}  # fmt: skip
    return render(request, "forms/results.html", context)


@found
@require_permission("forms:results")
def form_results_export(request, workspace_slug, form_id):
    """Download a form's submissions as CSV (audited as the contacts export is)."""
    form = selectors.form_get(form_id)
    chunks, _count = actions.submissions_export(form.pk, principal=request.principal, request=request)
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="form-{form.pk}-submissions.csv"'
    response["Cache-Control"] = "no-store"
    return response
