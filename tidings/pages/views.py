"""The landing-page editor: the list of pages, and one form with a sandboxed preview.

Thin: the form in, tidings.pages.actions and .selectors do the work. A page named in a URL is read
through a selector scoped to request.workspace; another workspace's id answers 404 exactly like one
that does not exist. The preview is the rendered content in an <iframe sandbox="" srcdoc>: no script
runs in it, it has an opaque origin, and it inherits this page's Content-Security-Policy.
The public routes (/m/<workspace>/p/<slug>, /m/<workspace>/preferences/<token>) are
tidings.web.public_pages: they enter through the web shell's public-page door.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import found, require_permission
from tidings.pages import actions, content, selectors
from tidings.pages.forms import PageForm
from tidings.pages.models import LandingPage
from tidings.ui.confirm import confirmation_required
from tidings.ui.datatable import Column, DataTable
from tidings.validation import form_add_errors

PAGE_COLUMNS = [
    Column("title", "Title", required=True),
    Column("address", "Address"),
    Column("published", "Status"),
    Column("updated", "Changed"),
]


def _url(request, name: str, **kwargs) -> str:
    return reverse(f"pages:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


def _preview(request, page: LandingPage) -> str:
    """Return the page as its visitors would see it, as text for the preview iframe's srcdoc."""
    return render_to_string("pages/public_page.html", {"page": page, "body": selectors.page_render(page),
                                                      "tracker": None, "preview": True})  # fmt: skip


def _editor(request, form: PageForm, page: LandingPage | None, *, shown: LandingPage | None = None, status=200):
    shown = shown or page
    context = {
        "form": form,
        "page": page,
        "preview": _preview(request, shown) if shown is not None else "",
        "public_url": content.public_url(request.workspace.slug, page.slug) if page is not None else "",
        "can_edit": request.principal.can("pages:edit"),
    }
    return render(request, "pages/editor.html", context, status=status)


@require_permission("pages:view")
def page_list(request, workspace_slug):
    """List the workspace's landing pages by title."""
    rows = list(selectors.pages()[: selectors.PAGES_LIMIT])
    can_edit = request.principal.can("pages:edit")
    for page in rows:
        setattr(page, "address", content.public_url(request.workspace.slug, page.slug))  # noqa: B010 - for the rows
    empty = {
        "title": "No landing pages yet",
        "text": "A landing page is served on your workspace's public address, with embedded forms and the "
        "tracker of the site that covers it." + ("" if can_edit else " A member who can edit pages creates them."),
        "actions": [("New page", _url(request, "create"))] if can_edit else [],
    }
    table = DataTable(columns=PAGE_COLUMNS, query={}, order="title", rows=rows, id="pages", caption="Landing pages",
                      noun="pages", row_template="pages/list_rows.html", row_actions=can_edit,
                      empty={} if rows else empty)  # fmt: skip
    context = {"table": table, "rows": rows, "can_edit": can_edit}
    return render(request, "pages/list.html", context)


def _save(request, form: PageForm, page: LandingPage | None):
    try:
        if page is None:
            saved = actions.page_create(principal=request.principal, request=request, **form.values())
        else:
            values = form.values()
            if not values["slug"]:
                values.pop("slug")  # left empty: the page keeps its address
            saved = actions.page_update(page.pk, principal=request.principal, request=request, **values)
    except ValidationError as error:
        form_add_errors(form, error)
        return _editor(request, form, page, status=400)
    messages.success(request, f"Page “{saved.title}” {'created' if page is None else 'saved'}.")
    for problem in selectors.token_problems(saved.content):
        messages.warning(request, problem)
    return redirect(_url(request, "edit", page_id=saved.pk))


def _unsaved(form: PageForm, page: LandingPage | None) -> LandingPage:
    """Return a page holding the form's content, sanitised as saving would, for "Preview" (nothing is stored)."""
    data = form.cleaned_data
    return LandingPage(title=data.get("title") or (page.title if page else ""), content=content.clean_content(
        data.get("content") or ""), meta_description=data.get("meta_description") or "")  # fmt: skip


def _post(request, page: LandingPage | None):
    form = PageForm(request.POST)
    if not form.is_valid():
        return _editor(request, form, page, status=400)
    if request.POST.get("preview"):
        return _editor(request, form, page, shown=_unsaved(form, page))
    return _save(request, form, page)


@require_permission("pages:edit")
def page_create(request, workspace_slug):
    """The editor of a new page; saving creates it (unpublished unless ticked)."""
    if request.method == "POST":
        return _post(request, None)
    return _editor(request, PageForm(), None)


@found
@require_permission("pages:view")
def page_edit(request, workspace_slug, page_id):
    """A page's editor and preview; members who cannot edit see it read-only."""
    page = selectors.page_get(page_id)
    if request.method == "POST":
        from tidings.accounts.permissions import require

        require(request.principal, "pages:edit")
        return _post(request, page)
    return _editor(request, PageForm.for_page(page), page)


@require_POST
@found
@require_permission("pages:edit")
def page_delete(request, workspace_slug, page_id):
    """Delete a page after a confirmation; its address answers 404 at once."""
    page = selectors.page_get(page_id)
    confirm = confirmation_required(request, title=f"Delete the page “{page.title}”?",
                                    message="Its address answers “not found” at once.", label="Delete page",
                                    back=_url(request, "edit", page_id=page.pk))  # fmt: skip
    if confirm:
        return confirm
    actions.page_delete(page.pk, principal=request.principal, request=request)
    messages.success(request, f"Page “{page.title}” deleted.")
    return redirect(_url(request, "list"))
