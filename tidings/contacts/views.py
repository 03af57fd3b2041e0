"""Pages for contacts, companies, fields, imports and exports. Thin: forms in, actions and selectors do the work.

Every object named in a URL is read through a selector scoped to request.workspace; an id of
another workspace raises DoesNotExist there and answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import found, require_permission
from tidings.contacts import actions, bulk_actions, exports, imports, selectors
from tidings.contacts.fields import propose_alias
from tidings.contacts.forms import (
    GROUP_TITLES,
    BulkForm,
    CompanyLinkForm,
    ContactFilterForm,
    DncForm,
    FieldCreateForm,
    FieldDeleteForm,
    FieldEditForm,
    FieldLabelForm,
    GuardPolicyForm,
    ImportMappingForm,
    ImportUploadForm,
    MergeForm,
    NoteForm,
    OwnerLookup,
    TagForm,
    ValuesForm,
    field_group,
)
from tidings.contacts.models import Channel, FieldObject, ImportStatus, SavedView
from tidings.countries import country_matches
from tidings.inputs import InvalidInput, parse_int
from tidings.privacy.categories import DataCategory, is_encrypted_category
from tidings.ui.datatable import ENCRYPTED_UNSORTABLE, Column, DataTable
from tidings.validation import error_message as _message
from tidings.validation import form_add_errors

PAGE_SIZE = 50
TIMELINE_PAGE = 20
# A contact created by hand names someone through one of these; without any it would be "Anonymous #N".
IDENTIFYING_ALIASES = ("email", "firstname", "lastname", "company", "phone", "mobile")
TAG_SUGGESTIONS = 20  # names a tag input's suggestions show; a workspace may have any number of tags
OWNER_KEYWORDS = ("Me", "Nobody")  # what the list filter's owner input takes besides members


def _render(request, template: str, context: dict, status: int = 200):
    """Render with `can`: what the principal may do here, so pages offer only what will be allowed."""
    principal = request.principal
    context["can"] = {
        "edit": principal.can("contacts:edit"),
        "delete": principal.can("contacts:delete"),
        "import": principal.can("contacts:import"),
        "export": principal.can("contacts:export"),
    }
    return render(request, template, context, status=status)


def _owner_names(request, ids) -> dict[str, str]:
    """Return {str(user id): name or email} of those of ids that are members (one query, not every member)."""
    from tidings.accounts.selectors import members_by_id

    users = members_by_id(request.workspace, {int(i) for i in ids if isinstance(i, int)})
    return {str(pk): user.get_full_name() or user.email for pk, user in users.items()}


def _slug(request) -> str:
    return request.workspace.slug


def _contact_url(request, contact_id: int, anchor: str = "") -> str:
    url = reverse("contacts:detail", kwargs={"workspace_slug": _slug(request), "contact_id": contact_id})
    return f"{url}#{anchor}" if anchor else url


# ==============================================================================================
# Contacts list, bulk actions, export


CONTACT_TABLE = "contacts"  # the list's key in list preferences and saved views
MATCHING_MAX = 10_000  # a bulk action on "every matching contact" handles at most this many in one request
BULK_BATCH = 1000  # ids per action call of a matching bulk action (one audit entry each)


def _contact_columns(definitions) -> list[Column]:
    """Return the contacts table's columns: identity, clear values, then the listable custom fields."""
    not_indexed = "Not indexed for sorting: filter by it instead."
    columns = [
        Column("name", "Name", unsortable=ENCRYPTED_UNSORTABLE, required=True),
        Column("email", "Email", unsortable=ENCRYPTED_UNSORTABLE),
        Column("company", "Company", sort="company_name"),
        Column("position", "Position", unsortable=not_indexed, default=False),
        Column("city", "City", unsortable=not_indexed, default=False),
        Column("country", "Country", sort="country"),
        Column("tags", "Tags", unsortable="A contact has several tags: filter by tag instead."),
        Column("points", "Points", sort="points", numeric=True, first_descending=True),
        Column("last_active", "Last active", sort="last_active", first_descending=True),
        Column("owner", "Owner", unsortable="Filter by owner instead."),
        Column("domain", "Email domain", sort="email_domain", default=False),
        Column("created", "Created", sort="id", first_descending=True, default=False),
    ]
    for definition in definitions:
        if definition.is_core or not definition.is_listable:
            continue
        reason = ENCRYPTED_UNSORTABLE if definition.is_encrypted else "Custom fields are not indexed for sorting."
        columns.append(Column(f"f:{definition.alias}", definition.label, unsortable=reason, default=False))
    return columns


def _cell(contact, key: str, owner: str):
    """Return what the contacts table shows in column key for contact (the template formats dates and tags)."""
    if key == "name":
        return contact.name
    if key == "tags":
        return contact.tags
    if key == "owner":
        return owner
    if key == "domain":
        return contact.email_domain
    if key == "created":
        return contact.created_at
    alias = {"company": "company"}.get(key, key.removeprefix("f:"))
    value = contact.fields.get(alias)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def _cell_html(column: Column, contact, owner: str, url: str) -> str:
    """Return the <td> of one cell of the contacts table, escaped (built here: 500 template cells cost 3 times more)."""
    value = _cell(contact, column.key, owner)
    if column.key == "name":
        if value:
            label = conditional_escape(value)
        else:
            label = format_html(
                '<span class="muted">{}</span>', "erased" if contact.shredded else f"Anonymous #{contact.id}"
            )
        return format_html('<td><a href="{}">{}</a></td>', url, label)
    if column.key == "tags":
        badges = format_html_join(" ", '<span class="badge">{}</span>', ((tag,) for tag in value))
        return format_html('<td class="dt-wrap">{}</td>', badges)
    if column.key in ("last_active", "created"):
        if not value:
            return mark_safe('<td><span class="muted">never</span></td>')  # noqa: S308 (a constant)
        shown = value.strftime("%Y-%m-%d %H:%M" if column.key == "last_active" else "%Y-%m-%d")
        return format_html('<td><time datetime="{}">{}</time></td>', value.isoformat(), shown)
    if value is None:
        value = ""
    return format_html('<td class="num">{}</td>' if column.numeric else "<td>{}</td>", value)


def _list_params(request) -> tuple[QueryDict, SavedView | None]:
    """Return the list's query (a saved view's filters under the query string's) and the saved view opened."""
    raw = request.GET.get("view")
    if not raw:
        return request.GET, None
    try:
        saved = selectors.saved_view_get(parse_int(raw, minimum=1), CONTACT_TABLE, request.principal.actor_id)
    except (InvalidInput, SavedView.DoesNotExist) as error:
        raise Http404("Not found.") from error
    params = QueryDict(mutable=True)
    params.update(saved.query)
    for key in request.GET:
        params.setlist(key, request.GET.getlist(key))
    return params, saved


def _empty_state(request, *, has_filters: bool, hints: list[str], can_edit: bool, can_import: bool) -> dict:
    """Return what an empty list says: how to add the first contacts, or why nothing matched."""
    slug = _slug(request)
    if has_filters:
        return {
            "title": "No contacts match",
            "text": "Change the search or the filters, or clear them to see every contact.",
            "hints": hints,
            "clear_url": reverse("contacts:list", kwargs={"workspace_slug": slug}),
        }
    if selectors.contacts_exist():  # only a cursor past the end lands here
        return {"title": "No more contacts", "actions": [("Back to the first page", "?")]}
    actions_ = []
    if can_import:
        actions_.append(("Import a CSV file", reverse("contacts:import_upload", kwargs={"workspace_slug": slug})))
    if can_edit:
        actions_.append(("Add a contact", reverse("contacts:create", kwargs={"workspace_slug": slug})))
    return {
        "title": "No contacts yet",
        "text": "Import a spreadsheet of contacts or add one by hand; forms and tracking add them too."
        if actions_
        else "Contacts appear here once a member imports or adds them.",
        "actions": actions_,
    }


def _bulk_extra(request) -> dict:
    """Return the registered bulk actions the member may apply and the choices of their targets (one select each)."""
    allowed = bulk_actions.allowed(request.principal)
    targets: dict[str, dict] = {}
    for extra in allowed:
        if extra.target and extra.targets and extra.target not in targets:
            targets[extra.target] = {
                "name": extra.target,
                "label": extra.target_label,
                "choices": extra.targets(request),
            }
    return {"actions": allowed, "targets": list(targets.values())}


def _filter_form(request, params) -> ContactFilterForm:
    slug = {"workspace_slug": _slug(request)}
    return ContactFilterForm(
        params or None,
        owners=OwnerLookup(request.workspace),
        tag_suggest_url=reverse("contacts:tag_suggest", kwargs=slug),
        owner_suggest_url=reverse("contacts:owner_suggest", kwargs=slug) + "?keywords=1",
    )


@require_permission("contacts:view")
def contact_list(request, workspace_slug):
    """List contacts in the data table: search, filters, sort, chosen columns, saved views, keyset pages.

    "Next" carries a cursor, never an offset. ?view=ID opens a saved view (the member's own or a
    shared one; another's private view answers 404); query parameters given with it win.
    """
    me = request.principal.actor_id
    params, saved = _list_params(request)
    form = _filter_form(request, params)
    page, error, total = None, "", None
    arguments: dict = {"search": "", "filters": {}, "order": "-last_active"}
    if form.is_bound and not form.is_valid():
        problems = [f"{form[name].label}: {' '.join(str(e) for e in errs)}"
                    for name, errs in form.errors.items() if name in form.fields]  # fmt: skip
        error = "Check the filters: " + " ".join(problems)
    else:
        if form.is_bound:
            arguments = form.selector_arguments(me=me)
        after = form.cleaned_data.get("after") if form.is_bound else None
        try:
            page = selectors.contacts_page(**arguments, after=after or None, limit=PAGE_SIZE, me=me)
            if not after:  # a next page keeps the total the first one showed
                total = selectors.contacts_total(search=arguments["search"], filters=arguments["filters"], me=me)
        except ValidationError as problem:
            error = _message(problem)
    preference = selectors.list_preference(CONTACT_TABLE, me)
    query = QueryDict(mutable=True)
    for key in params:
        if key not in ("after",) and any(params.getlist(key)):
            query.setlist(key, params.getlist(key))
    if form.is_bound and not form.errors and query.get("owner"):
        # Links and saved views keep the member's id (or me/none), never the name or email typed.
        query["owner"] = form.cleaned_data["owner"]
    if saved:
        query["view"] = str(saved.pk)
    owner_names = _owner_names(request, {c.get("owner") for c in (page.items if page else [])})
    rows = [{"contact": c, "owner": owner_names.get(str(c.get("owner")), "")} for c in (page.items if page else [])]
    can = {"edit": request.principal.can("contacts:edit"), "import": request.principal.can("contacts:import")}
    hints = selectors.search_hints(arguments["search"]) if not rows else []
    slug = _slug(request)
    definitions = selectors.field_definitions()
    contacts_url = reverse("contacts:list", kwargs={"workspace_slug": slug})
    table = DataTable(
        columns=_contact_columns(definitions),
        query=query,
        order=arguments["order"],
        chosen=(saved.columns if saved and saved.columns else None) or (preference.columns if preference else None),
        density=preference.density if preference else "comfortable",
        rows=rows,
        id="contacts",
        caption="Contacts",
        noun="contacts" if not total or total.value != 1 else "contact",
        total=total.value if total else None,
        total_exact=total.exact if total else True,
        total_at_least=total.at_least if total else False,
        row_template="contacts/_contact_rows.html",
        bulk_template="contacts/_contact_bulk.html",
        bulk_url=reverse("contacts:bulk", kwargs={"workspace_slug": slug}),
        prefs_url=reverse("contacts:table_prefs", kwargs={"workspace_slug": slug}),
        row_actions=True,
        empty=_empty_state(
            request,
            has_filters=bool(arguments["search"] or arguments["filters"] or error),
            hints=hints,
            can_edit=can["edit"],
            can_import=can["import"],
        )
        if page is None or not rows
        else {},
    )
    for row in rows:
        row["url"] = f"{contacts_url}{row['contact'].id}/"
        row["cells"] = mark_safe(  # noqa: S308 (each cell is built by format_html)
            "".join(_cell_html(column, row["contact"], row["owner"], row["url"]) for column in table.visible)
        )
    export_query = urlencode({k: str(v) for k, v in query.items() if k not in ("view", "after")})
    context = {
        "form": form,
        "page": page,
        "error": error,
        "table": table,
        "rows": rows,
        "next_query": urlencode({**cast(dict[str, str], query.dict()), "after": page.next_cursor or ""})
        if page and page.has_more
        else "",
        "first_query": query.urlencode(),
        "paged": bool(params.get("after")),
        "export_query": export_query,
        "export_url": reverse("contacts:export", kwargs={"workspace_slug": slug, "fmt": "csv"}),
        "export_columns": [(d.alias, d.label) for d in definitions],
        "bulk_actions": BulkForm.ACTIONS,
        "bulk_extra": _bulk_extra(request),
        "saved_view": saved,
        "saved_views": selectors.saved_views(CONTACT_TABLE, me),
        "unknown_command_hints": [h for h in selectors.search_hints(arguments["search"]) if "search command" in h],
        "me": me,
    }
    template = "contacts/_contact_rows.html" if request.htmx and params.get("after") else "contacts/list.html"
    return _render(request, template, context)


@require_POST
@require_permission("contacts:view")
def contact_table_prefs(request, workspace_slug):
    """Save the member's columns and density for the contacts table, then go back to the list."""
    back = _back(request)
    columns = request.POST.getlist("columns")
    known = {c.key for c in _contact_columns(selectors.field_definitions())}
    try:
        actions.list_preference_save(
            CONTACT_TABLE,
            columns=[c for c in columns if c in known] if "columns" in request.POST else None,
            density=request.POST.get("density") or None,
            principal=request.principal,
            request=request,
        )
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, "Your columns are saved.")
    return redirect(back)


@require_POST
@require_permission("contacts:view")
def contact_view_save(request, workspace_slug):
    """Save the list's current filters, columns and sort as a view of the member (optionally shared)."""
    params = QueryDict(request.POST.get("query", "")[:4000])
    preference = selectors.list_preference(CONTACT_TABLE, request.principal.actor_id)
    columns = request.POST.getlist("columns") or (preference.columns if preference else [])
    known = {c.key for c in _contact_columns(selectors.field_definitions())}
    try:
        view = actions.saved_view_save(
            CONTACT_TABLE,
            name=request.POST.get("name", ""),
            query={k: params.get(k, "") for k in params if k not in ("after", "view")},
            columns=[c for c in columns if c in known],
            shared=request.POST.get("shared") == "1",
            principal=request.principal,
            request=request,
        )
    except ValidationError as error:
        messages.error(request, "The view was not saved: " + _message(error))
        return redirect(_back(request))
    messages.success(request, f"View “{view.name}” saved.")
    return redirect(reverse("contacts:list", kwargs={"workspace_slug": _slug(request)}) + f"?view={view.pk}")


@require_POST
@found
@require_permission("contacts:view")
def contact_view_delete(request, workspace_slug, view_id):
    """Delete one of the member's saved views (another member's view answers 404)."""
    actions.saved_view_delete(view_id, principal=request.principal, request=request)
    messages.success(request, "View deleted.")
    return redirect("contacts:list", workspace_slug=_slug(request))


def _back(request) -> str:
    """Return the list URL to go back to (a path of this workspace's contacts pages only)."""
    back = request.POST.get("next") or ""
    if not back.startswith(f"/w/{_slug(request)}/contacts/"):
        back = reverse("contacts:list", kwargs={"workspace_slug": _slug(request)})
    return back


@require_permission("contacts:view")
def tag_suggest(request, workspace_slug):
    """Return up to TAG_SUGGESTIONS tag names starting with ?tag= as <option>s (htmx, for a tag input's datalist)."""
    typed = (request.GET.get("tag") or request.GET.get("add") or "").strip()[:100]
    tags = selectors.tags(search=typed, limit=TAG_SUGGESTIONS) if typed else []
    return _render(request, "contacts/_tag_options.html", {"tags": tags})


@require_permission("contacts:view")
def country_suggest(request, workspace_slug):
    """Return up to TAG_SUGGESTIONS countries the typed text may name as <option>s (code, "Name (CODE)")."""
    typed = _typed(request, "country", "companycountry")
    options = [(code, f"{name} ({code})") for code, name in country_matches(typed, TAG_SUGGESTIONS)]
    return _render(request, "contacts/_suggest_options.html", {"options": options})


@require_permission("contacts:view")
def company_suggest(request, workspace_slug):
    """Return up to TAG_SUGGESTIONS names of this workspace's companies matching the typed words as <option>s."""
    typed = _typed(request, "company", "companyname")
    try:
        companies = selectors.companies_page(search=typed, limit=TAG_SUGGESTIONS).items if typed else []
    except ValidationError:  # a search the selector refuses (too long) suggests nothing
        companies = []
    return _render(request, "contacts/_suggest_options.html", {"options": [(c.name, "") for c in companies]})


@require_permission("contacts:view")
def owner_suggest(request, workspace_slug):
    """Return up to TAG_SUGGESTIONS members whose name or email holds the typed words as <option>s ("Name <email>").

    Only members of this workspace, the people its member list shows anyone who may see contacts.
    With ?keywords=1 (the list's filter) "Me" and "Nobody" are offered too when the text starts them.
    """
    typed = _typed(request, "owner")
    options: list[tuple[str, str]] = []
    if typed and request.GET.get("keywords") == "1":
        options = [(word, "") for word in OWNER_KEYWORDS if word.casefold().startswith(typed.casefold())]
    if typed:
        options += OwnerLookup(request.workspace).suggestions(typed, limit=TAG_SUGGESTIONS)
    return _render(request, "contacts/_suggest_options.html", {"options": options[:TAG_SUGGESTIONS]})


def _typed(request, *names: str) -> str:
    """Return the text typed into an autocomplete input: htmx sends it under the input's name."""
    return next((request.GET[name] for name in names if request.GET.get(name)), "").strip()[:100]


def _suggest_urls(request) -> dict[str, str]:
    """Return the autocomplete endpoints a contact or company form asks (ValuesForm's suggest_urls)."""
    slug = {"workspace_slug": _slug(request)}
    return {"country": reverse("contacts:country_suggest", kwargs=slug),
            "company": reverse("contacts:company_suggest", kwargs=slug),
            "owner": reverse("contacts:owner_suggest", kwargs=slug)}  # fmt: skip


def _matching_ids(request, query: str) -> tuple[list[int] | None, str]:
    """Return the ids of every contact the list's query matches (at most MATCHING_MAX), or (None, why not)."""
    form = _filter_form(request, QueryDict(query))
    if form.is_bound and not form.is_valid():
        return None, "The filters of that list are not valid any more."
    arguments: dict[str, Any] = {"search": "", "filters": {}}  # an empty query: every contact
    if form.is_bound:
        arguments = form.selector_arguments(me=request.principal.actor_id)
    try:
        ids = list(
            selectors.contact_ids(search=arguments["search"], filters=arguments["filters"],
                                  me=request.principal.actor_id).order_by("id")[: MATCHING_MAX + 1]
        )  # fmt: skip
    except ValidationError as error:
        return None, _message(error)
    if len(ids) > MATCHING_MAX:
        return None, f"More than {MATCHING_MAX:,} contacts match: narrow the filters, or export them."
    return ids, ""


def _batches(ids: list[int]):
    for start in range(0, len(ids), BULK_BATCH):
        yield ids[start : start + BULK_BATCH]


@require_POST
@require_permission("contacts:view")
def contact_bulk(request, workspace_slug):
    """Apply a bulk action to the selected contacts, or to every contact matching the list (scope=matching).

    Tags are added or removed, contacts exported (the export page of the same contacts) or
    deleted after a confirmation. The permission depends on the action chosen, so it is
    checked here and again by the action.
    """
    form = BulkForm(request.POST)
    back = _back(request)
    if not form.is_valid():
        messages.error(
            request, "Select contacts and an action" + (" and name the tag." if "tag" in form.errors else ".")
        )
        return redirect(back)
    data = form.cleaned_data
    matching = data.get("scope") == "matching"
    if data["action"].startswith("export_"):
        if not request.principal.can("contacts:export"):
            raise PermissionDenied("You need the contacts:export permission.")
        fmt = data["action"].removeprefix("export_")
        if matching:
            query = QueryDict(data.get("query") or "", mutable=True)
            for key in ("after", "view", "sort"):
                query.pop(key, None)
        else:
            query = QueryDict(mutable=True)
            query.setlist("ids", [str(i) for i in data["ids"]])
        url = reverse("contacts:export", kwargs={"workspace_slug": _slug(request), "fmt": fmt})
        return redirect(f"{url}?{query.urlencode()}" if query else url)
    if matching:
        ids, problem = _matching_ids(request, data.get("query") or "")
        if ids is None:
            messages.error(request, problem)
            return redirect(back)
    else:
        ids = data["ids"]
    extra = bulk_actions.get(data["action"])
    if extra is not None:  # an action another app registered: it checks and applies the change
        if not request.principal.can(extra.permission):
            raise PermissionDenied(f"You need the {extra.permission} permission.")
        try:
            said = extra.run(request, ids, request.POST.get(extra.target, "") if extra.target else "")
        except ObjectDoesNotExist as error:
            raise Http404("Not found.") from error
        except ValidationError as error:
            messages.error(request, _message(error))
        else:
            messages.success(request, said)
        return redirect(back)
    if data["action"] == "delete":
        if not request.principal.can("contacts:delete"):
            raise PermissionDenied("You need the contacts:delete permission.")
        if not data["confirmed"]:
            context = {"back": back, "count": len(ids) if matching else len(selectors.contacts_get(ids))}
            if matching:
                context.update(scope="matching", query=data.get("query") or "")
            else:
                context["ids"] = sorted(selectors.contacts_get(ids))
            return _render(request, "contacts/bulk_delete_confirm.html", context)
        deleted = sum(
            actions.contacts_delete(batch, principal=request.principal, request=request) for batch in _batches(ids)
        )
        messages.success(request, f"Deleted {deleted} contact{'s' if deleted != 1 else ''}.")
        return redirect(back)
    if not request.principal.can("contacts:edit"):
        raise PermissionDenied("You need the contacts:edit permission.")
    tag = data["tag"].strip()
    change = [tag] if data["action"] == "tag_add" else [f"-{tag}"]
    added = removed = 0
    for batch in _batches(ids):
        more, fewer = actions.contacts_tag(batch, change, principal=request.principal, request=request)
        added, removed = added + more, removed + fewer
    messages.success(request, f"Tag “{tag}” {'added to' if added else 'removed from'} {added or removed} contact(s).")
    return redirect(back)


@require_permission("contacts:export")
def contact_export(request, workspace_slug, fmt):
    """Stream the contacts matching the list's search and filters as CSV or JSON (audited: contacts.exported).

    ?columns=ALIAS (repeated) picks the fields exported (all by default; "tags" for the tags);
    ?ids=ID (repeated) exports only those contacts ("export selected").
    """
    if fmt not in exports.FORMATS:
        raise Http404("No such format.")
    form = ContactFilterForm(request.GET, owners=OwnerLookup(request.workspace))
    if not form.is_valid():
        return HttpResponse("Check the filters.", status=400, content_type="text/plain")
    arguments = form.selector_arguments(me=request.principal.actor_id)
    raw_ids = request.GET.getlist("ids")
    if raw_ids:
        try:
            arguments["filters"]["ids"] = [parse_int(value, minimum=1) for value in raw_ids[: MATCHING_MAX + 1]]
        except InvalidInput:
            return HttpResponse("ids: whole numbers only.", status=400, content_type="text/plain")
    try:
        chunks, _count = exports.export_contacts(
            fmt=fmt,
            search=arguments["search"],
            filters=arguments["filters"],
            columns=request.GET.getlist("columns") or None,
            me=request.principal.actor_id,
            principal=request.principal,
            request=request,
        )
    except ValidationError as error:
        return HttpResponse(_message(error), status=400, content_type="text/plain")
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="contacts-{_slug(request)}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


# ==============================================================================================
# One contact


# Core fields the contact page's header shows (owner by name, stage, points, last activity), left out of its groups.
HEADER_ALIASES = frozenset({"owner", "stage", "points", "last_active"})


def _contact_context(request, contact_id: int, **extra) -> dict:
    """Return the contact page's own context; notes, tags, companies and DNC come from their panels."""
    contact = selectors.contact_get(contact_id)
    definitions = selectors.field_definitions()
    owner_id = contact.fields.get("owner")
    owners = _owner_names(request, [owner_id])
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
    return {
        "contact": contact,
        "owner": owners.get(str(owner_id), f"#{owner_id}") if owner_id is not None else "",
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
    return _render(request, "contacts/detail.html", _contact_context(request, contact_id))


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
    return _render(request, "contacts/_timeline.html", {"timeline": timeline, "contact_id": contact_id})


@require_permission("contacts:edit")
def contact_create(request, workspace_slug):
    """Create a contact from the form of every editable field."""
    form = ValuesForm(selectors.field_definitions(), request.POST or None, owners=OwnerLookup(request.workspace),
                      suggest_urls=_suggest_urls(request))  # fmt: skip
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
            return redirect(_contact_url(request, contact.id))
    return _render(request, "contacts/form.html", {"form": form, "contact": None}, status=400 if form.errors else 200)


@found
@require_permission("contacts:edit")
def contact_edit(request, workspace_slug, contact_id):
    """Edit a contact's values; only the fields changed in the form are sent to the action."""
    contact = selectors.contact_get(contact_id)
    form = ValuesForm(
        selectors.field_definitions(),
        request.POST or None,
        values=contact.fields,
        owners=OwnerLookup(request.workspace),
        suggest_urls=_suggest_urls(request),
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.contact_update(contact_id, form.values(changed_only=True), principal=request.principal,
                                   request=request)  # fmt: skip
        except ValidationError as error:
            form.add_action_errors(error)
        else:
            messages.success(request, "Contact saved.")
            return redirect(_contact_url(request, contact_id))
    return _render(
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
        return redirect("contacts:list", workspace_slug=_slug(request))
    return _render(request, "contacts/delete_confirm.html", {"contact": contact})


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
        return _render(request, "contacts/_tags.html", context)
    if error:
        messages.error(request, error)
    return redirect(_contact_url(request, contact_id, "tags"))


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
            return _render(request, "contacts/_notes.html", context)
        messages.success(request, "Note added.")
        return redirect(_contact_url(request, contact_id, "notes"))
    form.fields["text"].widget.attrs["autofocus"] = True  # back at the field to fix, wherever the page is
    if request.htmx:
        context = {"contact": selectors.contact_get(contact_id), "notes": selectors.contact_notes(contact_id),
                   "note_form": form}  # fmt: skip
        return _render(request, "contacts/_notes.html", context)  # 200: htmx swaps no 4xx answer
    return _render(request, "contacts/detail.html", _contact_context(request, contact_id, note_form=form), status=400)


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
        return redirect(_contact_url(request, contact_id, "notes"))
    return _render(request, "contacts/note_form.html", {"form": form, "note": note, "contact_id": contact_id})


@require_POST
@found
@require_permission("contacts:edit")
def note_delete(request, workspace_slug, contact_id, note_id):
    _note_of(contact_id, note_id)
    actions.note_delete(note_id, principal=request.principal, request=request)
    messages.success(request, "Note deleted.")
    return redirect(_contact_url(request, contact_id, "notes"))


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
    return redirect(_contact_url(request, contact_id, "companies"))


@require_POST
@found
@require_permission("contacts:edit")
def company_unlink(request, workspace_slug, contact_id, company_id):
    selectors.contact_get(contact_id)
    selectors.company_get(company_id)
    actions.company_unlink(contact_id, company_id, principal=request.principal, request=request)
    messages.success(request, "Company unlinked.")
    return redirect(_contact_url(request, contact_id, "companies"))


@require_POST
@found
@require_permission("contacts:edit")
def company_primary(request, workspace_slug, contact_id, company_id):
    selectors.contact_get(contact_id)
    selectors.company_get(company_id)
    actions.company_link(contact_id, company_id, is_primary=True, principal=request.principal, request=request)
    messages.success(request, "Primary company changed.")
    return redirect(_contact_url(request, contact_id, "companies"))


@require_POST
@found
@require_permission("contacts:edit")
def dnc_add(request, workspace_slug, contact_id):
    selectors.contact_get(contact_id)
    form = DncForm(request.POST)
    if form.is_valid():
        actions.dnc_add(contact_id, **form.cleaned_data, principal=request.principal, request=request)
        messages.success(request, "Marked as do not contact.")
        return redirect(_contact_url(request, contact_id, "dnc"))
    return _render(request, "contacts/detail.html", _contact_context(request, contact_id, dnc_form=form), status=400)


@require_POST
@found
@require_permission("contacts:edit")
def dnc_remove(request, workspace_slug, contact_id, channel):
    selectors.contact_get(contact_id)
    if channel not in Channel.values:
        raise Http404("No such channel.")
    actions.dnc_remove(contact_id, channel=channel, principal=request.principal, request=request)
    messages.success(request, "Contacting allowed again on this channel.")
    return redirect(_contact_url(request, contact_id, "dnc"))


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
            return redirect(_contact_url(request, contact_id))
    return _render(request, "contacts/merge.html", {"contact": contact, "form": form, "other": other})


# ==============================================================================================
# Companies


COMPANY_SORTS = [("name", "Name"), ("contacts", "Contacts"), ("created", "Created")]


@require_permission("contacts:view")
def company_list(request, workspace_slug):
    """List companies with their contact counts (search: any word of the name; sort by a column), keyset-paginated."""
    search = request.GET.get("q", "")[:100]
    order = request.GET.get("sort") or "name"
    if order not in selectors.COMPANY_ORDERS:
        order = "name"
    try:
        page = selectors.companies_page(
            search=search, order=order, after=request.GET.get("after") or None, limit=PAGE_SIZE
        )
    except ValidationError as error:
        raise Http404("Not found.") from error
    next_query = urlencode({"q": search, "sort": order, "after": page.next_cursor}) if page.has_more else ""
    # Each header sorts by its column; the current column's header flips the direction.
    sorts = [
        {
            "label": label,
            "query": urlencode({"q": search, "sort": f"-{key}" if order == key else key}),
            "aria": "ascending" if order == key else "descending" if order == f"-{key}" else "",
        }
        for key, label in COMPANY_SORTS
    ]
    context = {"page": page, "q": search, "sort": order, "sorts": sorts, "next_query": next_query}
    return _render(request, "contacts/company_list.html", context)


def _warn_same_name(request, company) -> None:
    """Tell the user (without refusing) that other companies have the same name, case and spacing aside."""
    same = selectors.companies_named_like(company.name, exclude_id=company.id)
    if same:
        messages.warning(
            request,
            f"{len(same)} other compan{'y has' if len(same) == 1 else 'ies have'} the same name: "
            "check that this is not a duplicate.",
        )


@found
@require_permission("contacts:view")
def company_detail(request, workspace_slug, company_id):
    company = selectors.company_get(company_id)
    values = selectors.company_values(company)
    definitions = selectors.field_definitions(FieldObject.COMPANY)
    rows = [{"definition": d, "value": values.get(d.alias)} for d in definitions]
    try:
        contacts = selectors.contacts_page(
            filters={"company_id": company_id}, after=request.GET.get("after") or None, limit=PAGE_SIZE
        )
    except ValidationError as error:
        raise Http404("Not found.") from error
    context = {"company": company, "rows": rows, "contacts": contacts}
    return _render(request, "contacts/company_detail.html", context)


def _company_form(request, company=None):
    values = selectors.company_values(company) if company else None
    return ValuesForm(selectors.field_definitions(FieldObject.COMPANY), request.POST or None, values=values,
                      suggest_urls=_suggest_urls(request))  # fmt: skip


@require_permission("contacts:edit")
def company_create(request, workspace_slug):
    form = _company_form(request)
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.values(changed_only=False).items() if v not in ("", None, [])}
        try:
            company = actions.company_create(values, principal=request.principal, request=request)
        except ValidationError as error:
            form.add_action_errors(error)
        else:
            messages.success(request, "Company created.")
            _warn_same_name(request, company)
            return redirect("contacts:company_detail", workspace_slug=_slug(request), company_id=company.id)
    return _render(request, "contacts/company_form.html", {"form": form, "company": None},
                  status=400 if form.errors else 200)  # fmt: skip


@found
@require_permission("contacts:edit")
def company_edit(request, workspace_slug, company_id):
    company = selectors.company_get(company_id)
    form = _company_form(request, company)
    if request.method == "POST" and form.is_valid():
        try:
            company = actions.company_update(company_id, form.values(changed_only=True),
                                             principal=request.principal, request=request)  # fmt: skip
        except ValidationError as error:
            form.add_action_errors(error)
        else:
            messages.success(request, "Company saved.")
            _warn_same_name(request, company)
            return redirect("contacts:company_detail", workspace_slug=_slug(request), company_id=company_id)
    return _render(request, "contacts/company_form.html", {"form": form, "company": company},
                  status=400 if form.errors else 200)  # fmt: skip


@found
@require_permission("contacts:delete")
def company_delete(request, workspace_slug, company_id):
    company = selectors.company_get(company_id)
    if request.method == "POST":
        actions.company_delete(company_id, principal=request.principal, request=request)
        messages.success(request, "Company deleted; its contacts are kept.")
        return redirect("contacts:company_list", workspace_slug=_slug(request))
    return _render(request, "contacts/company_delete.html", {"company": company})


# ==============================================================================================
# Field management (contacts:edit: the permission catalogue gives fields to it; hard delete also needs
# contacts:delete, because it destroys every value stored in the field)


def _field_object(request) -> str:
    value = request.GET.get("object") or request.POST.get("object") or FieldObject.CONTACT
    return value if value in FieldObject.values else FieldObject.CONTACT


def _fields_url(request, object: str) -> str:
    return reverse("contacts:fields", kwargs={"workspace_slug": _slug(request)}) + f"?object={object}"


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
        reverse("contacts:field_alias", kwargs={"workspace_slug": _slug(request)}) + f"?object={object}"
    )
    definitions = selectors.field_definitions(object, include_archived=True)
    context = {
        "object": object,
        "definitions": definitions,
        "form": form,
        "encrypted_categories": [c.label for c in DataCategory if c and is_encrypted_category(c)],
    }
    return _render(request, "contacts/fields.html", context, status=400 if form.errors else 200)


@require_permission("contacts:edit")
def field_alias(request, workspace_slug):
    """Return {"alias": ...}: the alias proposed for a new field from its label (free in the object's tab)."""
    object = _field_object(request)
    taken = [f.alias for f in selectors.field_definitions(object, include_archived=True)]
    label = request.GET.get("label", "")[:120]
    return JsonResponse({"alias": propose_alias(label, taken)})


@found
@require_permission("contacts:edit")
def field_edit(request, workspace_slug, field_id):
    """Edit a field in the side panel (htmx) or on its own page: label, flags, options.

    Making a field required or unique is refused, with counts, while existing data says no.
    """
    field = selectors.field_get(field_id)
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
        return _render(request, "contacts/_field_panel.html", context)
    return _render(request, "contacts/field_edit.html", context, status=400 if form.errors else 200)


@require_POST
@found
@require_permission("contacts:edit")
def field_label(request, workspace_slug, field_id):
    field = selectors.field_get(field_id)
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
    field = selectors.field_get(field_id)
    siblings = selectors.field_definitions(field.object, include_archived=True)
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
    field = selectors.field_get(field_id)
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
    field = selectors.field_get(field_id)
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
    field = selectors.field_get(field_id)
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
    return _render(request, "contacts/field_delete.html", {"field": field, "form": form},
                  status=400 if form.errors else 200)  # fmt: skip


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
            return redirect("contacts:import_map", workspace_slug=_slug(request), import_id=job.id)
    context = {"form": form, "max_mb": imports.max_upload_bytes() // (1024 * 1024)}
    return _render(request, "contacts/import_upload.html", context, status=400 if form.errors else 200)


@require_permission("contacts:import")
def import_list(request, workspace_slug):
    """List recent imports; members who manage settings choose the sensitive-data policy here."""
    settings_row = selectors.contact_settings()
    context = {
        "imports": selectors.imports_recent(),
        "policy_form": GuardPolicyForm(initial={"guard_policy": settings_row.guard_policy}),
        "can_manage": request.principal.can("settings:manage"),
    }
    return _render(request, "contacts/import_list.html", context)


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
    return redirect("contacts:import_list", workspace_slug=_slug(request))


@found
@require_permission("contacts:import")
def import_map(request, workspace_slug, import_id):
    """Map columns to fields (auto-mapped by header), with a preview, then choose lawful basis and tags."""
    job = selectors.import_get(import_id)
    if job.status != ImportStatus.UPLOADED:
        return redirect("contacts:import_detail", workspace_slug=_slug(request), import_id=job.id)
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
            return redirect("contacts:import_detail", workspace_slug=_slug(request), import_id=job.id)
    rows = imports.preview(job)
    context = {
        "job": job,
        "form": form,
        "columns": [
            (form[name], [row[i] if i < len(row) else "" for row in rows]) for i, name in enumerate(form.columns)
        ],
        "policy": selectors.contact_settings().get_guard_policy_display(),
    }
    return _render(request, "contacts/import_map.html", context, status=400 if form.errors else 200)


@found
@require_permission("contacts:import")
def import_detail(request, workspace_slug, import_id):
    """Show an import's progress; htmx polls the progress part while it is queued or running."""
    job = selectors.import_get(import_id)
    context = {"job": job, "flagged": job.flagged[:50], "errors": job.errors[:50]}
    template = "contacts/_import_progress.html" if request.htmx else "contacts/import_detail.html"
    return _render(request, template, context)


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
    return redirect("contacts:import_detail", workspace_slug=_slug(request), import_id=import_id)


@require_POST
@found
@require_permission("contacts:import")
def import_cancel(request, workspace_slug, import_id):
    selectors.import_get(import_id)
    try:
        imports.import_cancel(import_id, principal=request.principal, request=request)
    except ValidationError as error:
        messages.error(request, _message(error))
    return redirect("contacts:import_detail", workspace_slug=_slug(request), import_id=import_id)
