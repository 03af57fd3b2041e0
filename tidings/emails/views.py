"""The email editor: the list, the settings and code form, the drag-and-drop builder, preview, variants.

Thin: forms in, tidings.emails.actions.authoring and .selectors_authoring do the work. An email named in a
URL is read through a selector scoped to request.workspace; another workspace's id answers 404.

Authored HTML is shown to members only inside <iframe sandbox="" srcdoc>: no script runs in it, it has an
opaque origin (no cookie, no same-origin request) and it inherits this page's Content-Security-Policy.
The builder page alone relaxes the CSP, and only by what GrapesJS needs (decision 0025).
"""

from __future__ import annotations

from csp.decorators import csp_update
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import found, require_permission
from tidings.accounts.permissions import require
from tidings.emails import content
from tidings.emails import selectors_authoring as selectors
from tidings.emails.actions import authoring
from tidings.emails.forms import CodeForm, EmailForm, NewEmailForm, PreviewForm, VariantForm
from tidings.emails.models import Editor, Email, EmailKind
from tidings.ui.confirm import confirmation_required
from tidings.ui.datatable import Column, DataTable
from tidings.validation import form_add_errors

EMAIL_COLUMNS = [
    Column("name", "Name", required=True),
    Column("kind", "Kind"),
    Column("version", "Version"),
    Column("updated", "Changed"),
]


def _url(request, name: str, **kwargs) -> str:
    return reverse(f"emails:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


def _choices() -> dict:
    return {"purposes": selectors.purpose_choices(), "segments": selectors.segment_choices()}


@require_permission("emails:view")
def email_list(request, workspace_slug):
    """List the workspace's emails by name (variants are shown on their parent); ?q= searches, ?kind= filters."""
    search = request.GET.get("q", "")[:100]
    kind = request.GET.get("kind", "")
    kind = kind if kind in EmailKind.values else ""
    rows = list(selectors.emails(search=search, kind=kind)[: selectors.EMAILS_LIMIT])
    can_edit = request.principal.can("emails:edit")
    empty = {
        "title": "No emails match" if search or kind else "No emails yet",
        "text": "Broadcasts go to segments; templates are sent by campaigns, forms and the API."
        + ("" if can_edit else " A member who can edit emails creates them."),
        "actions": [("New email", _url(request, "create"))] if can_edit and not (search or kind) else [],
    }
    if search or kind:
        empty["clear_url"] = _url(request, "list")
    table = DataTable(columns=EMAIL_COLUMNS, query={}, order="name", rows=rows, id="emails", caption="Emails",
                      noun="emails", row_template="emails/list_rows.html", row_actions=can_edit,
                      empty={} if rows else empty)  # fmt: skip
    context = {"table": table, "rows": rows, "can_edit": can_edit, "search": search, "kind": kind,
               "kinds": EmailKind.choices}  # fmt: skip
    return render(request, "emails/list.html", context)


@require_permission("emails:edit")
def email_create(request, workspace_slug):
    """A new email's settings; a builder email opens in the builder once created."""
    form = NewEmailForm(request.POST or None, **_choices())
    if request.method == "POST" and form.is_valid():
        try:
            email = authoring.email_create(principal=request.principal, request=request,
                                           tokens_confirmed=bool(request.POST.get("tokens_confirmed")),
                                           **form.values())  # fmt: skip
        except authoring.TokenProblems as error:
            form_add_errors(form, error)
            return render(request, "emails/create.html", {"form": form, "confirm_tokens": True}, status=400)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, f"Email “{email.name}” created.")
            return redirect(_url(request, "builder" if email.editor == Editor.BUILDER else "edit", email_id=email.pk))
    status = 400 if request.method == "POST" else 200
    return render(request, "emails/create.html", {"form": form}, status=status)


def _preview(request, email: Email, preview_form: PreviewForm) -> tuple[dict, str]:
    """Return the email as the chosen contact reads it, and a note when the contact cannot be used."""
    values = owner = None
    note = ""
    if preview_form.is_valid() and preview_form.cleaned_data.get("contact"):
        if not request.principal.can("contacts:view"):
            note = "Previewing with a contact's data needs the permission to see contacts."
        else:
            try:
                values, owner = selectors.preview_values(preview_form.cleaned_data["contact"])
            except ObjectDoesNotExist:
                note = "No contact of this workspace has this id; tokens show their defaults."
    return selectors.preview(email, values=values, owner=owner), note


def _editor(request, email: Email, *, form=None, code=None, variant_form=None, status=200, confirm_tokens=False):
    preview_form = PreviewForm(request.GET or None)
    shown, note = _preview(request, email, preview_form)
    if form is None:
        form = EmailForm(initial={name: getattr(email, name) for name in EmailForm.base_fields}, **_choices())
    if code is None and email.editor == Editor.CODE:
        code = CodeForm(initial={"html": email.html, "text": email.text})
    context = {
        "email": email,
        "form": form,
        "code": code,
        "variant_form": variant_form or VariantForm(),
        "preview_form": preview_form,
        "preview": shown,
        "preview_note": note,
        "variants": selectors.variants_of(email.pk) if email.variant_of is None else [],
        "parent": selectors.email_get(email.variant_of) if email.variant_of else None,
        "token_problems": selectors.token_problems(email),
        "can_edit": request.principal.can("emails:edit"),
        "confirm_tokens": confirm_tokens,
    }
    return render(request, "emails/editor.html", context, status=status)


@found
@require_permission("emails:view")
def email_edit(request, workspace_slug, email_id):
    """An email's settings, code, preview and variants; members who cannot edit see it read-only."""
    email = selectors.email_get(email_id)
    if request.method != "POST":
        return _editor(request, email)
    require(request.principal, "emails:edit", workspace_id=request.workspace.id)
    form = EmailForm(request.POST, **_choices())
    code = CodeForm(request.POST) if email.editor == Editor.CODE else None
    if not form.is_valid() or (code is not None and not code.is_valid()):
        return _editor(request, email, form=form, code=code, status=400)
    values = form.values()
    if email.variant_of is not None:  # a variant has its parent's audience and purpose
        for name in ("kind", "segment_ids", "purpose_key", "transactional"):
            values.pop(name, None)
    if code is not None:
        values.update(code.cleaned_data)
    try:
        saved = authoring.email_update(email.pk, principal=request.principal, request=request,
                                       tokens_confirmed=bool(request.POST.get("tokens_confirmed")),
                                       **values)  # fmt: skip
    except ValidationError as error:
        form_add_errors(form, error)
        if code is not None:
            form_add_errors(code, error)
        confirm = isinstance(error, authoring.TokenProblems)
        return _editor(request, email, form=form, code=code, status=400, confirm_tokens=confirm)
    messages.success(request, f"Email “{saved.name}” saved (version {saved.version}).")
    return redirect(_url(request, "edit", email_id=saved.pk))


# GrapesJS builds its canvas in an iframe it writes itself (about:blank / srcdoc, same origin) and sets
# inline styles on elements it moves: the builder page alone allows 'unsafe-inline' styles, data: and
# blob: frames and https: images (pictures the author links). Scripts stay 'self' only.
BUILDER_CSP = {
    "style-src": ["'unsafe-inline'"],
    "img-src": ["https:", "blob:"],
    "frame-src": ["'self'", "data:", "blob:"],
    "font-src": ["data:"],
}


@csp_update(BUILDER_CSP)
@found
@require_permission("emails:view")
def email_builder(request, workspace_slug, email_id):
    """The drag-and-drop builder of a builder email; saving sends the MJML back through email_update."""
    email = selectors.email_get(email_id)
    can_edit = request.principal.can("emails:edit")
    error = None
    if request.method == "POST":
        require(request.principal, "emails:edit", workspace_id=request.workspace.id)
        source = request.POST.get("source", "")
        try:
            saved = authoring.email_update(
                email.pk,
                principal=request.principal,
                request=request,
                editor=Editor.BUILDER,
                source=source,
                tokens_confirmed=bool(request.POST.get("tokens_confirmed")),
            )
        except ValidationError as problem:
            error = problem
            email.source = source if isinstance(source, str) else email.source
        else:
            messages.success(request, f"Email “{saved.name}” saved (version {saved.version}).")
            return redirect(_url(request, "builder", email_id=saved.pk))
    source = email.source or content.theme_source(email.theme or "blank")
    context = {
        "email": email,
        "source": source,
        "can_edit": can_edit,
        "errors": [message for messages_ in (error.message_dict.values() if error else []) for message in messages_],
        "confirm_tokens": isinstance(error, authoring.TokenProblems),
        "fields": sorted(selectors.field_aliases()),
    }
    return render(request, "emails/builder.html", context, status=400 if error else 200)


@require_POST
@found
@require_permission("emails:edit")
def email_clone(request, workspace_slug, email_id):
    """Copy an email as a new unpublished one and open it."""
    clone = authoring.email_clone(email_id, principal=request.principal, request=request)
    messages.success(request, f"Email copied as “{clone.name}”.")
    return redirect(_url(request, "edit", email_id=clone.pk))


@require_POST
@found
@require_permission("emails:edit")
def email_delete(request, workspace_slug, email_id):
    """Delete an email and its variants after a confirmation (refused while a send runs)."""
    email = selectors.email_get(email_id)
    confirm = confirmation_required(request, title=f"Delete the email “{email.name}”?",
                                    message="Its variants and versions go with it.", label="Delete email",
                                    back=_url(request, "edit", email_id=email.pk))  # fmt: skip
    if confirm:
        return confirm
    try:
        authoring.email_delete(email.pk, principal=request.principal, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_url(request, "edit", email_id=email.pk))
    messages.success(request, f"Email “{email.name}” deleted.")
    return redirect(_url(request, "list"))


@require_POST
@found
@require_permission("emails:edit")
def variant_create(request, workspace_slug, email_id):
    """Create an A/B variant of the email (a copy to change), with the test's criterion and period."""
    email = selectors.email_get(email_id)
    form = VariantForm(request.POST)
    if form.is_valid():
        try:
            variant = authoring.variant_create(email.pk, principal=request.principal, request=request,
                                               tokens_confirmed=True, **form.values())  # fmt: skip
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, f"Variant “{variant.name}” created.")
            return redirect(_url(request, "edit", email_id=variant.pk))
    return _editor(request, email, variant_form=form, status=400)
