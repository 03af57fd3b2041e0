"""The contacts list: filters, saved views, table preferences, suggestions, bulk actions and export."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import found, require_permission
from tidings.contacts import actions, bulk_actions, exports, search_query, selectors, selectors_fields, selectors_stages
from tidings.contacts.forms import (
    BulkForm,
    ContactFilterForm,
    OwnerLookup,
)
from tidings.contacts.models import SavedView
from tidings.contacts.views.common import owner_names, render_page, slug_of
from tidings.countries import country_matches
from tidings.inputs import InvalidInput, parse_int
from tidings.ui.datatable import ENCRYPTED_UNSORTABLE, Column, DataTable
from tidings.validation import error_message as _message

PAGE_SIZE = 50
TAG_SUGGESTIONS = 20  # names a tag input's suggestions show; a workspace may have any number of tags
OWNER_KEYWORDS = ("Me", "Nobody")  # what the list filter's owner input takes besides members

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
    slug = slug_of(request)
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
    slug = {"workspace_slug": slug_of(request)}
    return ContactFilterForm(
        params or None,
        owners=OwnerLookup(request.workspace),
        stages=[(s.id, s.name) for s in selectors_stages.stages()],
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
    owners = owner_names(request, {c.get("owner") for c in (page.items if page else [])})
    rows = [{"contact": c, "owner": owners.get(str(c.get("owner")), "")} for c in (page.items if page else [])]
    can = {"edit": request.principal.can("contacts:edit"), "import": request.principal.can("contacts:import")}
    hints = search_query.search_hints(arguments["search"]) if not rows else []
    slug = slug_of(request)
    definitions = selectors_fields.field_definitions()
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
        "unknown_command_hints": [h for h in search_query.search_hints(arguments["search"]) if "search command" in h],
        "me": me,
    }
    template = "contacts/_contact_rows.html" if request.htmx and params.get("after") else "contacts/list.html"
    return render_page(request, template, context)


@require_POST
@require_permission("contacts:view")
def contact_table_prefs(request, workspace_slug):
    """Save the member's columns and density for the contacts table, then go back to the list."""
    back = _back(request)
    columns = request.POST.getlist("columns")
    known = {c.key for c in _contact_columns(selectors_fields.field_definitions())}
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
    known = {c.key for c in _contact_columns(selectors_fields.field_definitions())}
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
    return redirect(reverse("contacts:list", kwargs={"workspace_slug": slug_of(request)}) + f"?view={view.pk}")


@require_POST
@found
@require_permission("contacts:view")
def contact_view_delete(request, workspace_slug, view_id):
    """Delete one of the member's saved views (another member's view answers 404)."""
    actions.saved_view_delete(view_id, principal=request.principal, request=request)
    messages.success(request, "View deleted.")
    return redirect("contacts:list", workspace_slug=slug_of(request))


def _back(request) -> str:
    """Return the list URL to go back to (a path of this workspace's contacts pages only)."""
    back = request.POST.get("next") or ""
    if not back.startswith(f"/w/{slug_of(request)}/contacts/"):
        back = reverse("contacts:list", kwargs={"workspace_slug": slug_of(request)})
    return back


@require_permission("contacts:view")
def tag_suggest(request, workspace_slug):
    """Return up to TAG_SUGGESTIONS tag names starting with ?tag= as <option>s (htmx, for a tag input's datalist)."""
    typed = (request.GET.get("tag") or request.GET.get("add") or "").strip()[:100]
    tags = selectors.tags(search=typed, limit=TAG_SUGGESTIONS) if typed else []
    return render_page(request, "contacts/_tag_options.html", {"tags": tags})


@require_permission("contacts:view")
def country_suggest(request, workspace_slug):
    """Return up to TAG_SUGGESTIONS countries the typed text may name as <option>s (code, "Name (CODE)")."""
    typed = _typed(request, "country", "companycountry")
    options = [(code, f"{name} ({code})") for code, name in country_matches(typed, TAG_SUGGESTIONS)]
    return render_page(request, "contacts/_suggest_options.html", {"options": options})


@require_permission("contacts:view")
def company_suggest(request, workspace_slug):
    """Return up to TAG_SUGGESTIONS names of this workspace's companies matching the typed words as <option>s."""
    typed = _typed(request, "company", "companyname")
    try:
        companies = selectors.companies_page(search=typed, limit=TAG_SUGGESTIONS).items if typed else []
    except ValidationError:  # a search the selector refuses (too long) suggests nothing
        companies = []
    return render_page(request, "contacts/_suggest_options.html", {"options": [(c.name, "") for c in companies]})


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
    return render_page(request, "contacts/_suggest_options.html", {"options": options[:TAG_SUGGESTIONS]})


def _typed(request, *names: str) -> str:
    """Return the text typed into an autocomplete input: htmx sends it under the input's name."""
    return next((request.GET[name] for name in names if request.GET.get(name)), "").strip()[:100]


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
        url = reverse("contacts:export", kwargs={"workspace_slug": slug_of(request), "fmt": fmt})
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
            return render_page(request, "contacts/bulk_delete_confirm.html", context)
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
    form = ContactFilterForm(
        request.GET, owners=OwnerLookup(request.workspace), stages=[(s.id, s.name) for s in selectors_stages.stages()]
    )
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
    response["Content-Disposition"] = f'attachment; filename="contacts-{slug_of(request)}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response
