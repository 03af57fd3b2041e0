"""One contact's page and what changes it: edit, tags, notes, companies, Do-Not-Contact, merge."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import found, require_permission
from tidings.contacts import actions, selectors, selectors_fields, selectors_stages
from tidings.contacts.forms import (
    GROUP_TITLES,
    CompanyLinkForm,
    DncForm,
    MergeForm,
    NoteForm,
    OwnerLookup,
    TagForm,
    ValuesForm,
    field_group,
)
from tidings.contacts.models import Channel
from tidings.contacts.views.common import contact_url, owner_names, render_page, slug_of, suggest_urls_of
from tidings.validation import error_message as _message

TIMELINE_PAGE = 20
IDENTIFYING_ALIASES = ("email", "firstname", "lastname", "company", "phone", "mobile")

# ==============================================================================================
# One contact


# Core fields the contact page's header shows (owner by name, stage, points, last activity), left out of its groups.
HEADER_ALIASES = frozenset({"owner", "stage", "points", "last_active"})


def _contact_context(request, contact_id: int, **extra) -> dict:
    """Return the contact page's own context; notes, tags, companies and DNC come from their panels."""
    contact = selectors.contact_get(contact_id)
    definitions = selectors_fields.field_definitions()
    owner_id = contact.fields.get("owner")
    owners = owner_names(request, [owner_id])
    groups: dict[str, list] = defaultdict(list)
    for definition in definitions:
        if definition.alias in HEADER_ALIASES:
            continue
        value = contact.fields.get(definition.alias)
        if definition.alias == "owner" and value is not None:
            value = owners.get(str(value), f"#{value}")
        groups[field_group(definition)].append({"definition": definition, "value": value})
    engagement = selectors.contact_engagement(contact_id)
    # The latest of its events and the tracker's last_active (set by tracking, which may keep no event).
    last_active = max(filter(None, (engagement.last_activity, contact.fields.get("last_active"))), default=None)
    stage_id = contact.fields.get("stage")
    stage = selectors_stages.stages_by_id([stage_id]).get(stage_id) if stage_id is not None else None
    return {
        "contact": contact,
        "owner": owners.get(str(owner_id), f"#{owner_id}") if owner_id is not None else "",
        "stage": stage.name if stage is not None else "",
        "groups": [(title, groups[title]) for title in GROUP_TITLES if title in groups],
        "engagement": engagement,
        "last_active": last_active,
        "engagement_days": selectors.ENGAGEMENT_DAYS,
        "timeline": selectors.timeline(contact_id, limit=TIMELINE_PAGE, describe=True),
        **extra,
    }


# The contact page's own panels (registered in ContactsConfig.ready, like any app's; see panels.py).


def notes_panel(request, contact) -> dict:
    """Return the notes of the contact and an empty note form."""
    return {"notes": selectors.contact_notes(contact.id), "note_form": NoteForm()}


def companies_panel(request, contact) -> dict:
    """Return the contact's company links and a form to link one of the others."""
    links = selectors.contact_companies(contact.id)
    linked = {link.company.id for link in links}
    companies = [c for c in selectors.companies_page(limit=200).items if c.id not in linked]
    return {"links": links, "link_form": CompanyLinkForm(company_choices=[(c.id, c.name) for c in companies])}


def dnc_panel(request, contact) -> dict:
    """Return the contact's Do-Not-Contact entries and a form to add one."""
    return {"dnc": selectors.contact_dnc(contact.id), "dnc_form": DncForm()}


@found
@require_permission("contacts:view")
def contact_detail(request, workspace_slug, contact_id):
    """Show a contact: its header, engagement summary, fields by group, the panels and the timeline."""
    return render_page(request, "contacts/detail.html", _contact_context(request, contact_id))


@found
@require_permission("contacts:view")
def contact_timeline(request, workspace_slug, contact_id):
    """Return the next page of a contact's timeline (htmx), older than the cursor in ?before."""
    try:
        timeline = selectors.timeline(
            contact_id, before=request.GET.get("before") or None, limit=TIMELINE_PAGE, describe=True
        )
    except ValidationError as error:
        raise Http404("Not found.") from error
    return render_page(request, "contacts/_timeline.html", {"timeline": timeline, "contact_id": contact_id})


@require_permission("contacts:edit")
def contact_create(request, workspace_slug):
    """Create a contact from the form of every editable field."""
    form = ValuesForm(selectors_fields.field_definitions(), request.POST or None, owners=OwnerLookup(request.workspace),
                      suggest_urls=suggest_urls_of(request))  # fmt: skip
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.values(changed_only=False).items() if v not in ("", None, [])}
        try:
            if not any(values.get(alias) for alias in IDENTIFYING_ALIASES):
                # The API and tracking may create anonymous contacts; a person typing a new one means someone.
                raise ValidationError("Fill in at least an email, a name, a company or a phone number.")
            contact = actions.contact_create(values, principal=request.principal, request=request)
        except ValidationError as error:
            form.add_action_errors(error)
        else:
            messages.success(request, "Contact created.")
            return redirect(contact_url(request, contact.id))
    return render_page(
        request, "contacts/form.html", {"form": form, "contact": None}, status=400 if form.errors else 200
    )


@found
@require_permission("contacts:edit")
def contact_edit(request, workspace_slug, contact_id):
    """Edit a contact's values; only the fields changed in the form are sent to the action."""
    contact = selectors.contact_get(contact_id)
    form = ValuesForm(
        selectors_fields.field_definitions(),
        request.POST or None,
        values=contact.fields,
        owners=OwnerLookup(request.workspace),
        suggest_urls=suggest_urls_of(request),
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.contact_update(contact_id, form.values(changed_only=True), principal=request.principal,
                                   request=request)  # fmt: skip
        except ValidationError as error:
            form.add_action_errors(error)
        else:
            messages.success(request, "Contact saved.")
            return redirect(contact_url(request, contact_id))
    return render_page(
        request, "contacts/form.html", {"form": form, "contact": contact}, status=400 if form.errors else 200
    )


@found
@require_permission("contacts:delete")
def contact_delete(request, workspace_slug, contact_id):
    """Ask, then delete a contact (its data key is destroyed: every copy of its data becomes unreadable)."""
    contact = selectors.contact_get(contact_id)
    if request.method == "POST":
        actions.contact_delete(contact_id, principal=request.principal, request=request)
        messages.success(request, "Contact deleted.")
        return redirect("contacts:list", workspace_slug=slug_of(request))
    return render_page(request, "contacts/delete_confirm.html", {"contact": contact})


@require_POST
@found
@require_permission("contacts:edit")
def contact_tags(request, workspace_slug, contact_id):
    """Add or remove one tag; htmx gets the tag list back, others the contact page."""
    selectors.contact_get(contact_id)
    form = TagForm(request.POST)
    error = ""
    if form.is_valid() and (form.cleaned_data["add"].strip() or form.cleaned_data["remove"].strip()):
        add, remove = form.cleaned_data["add"].strip(), form.cleaned_data["remove"].strip()
        change = ([add] if add else []) + ([f"-{remove}"] if remove else [])
        try:
            actions.contact_tags_change(contact_id, change, principal=request.principal, request=request)
        except ValidationError as problem:
            error = _message(problem)
    else:
        error = "Name a tag."
    if request.htmx:
        context = {"contact": selectors.contact_get(contact_id), "tag_form": TagForm(), "tag_error": error}
        return render_page(request, "contacts/_tags.html", context)
    if error:
        messages.error(request, error)
    return redirect(contact_url(request, contact_id, "tags"))


@require_POST
@found
@require_permission("contacts:edit")
def note_add(request, workspace_slug, contact_id):
    """Add a note; htmx gets the notes panel back (the new note, or the form with its error in place)."""
    selectors.contact_get(contact_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        actions.note_add(contact_id, form.cleaned_data["text"], type=form.cleaned_data["type"],
                         principal=request.principal, request=request)  # fmt: skip
        if request.htmx:
            context = {"contact": selectors.contact_get(contact_id), "notes": selectors.contact_notes(contact_id),
                       "note_form": NoteForm()}  # fmt: skip
            return render_page(request, "contacts/_notes.html", context)
        messages.success(request, "Note added.")
        return redirect(contact_url(request, contact_id, "notes"))
    form.fields["text"].widget.attrs["autofocus"] = True  # back at the field to fix, wherever the page is
    if request.htmx:
        context = {"contact": selectors.contact_get(contact_id), "notes": selectors.contact_notes(contact_id),
                   "note_form": form}  # fmt: skip
        return render_page(request, "contacts/_notes.html", context)  # 200: htmx swaps no 4xx answer
    return render_page(
        request, "contacts/detail.html", _contact_context(request, contact_id, note_form=form), status=400
    )


def _note_of(contact_id: int, note_id: int):
    note = selectors.note_get(note_id)
    if note.contact_id != contact_id:
        raise Http404("Not found.")
    return note


@found
@require_permission("contacts:edit")
def note_edit(request, workspace_slug, contact_id, note_id):
    note = _note_of(contact_id, note_id)
    form = NoteForm(request.POST or None, initial={"type": note.type, "text": note.text})
    if request.method == "POST" and form.is_valid():
        actions.note_edit(note_id, text=form.cleaned_data["text"], type=form.cleaned_data["type"],
                          principal=request.principal, request=request)  # fmt: skip
        messages.success(request, "Note saved.")
        return redirect(contact_url(request, contact_id, "notes"))
    return render_page(request, "contacts/note_form.html", {"form": form, "note": note, "contact_id": contact_id})


@require_POST
@found
@require_permission("contacts:edit")
def note_delete(request, workspace_slug, contact_id, note_id):
    _note_of(contact_id, note_id)
    actions.note_delete(note_id, principal=request.principal, request=request)
    messages.success(request, "Note deleted.")
    return redirect(contact_url(request, contact_id, "notes"))


@require_POST
@found
@require_permission("contacts:edit")
def company_link(request, workspace_slug, contact_id):
    selectors.contact_get(contact_id)
    form = CompanyLinkForm(request.POST)
    if form.is_valid():
        actions.company_link(contact_id, form.cleaned_data["company"], is_primary=form.cleaned_data["primary"],
                             principal=request.principal, request=request)  # fmt: skip
        messages.success(request, "Company linked.")
    else:
        messages.error(request, "Choose a company.")
    return redirect(contact_url(request, contact_id, "companies"))


@require_POST
@found
@require_permission("contacts:edit")
def company_unlink(request, workspace_slug, contact_id, company_id):
    selectors.contact_get(contact_id)
    selectors.company_get(company_id)
    actions.company_unlink(contact_id, company_id, principal=request.principal, request=request)
    messages.success(request, "Company unlinked.")
    return redirect(contact_url(request, contact_id, "companies"))


@require_POST
@found
@require_permission("contacts:edit")
def company_primary(request, workspace_slug, contact_id, company_id):
    selectors.contact_get(contact_id)
    selectors.company_get(company_id)
    actions.company_link(contact_id, company_id, is_primary=True, principal=request.principal, request=request)
    messages.success(request, "Primary company changed.")
    return redirect(contact_url(request, contact_id, "companies"))


@require_POST
@found
@require_permission("contacts:edit")
def dnc_add(request, workspace_slug, contact_id):
    selectors.contact_get(contact_id)
    form = DncForm(request.POST)
    if form.is_valid():
        actions.dnc_add(contact_id, **form.cleaned_data, principal=request.principal, request=request)
        messages.success(request, "Marked as do not contact.")
        return redirect(contact_url(request, contact_id, "dnc"))
    return render_page(
        request, "contacts/detail.html", _contact_context(request, contact_id, dnc_form=form), status=400
    )


@require_POST
@found
@require_permission("contacts:edit")
def dnc_remove(request, workspace_slug, contact_id, channel):
    selectors.contact_get(contact_id)
    if channel not in Channel.values:
        raise Http404("No such channel.")
    actions.dnc_remove(contact_id, channel=channel, principal=request.principal, request=request)
    messages.success(request, "Contacting allowed again on this channel.")
    return redirect(contact_url(request, contact_id, "dnc"))


def _merge_candidate(text: str, contact_id: int):
    """Return the contact named by an email address or an id (this workspace only), or None."""
    text = text.strip()
    try:
        if text.isdigit():
            other = selectors.contacts_get([int(text)]).get(int(text))
        else:
            other = selectors.contact_by_unique_identifier("email", text)
    except (ObjectDoesNotExist, ValidationError):
        return None
    return other if other is not None and other.id != contact_id else None


@found
@require_permission("contacts:edit")
def contact_merge(request, workspace_slug, contact_id):
    """Merge another contact into this one: pick it, confirm, then merge (the action audits it)."""
    contact = selectors.contact_get(contact_id)
    form = MergeForm(request.POST or None)
    other = None
    if request.method == "POST" and form.is_valid():
        other = _merge_candidate(form.cleaned_data["other"], contact_id)
        if other is None:
            form.add_error("other", "No other contact in this workspace has this email address or id.")
        elif form.cleaned_data["confirmed"]:
            # Only the confirmed step erases a contact, so only it needs the second permission.
            if not request.principal.can("contacts:delete"):
                raise PermissionDenied("Merging erases the other contact: you need the contacts:delete permission.")
            actions.contact_merge(contact_id, other.id, principal=request.principal, request=request)
            messages.success(request, f"Contact #{other.id} merged into this one.")
            return redirect(contact_url(request, contact_id))
    return render_page(request, "contacts/merge.html", {"contact": contact, "form": form, "other": other})
