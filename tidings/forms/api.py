"""The native API of forms under /api/v1/: forms (CRUD) and their submissions.

Reading forms needs forms:view, changing them forms:edit, reading submissions (the answers people
gave) forms:results. A form of another workspace is a 404 exactly like one that does not exist;
invalid values a 422 keyed by "name", "fields.<n>.<key>" or "actions.<n>.<key>", never repeating a value.
"""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tidings.accounts.decorators import require_permission
from tidings.api.errors import found
from tidings.api.types import Id
from tidings.forms import actions, selectors

router = Router(tags=["forms"])

VIEW, EDIT, RESULTS = "forms:view", "forms:edit", "forms:results"


class FormIn(Schema):
    name: str = Field(..., max_length=191)
    alias: str = Field("", max_length=64, description="a-z, 0-9, - and _; made from the name when empty.")
    description: str = Field("", max_length=2000)
    published: bool = False
    success_message: str = Field("", max_length=500)
    redirect_url: str = Field("", max_length=500)
    fields: list[dict[str, Any]] = Field(default_factory=list, description="Ordered fields (see the builder).")
    actions: list[dict[str, Any]] = Field(default_factory=list, description="Submit actions, in order.")


class FormPatch(Schema):
    name: str | None = Field(None, max_length=191)
    alias: str | None = Field(None, max_length=64)
    description: str | None = Field(None, max_length=2000)
    published: bool | None = None
    success_message: str | None = Field(None, max_length=500)
    redirect_url: str | None = Field(None, max_length=500)
    fields: list[dict[str, Any]] | None = None
    actions: list[dict[str, Any]] | None = None


class FormOut(Schema):
    id: int
    name: str
    alias: str
    description: str
    published: bool
    success_message: str
    redirect_url: str
    fields: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    created_at: datetime.datetime
    updated_at: datetime.datetime


class SubmissionOut(Schema):
    id: int
    form_id: int
    contact_id: int
    submitted_at: datetime.datetime
    status: str = Field(description="accepted, pending (waiting for the double opt-in click) or confirmed.")
    page_url: str
    ip_network: str = Field(description="The network of the address it came from, never the address.")
    answers: dict[str, Any]


class SubmissionPage(Schema):
    items: list[SubmissionOut]
    next_before: int | None = Field(None, description="Pass as ?before= for the next (older) page.")


def _form_out(form) -> dict:
    return {name: getattr(form, name) for name in ("name", "alias", "description", "published", "success_message",
                                                   "redirect_url", "fields", "actions", "created_at", "updated_at")} | {
        "id": form.pk}  # fmt: skip


@router.get("/forms", response=list[FormOut], summary="List forms")
@require_permission(VIEW)
def list_forms(request):
    """Return the workspace's forms by name (at most 500; needs forms:view)."""
    return [_form_out(form) for form in selectors.forms()[: selectors.FORMS_LIMIT]]


@router.post("/forms", response={201: FormOut}, summary="Create a form")
@require_permission(EDIT)
def create_form(request, payload: FormIn):
    """Create a form with its fields and actions (needs forms:edit); 422 keyed by what is wrong."""
    form = actions.form_create(principal=request.principal, request=request, **payload.dict())
    return Status(201, _form_out(form))


@router.get("/forms/{form_id}", response=FormOut, summary="Get a form")
@found
@require_permission(VIEW)
def get_form(request, form_id: Id):
    """Return one form (needs forms:view); 404 when not in this workspace."""
    return _form_out(selectors.form_get(form_id))


@router.patch("/forms/{form_id}", response=FormOut, summary="Change a form")
@found
@require_permission(EDIT)
def update_form(request, form_id: Id, payload: FormPatch):
    """Change the given settings, or replace the fields or actions list (needs forms:edit); 422 on invalid values."""
    changes = {name: value for name, value in payload.dict(exclude_unset=True).items() if value is not None}
    form = actions.form_update(form_id, principal=request.principal, request=request, **changes)
    return _form_out(form)


@router.delete("/forms/{form_id}", response={204: None}, summary="Delete a form")
@found
@require_permission(EDIT)
def delete_form(request, form_id: Id):
    """Delete a form and its submissions (needs forms:edit); contacts and consent records stay."""
    actions.form_delete(form_id, principal=request.principal, request=request)
    return Status(204, None)


@router.get("/forms/{form_id}/submissions", response=SubmissionPage, summary="List a form's submissions")
@found
@require_permission(RESULTS)
def list_submissions(request, form_id: Id, before: Id | None = None, limit: int = Query(50, ge=1, le=200)):
    """Return a form's submissions newest first with their answers (needs forms:results); 404 for another's form."""
    form = selectors.form_get(form_id)
    rows = selectors.submissions_page(form.pk, before_id=before, limit=limit)
    items = [row.__dict__ | {"answers": row.answers} for row in rows]
    return {"items": items, "next_before": rows[-1].id if len(rows) == limit else None}
