"""Field management: list, create, relabel, reorder, archive, index and delete custom fields."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import found, require_permission
from tidings.contacts import actions, selectors_fields
from tidings.contacts.fields import propose_alias
from tidings.contacts.forms import (
    FieldCreateForm,
    FieldDeleteForm,
    FieldEditForm,
    FieldLabelForm,
)
from tidings.contacts.models import FieldObject
from tidings.contacts.views.common import render_page, slug_of
from tidings.privacy.categories import DataCategory, is_encrypted_category
from tidings.validation import error_message as _message
from tidings.validation import form_add_errors

# ==============================================================================================
# Field management (contacts:edit: the permission catalogue gives fields to it; hard delete also needs
# contacts:delete, because it destroys every value stored in the field)


def _field_object(request) -> str:
    value = request.GET.get("object") or request.POST.get("object") or FieldObject.CONTACT
    return value if value in FieldObject.values else FieldObject.CONTACT


def _fields_url(request, object: str) -> str:
    return reverse("contacts:fields", kwargs={"workspace_slug": slug_of(request)}) + f"?object={object}"


@require_permission("contacts:edit")
def field_list(request, workspace_slug):
    """List a tab (contact or company) of field definitions, archived ones included, with the create form."""
    object = _field_object(request)
    form = FieldCreateForm(request.POST or None, object=object)
    if request.method == "POST" and form.is_valid():
        try:
            field = actions.field_create(**form.action_arguments(), principal=request.principal, request=request)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, f"Field “{field.label}” created.")
            return redirect(_fields_url(request, object))
    form.fields["label"].widget.attrs["data-alias-url"] = (
        reverse("contacts:field_alias", kwargs={"workspace_slug": slug_of(request)}) + f"?object={object}"
    )
    definitions = selectors_fields.field_definitions(object, include_archived=True)
    context = {
        "object": object,
        "definitions": definitions,
        "form": form,
        "encrypted_categories": [c.label for c in DataCategory if c and is_encrypted_category(c)],
    }
    return render_page(request, "contacts/fields.html", context, status=400 if form.errors else 200)


@require_permission("contacts:edit")
def field_alias(request, workspace_slug):
    """Return {"alias": ...}: the alias proposed for a new field from its label (free in the object's tab)."""
    object = _field_object(request)
    taken = [f.alias for f in selectors_fields.field_definitions(object, include_archived=True)]
    label = request.GET.get("label", "")[:120]
    return JsonResponse({"alias": propose_alias(label, taken)})


@found
@require_permission("contacts:edit")
def field_edit(request, workspace_slug, field_id):
    """Edit a field in the side panel (htmx) or on its own page: label, flags, options.

    Making a field required or unique is refused, with counts, while existing data says no.
    """
    field = selectors_fields.field_get(field_id)
    form = FieldEditForm(request.POST or None, field=field)
    if request.method == "POST" and form.is_valid():
        try:
            changes = form.changes()
            if changes:
                actions.field_update(field_id, **changes, principal=request.principal, request=request)
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, f"Field “{field.alias}” saved." if changes else "Nothing changed.")
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = _fields_url(request, field.object)
                return response
            return redirect(_fields_url(request, field.object))
    context = {"field": field, "form": form, "object": field.object}
    if request.htmx:  # the panel swaps in whatever the outcome, so errors show beside the fields
        return render_page(request, "contacts/_field_panel.html", context)
    return render_page(request, "contacts/field_edit.html", context, status=400 if form.errors else 200)


@require_POST
@found
@require_permission("contacts:edit")
def field_label(request, workspace_slug, field_id):
    field = selectors_fields.field_get(field_id)
    form = FieldLabelForm(request.POST)
    if form.is_valid():
        actions.field_update(field_id, label=form.cleaned_data["label"], principal=request.principal, request=request)
        messages.success(request, "Label changed; the alias and the data stay as they were.")
    else:
        messages.error(request, "A label is required.")
    return redirect(_fields_url(request, field.object))


@require_POST
@found
@require_permission("contacts:edit")
def field_move(request, workspace_slug, field_id):
    """Move a field one place up or down in its tab (swapping orders with its neighbour)."""
    field = selectors_fields.field_get(field_id)
    siblings = selectors_fields.field_definitions(field.object, include_archived=True)
    index = next(i for i, f in enumerate(siblings) if f.id == field.id)
    other = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= other < len(siblings):
        neighbour = siblings[other]
        first, second = (neighbour.order, field.order) if neighbour.order != field.order else (other, index)
        actions.field_update(field.id, order=first, principal=request.principal, request=request)
        actions.field_update(neighbour.id, order=second, principal=request.principal, request=request)
    return redirect(_fields_url(request, field.object))


@require_POST
@found
@require_permission("contacts:edit")
def field_archive(request, workspace_slug, field_id):
    field = selectors_fields.field_get(field_id)
    archive = request.POST.get("archive", "1") == "1"
    try:
        actions.field_archive(field_id, archived=archive, principal=request.principal, request=request)
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, "Field archived; its data is kept." if archive else "Field restored.")
    return redirect(_fields_url(request, field.object))


@require_POST
@found
@require_permission("contacts:edit")
def field_index(request, workspace_slug, field_id):
    """Give a clear custom field a filter index, or take it away (indexed=0)."""
    field = selectors_fields.field_get(field_id)
    indexed = request.POST.get("indexed", "1") == "1"
    try:
        actions.field_index_set(field_id, indexed=indexed, principal=request.principal, request=request)
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, "Filters on this field now use an index." if indexed else "Filter index removed.")
    return redirect(_fields_url(request, field.object))


@found
@require_permission("contacts:edit")
def field_delete(request, workspace_slug, field_id):
    """Delete a custom field and its data after the alias is typed as confirmation."""
    field = selectors_fields.field_get(field_id)
    # A second permission on top of the declared one: the page edits fields, and deleting destroys data.
    if not request.principal.can("contacts:delete"):
        raise PermissionDenied("Deleting a field destroys its data: you need the contacts:delete permission.")
    form = FieldDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            touched = actions.field_delete(field_id, confirm=form.cleaned_data["confirm"], principal=request.principal,
                                           request=request)  # fmt: skip
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, f"Field deleted with its values ({touched} record(s) held one).")
            return redirect(_fields_url(request, field.object))
    return render_page(request, "contacts/field_delete.html", {"field": field, "form": form},
                  status=400 if form.errors else 200)  # fmt: skip
