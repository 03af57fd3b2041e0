"""Pages for segments: the list, the builder with its live preview, the members, and the contact page's panel.

Thin: forms and query strings in, tidings.segments.actions and .selectors do the work. Every
segment named in a URL is read through a selector scoped to request.workspace; an id of another
workspace raises DoesNotExist there and answers 404, exactly like one that does not exist.

Members' names are personal data: pages that show them also need contacts:view (an analyst,
who has segments:view only, sees counts).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import found, require_permission
from tidings.contacts import selectors as contacts
from tidings.inputs import InvalidInput, parse_int
from tidings.pagination import keyset_page
from tidings.segments import actions, selectors
from tidings.segments.forms import ContactFindForm, SegmentForm, builder_schema, parse_definition
from tidings.segments.models import MembershipStatus
from tidings.ui.charts import CARD_WIDTH, time_series
from tidings.ui.confirm import confirmation_required
from tidings.ui.datatable import Column, DataTable
from tidings.validation import error_fields, error_message, form_add_errors

PAGE_SIZE = 50
FIND_LIMIT = 10  # contacts a members page's "add" search offers
MAX_IDS_POSTED = 1000  # ids one members form may name

GROWTH_DAYS = 30  # the list's change column: members now against the last rebuild this many days ago
SEGMENT_COLUMNS = [
    Column("name", "Name", sort="name", required=True),
    Column("alias", "Alias"),
    Column("members", "Members", numeric=True, unsortable="Sort by name; the counts change with every rebuild."),
    Column("change", f"Change ({GROWTH_DAYS} days)", numeric=True, unsortable="Sort by name; changes move daily."),
    Column("rebuilt", "Last rebuilt"),
    Column("published", "Published"),
]
MEMBER_COLUMNS = [
    Column("name", "Name", required=True),
    Column("email", "Email"),
    Column("how", "How"),
]


def _render(request, template: str, context: dict, status: int = 200):
    """Render with `can`: what the principal may do here, so pages offer only what will be allowed."""
    principal = request.principal
    context["can"] = {"edit": principal.can("segments:edit"), "contacts": principal.can("contacts:view")}
    return render(request, template, context, status=status)


def _slug(request) -> str:
    return request.workspace.slug


def _url(request, name: str, **kwargs) -> str:
    return reverse(f"segments:{name}", kwargs={"workspace_slug": _slug(request), **kwargs})


def _posted_ids(request) -> list[int]:
    """Return the contact ids a form posted (ids=...), at most MAX_IDS_POSTED; a bad one is a 400's worth: none."""
    values = request.POST.getlist("ids")[:MAX_IDS_POSTED]
    try:
        return [parse_int(value, minimum=1) for value in values]
    except InvalidInput:
        return []


# ==============================================================================================
# The list


@require_permission("segments:view")
def segment_list(request, workspace_slug):
    """List the workspace's segments by name: search, members, last rebuild; keyset pages."""
    search = request.GET.get("q", "").strip()[:100]
    order = "-name" if request.GET.get("sort") == "-name" else "name"
    try:
        segments = selectors.with_members_before(selectors.segments_list(search=search), days=GROWTH_DAYS)
        page = keyset_page(segments, ordering=order,
                           after=request.GET.get("after") or None, limit=PAGE_SIZE)  # fmt: skip
    except ValidationError as error:
        raise Http404("Not found.") from error
    for segment in page.items:
        before = segment.members_before
        segment.change = None if before is None else segment.member_count - before
    can_edit = request.principal.can("segments:edit")
    empty: dict[str, Any]
    if search:
        empty = {
            "title": "No segments match",
            "text": "Try another part of the name.",
            "clear_url": _url(request, "list"),
        }
    else:
        empty = {
            "title": "No segments yet",
            "text": "A segment is a set of contacts chosen by filters (fields, tags, activity) and kept up to date: "
            "emails and campaigns are sent to segments."
            + ("" if can_edit else " A member who can edit segments creates them."),
            "actions": [("New segment", _url(request, "create"))] if can_edit else [],
        }
    query = {"q": search} if search else {}
    table = DataTable(
        columns=SEGMENT_COLUMNS,
        query={**query, "sort": order},
        order=order,
        rows=page.items,
        id="segments",
        caption="Segments",
        noun="segments",
        row_template="segments/_segment_rows.html",
        row_actions=can_edit,
        empty={} if page.items else empty,
    )
    next_query = urlencode({**query, "sort": order, "after": page.next_cursor}) if page.has_more else ""
    context = {"table": table, "page": page, "q": search, "next_query": next_query, "rows": page.items}
    return _render(request, "segments/list.html", context)


@require_POST
@found
@require_permission("segments:edit")
def segment_delete(request, workspace_slug, segment_id):
    """Delete a segment after a confirmation; one that other segments' filters name is refused, saying why."""
    segment = selectors.segment_get(segment_id)
    page = confirmation_required(
        request,
        title=f"Delete the segment “{segment.name}”?",
        message="Its members stay contacts; emails and campaigns lose this segment.",
        label="Delete segment",
        back=_url(request, "list"),
    )
    if page:
        return page
    try:
        actions.segment_delete(segment_id, principal=request.principal, request=request)
    except ValidationError as error:
        messages.error(request, f"“{segment.name}” was not deleted: it is {error_message(error)}.")
    else:
        messages.success(request, f"Segment “{segment.name}” deleted.")
    return redirect(_url(request, "list"))


@require_POST
@found
@require_permission("segments:edit")
def segment_rebuild(request, workspace_slug, segment_id):
    """Recompute a segment's members now and say what changed."""
    result = actions.segment_rebuild(segment_id, principal=request.principal)
    messages.success(
        request,
        f"Rebuilt: {result.added:,} added, {result.removed:,} removed, {result.members:,} members "
        f"({result.seconds:.2f} s).",
    )
    return redirect(_back_to_segment(request, segment_id))


def _back_to_segment(request, segment_id: int) -> str:
    """Return where a segment's action goes back to: its edit page when it came from there, else its members."""
    if request.POST.get("next") == "edit":
        return _url(request, "edit", segment_id=segment_id)
    return _url(request, "detail", segment_id=segment_id)


# ==============================================================================================
# The builder


def _errors_by_path(error: ValidationError) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Split an action's errors: those of the filters (keyed by path, "definition" for the whole) and the rest."""
    filters, others = {}, {}
    for key, problems in error_fields(error).items():
        if key == "definition" or key.startswith("filters.") or key == "match":
            filters[key] = problems
        else:
            others[key] = problems
    return filters, others


def _builder(request, form: SegmentForm, segment=None, *, filter_errors=None, status: int = 200):
    schema = builder_schema(exclude_segment=segment.pk if segment else None)
    context = {
        "form": form,
        "segment": segment,
        "schema_json": json.dumps(schema, separators=(",", ":")),
        "filter_errors": filter_errors or {},
        "filter_errors_json": json.dumps(filter_errors or {}),
        "preview_url": _url(request, "preview"),
    }
    return _render(request, "segments/builder.html", context, status=status)


def _save(request, form: SegmentForm, segment=None):
    """Create or update from a valid form; return the response (a redirect, or the builder with errors)."""
    data = form.cleaned_data
    values: dict[str, Any] = {
        "name": data["name"],
        "alias": data["alias"],
        "description": data["description"],
        "is_published": data["is_published"],
        "in_preference_centre": data["in_preference_centre"],
        "definition": data["definition"],
    }
    try:
        if segment is None:
            saved = actions.segment_create(principal=request.principal, request=request, **values)
        else:
            saved = actions.segment_update(segment.pk, principal=request.principal, request=request, **values)
    except ValidationError as error:
        filter_errors, others = _errors_by_path(error)
        if others:
            form_add_errors(form, ValidationError(others))
        if filter_errors:
            form.add_error(None, "Check the filters: the problems are shown beside each one.")
        return _builder(request, form, segment, filter_errors=filter_errors, status=400)
    messages.success(
        request,
        f"Segment “{saved.name}” {'created' if segment is None else 'saved'}: {saved.member_count:,} "
        f"member{'s' if saved.member_count != 1 else ''}.",
    )
    return redirect(_url(request, "detail", segment_id=saved.pk))


@require_permission("segments:edit")
def segment_create(request, workspace_slug):
    """The builder for a new segment; saving creates and builds it."""
    if request.method == "POST":
        form = SegmentForm(request.POST)
        if form.is_valid():
            return _save(request, form)
        return _builder(request, form, status=400)
    form = SegmentForm(initial={"definition": json.dumps({"match": "all", "filters": []}), "is_published": True})
    return _builder(request, form)


@found
@require_permission("segments:edit")
def segment_edit(request, workspace_slug, segment_id):
    """The builder of an existing segment: its filters shown with encrypted-field values opened."""
    segment = selectors.segment_get(segment_id)
    if request.method == "POST":
        form = SegmentForm(request.POST)
        if form.is_valid():
            return _save(request, form, segment)
        return _builder(request, form, segment, status=400)
    shown = selectors.definition_for_display(segment.definition or {})
    form = SegmentForm(
        initial={
            "name": segment.name,
            "alias": segment.alias,
            "description": segment.description,
            "is_published": segment.is_published,
            "in_preference_centre": segment.in_preference_centre,
            "definition": json.dumps(shown, indent=1),
        }
    )
    return _builder(request, form, segment)


@require_POST
@require_permission("segments:edit")
def segment_preview(request, workspace_slug):
    """Return the builder's live count and sample for the posted filters (htmx), or their errors by path."""
    definition, problem = parse_definition(request.POST.get("definition", ""))
    context: dict[str, Any] = {"errors": {}, "problem": problem, "preview": None, "sample": []}
    if definition is not None:
        try:
            preview = selectors.segment_preview(definition)
        except ValidationError as error:
            context["errors"] = error_fields(error, non_field_key="definition")
        else:
            context["preview"] = preview
            if request.principal.can("contacts:view"):
                found_ = contacts.contacts_get(preview.sample_ids)
                context["sample"] = [found_[pk] for pk in preview.sample_ids if pk in found_]
    context["errors_json"] = json.dumps(context["errors"])
    context["contacts_url"] = reverse("contacts:list", kwargs={"workspace_slug": _slug(request)})
    return _render(request, "segments/_preview.html", context)


# ==============================================================================================
# Members


def _growth_chart(segment_id: int):
    return time_series(
        selectors.segment_growth(segment_id),
        title="Members by day",
        value_label="Members",
        empty_message="The growth chart starts with the segment's first rebuild.",
        width=CARD_WIDTH,
    )


@found
@require_permission("segments:view")
def segment_detail(request, workspace_slug, segment_id):
    """A segment's page: its growth, its members (by filter or added by hand) and the manual actions."""
    segment = selectors.segment_get(segment_id)
    removed = request.GET.get("show") == "removed"
    can_contacts = request.principal.can("contacts:view")
    rows: list[dict] = []
    page = None
    if can_contacts:
        try:
            page = selectors.segment_members_page(
                segment.pk, removed=removed, after=request.GET.get("after") or None, limit=PAGE_SIZE
            )
        except ValidationError as error:
            raise Http404("Not found.") from error
        people = contacts.contacts_get([m.contact_id for m in page.items])
        for membership in page.items:
            person = people.get(membership.contact_id)
            if person is not None:
                rows.append({"contact": person, "status": membership.status,
                             "how": MembershipStatus(membership.status).label})  # fmt: skip
    finder = ContactFindForm(request.GET or None)
    candidates = []
    if can_contacts and request.principal.can("segments:edit") and finder.is_valid() and finder.cleaned_data["find"]:
        try:
            candidates = contacts.contact_search(finder.cleaned_data["find"], limit=FIND_LIMIT).items
        except ValidationError as error:
            finder.add_error("find", error_message(error))
        if candidates:
            statuses = selectors.segment_memberships(segment.pk, [c.id for c in candidates])
            candidates = [
                {"contact": c, "member": statuses.get(c.id) in (MembershipStatus.FILTER, MembershipStatus.ADDED)}
                for c in candidates
            ]
    table = DataTable(
        columns=MEMBER_COLUMNS,
        query={"show": "removed"} if removed else {},
        order="",
        rows=rows,
        id="members",
        caption="Contacts kept out by hand" if removed else "Members",
        noun="contacts",
        row_template="segments/_member_rows.html",
        row_actions=request.principal.can("segments:edit"),
        empty={
            "title": "Nobody is kept out by hand" if removed else "No members yet",
            "text": "Contacts removed by hand stay out whatever the filters say; they are listed here."
            if removed
            else "Members appear when contacts match the filters (after a rebuild) or are added by hand.",
        },
    )
    next_query = ""
    if page is not None and page.has_more:
        next_query = urlencode({**({"show": "removed"} if removed else {}), "after": page.next_cursor or ""})
    context = {
        "segment": segment,
        "chart": _growth_chart(segment.pk),
        "table": table,
        "rows": rows,
        "removed": removed,
        "next_query": next_query,
        "finder": finder,
        "candidates": candidates,
    }
    return _render(request, "segments/detail.html", context)


def _members_back(request, segment_id: int, ids: list[int]) -> str:
    """Return where a members action goes back to: the contact's page (from its panel) or the segment's page."""
    if request.POST.get("next") == "contact" and len(ids) == 1:
        url = reverse("contacts:detail", kwargs={"workspace_slug": _slug(request), "contact_id": ids[0]})
        return f"{url}#segments"
    url = _url(request, "detail", segment_id=segment_id)
    return f"{url}?show=removed" if request.POST.get("next") == "removed" else url


def _members_change(request, segment_id: int, change, done: str):
    segment = selectors.segment_get(segment_id)
    ids = _posted_ids(request)
    if not ids:
        messages.error(request, "Choose at least one contact.")
        return redirect(_members_back(request, segment.pk, ids))
    try:
        count = change(segment.pk, ids, principal=request.principal, request=request)
    except ValidationError as error:
        messages.error(request, error_message(error))
    else:
        messages.success(request, done.format(count=count, name=segment.name, s="" if count == 1 else "s"))
    return redirect(_members_back(request, segment.pk, ids))


@require_POST
@found
@require_permission("segments:edit")
def members_add(request, workspace_slug, segment_id):
    """Add contacts by hand: they stay members whatever the filters say."""
    return _members_change(request, segment_id, actions.segment_members_add, "{count} contact{s} added to “{name}”.")


@require_POST
@found
@require_permission("segments:edit")
def members_add_chosen(request, workspace_slug):
    """Add contacts by hand to the segment the form chose (the contact page's "Add to segment")."""
    try:
        segment_id = parse_int(request.POST.get("segment"), minimum=1)
    except InvalidInput as error:
        raise Http404("Not found.") from error
    return _members_change(request, segment_id, actions.segment_members_add, "Added to “{name}”.")


@require_POST
@found
@require_permission("segments:edit")
def members_remove(request, workspace_slug, segment_id):
    """Remove contacts by hand: they stay out whatever the filters say."""
    return _members_change(
        request, segment_id, actions.segment_members_remove, "{count} contact{s} removed from “{name}”."
    )


@require_POST
@found
@require_permission("segments:edit")
def members_reset(request, workspace_slug, segment_id):
    """Forget manual adds and removes of contacts: the filters decide again."""
    return _members_change(
        request, segment_id, actions.segment_members_reset, "{count} contact{s} of “{name}” follow the filters again."
    )


# ==============================================================================================
# The contact page's panel


def contact_panel(request, contact) -> dict:
    """The "Segments" panel of a contact's page: its segments, and (for editors) the others to add it to."""
    if not request.principal.can("segments:edit"):
        return {"contact_segments": selectors.contact_segments(contact.id), "segments_can_edit": False}
    every = selectors.segments_with_membership(contact.id)  # one query for both lists, annotated with is_member
    member = {s.pk: s.is_member for s in every}  # type: ignore[attr-defined]  # the selector's annotation
    return {
        "contact_segments": [s for s in every if member[s.pk]],
        "segments_to_add": [s for s in every if not member[s.pk]],
        "segments_can_edit": True,
    }


# ==============================================================================================
# The contacts list's bulk actions (tidings.contacts.bulk_actions)


def bulk_segment_choices(request) -> list[tuple[str, str]]:
    """Return the segments the contacts list's bulk menu offers (by name)."""
    return [(str(segment.pk), segment.name) for segment in selectors.segments_list()[:500]]


def _bulk_segment(target: str):
    try:
        return selectors.segment_get(parse_int(target, minimum=1))
    except InvalidInput as error:
        raise Http404("Not found.") from error


def bulk_add_to_segment(request, contact_ids: list[int], target: str) -> str:
    """Add the chosen contacts to the segment by hand; return what the list says."""
    segment = _bulk_segment(target)
    count = actions.segment_members_add(segment.pk, contact_ids, principal=request.principal, request=request)
    return f"{count} contact{'' if count == 1 else 's'} added to “{segment.name}”."


def bulk_remove_from_segment(request, contact_ids: list[int], target: str) -> str:
    """Remove the chosen contacts from the segment by hand (they stay out); return what the list says."""
    segment = _bulk_segment(target)
    count = actions.segment_members_remove(segment.pk, contact_ids, principal=request.principal, request=request)
    return f"{count} contact{'' if count == 1 else 's'} removed from “{segment.name}”."
