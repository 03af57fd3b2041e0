"""Companies: list, page, create, edit, delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import urlencode

from tidings.accounts.decorators import found, require_permission
from tidings.contacts import actions, selectors, selectors_fields
from tidings.contacts.forms import (
    ValuesForm,
)
from tidings.contacts.models import FieldObject
from tidings.contacts.views.common import render_page, slug_of, suggest_urls_of

PAGE_SIZE = 50

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
    return render_page(request, "contacts/company_list.html", context)


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
    definitions = selectors_fields.field_definitions(FieldObject.COMPANY)
    rows = [{"definition": d, "value": values.get(d.alias)} for d in definitions]
    try:
        contacts = selectors.contacts_page(
            filters={"company_id": company_id}, after=request.GET.get("after") or None, limit=PAGE_SIZE
        )
    except ValidationError as error:
        raise Http404("Not found.") from error
    context = {"company": company, "rows": rows, "contacts": contacts}
    return render_page(request, "contacts/company_detail.html", context)


def _company_form(request, company=None):
    values = selectors.company_values(company) if company else None
    return ValuesForm(selectors_fields.field_definitions(FieldObject.COMPANY), request.POST or None, values=values,
                      suggest_urls=suggest_urls_of(request))  # fmt: skip


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
            return redirect("contacts:company_detail", workspace_slug=slug_of(request), company_id=company.id)
    return render_page(request, "contacts/company_form.html", {"form": form, "company": None},
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
            return redirect("contacts:company_detail", workspace_slug=slug_of(request), company_id=company_id)
    return render_page(request, "contacts/company_form.html", {"form": form, "company": company},
                  status=400 if form.errors else 200)  # fmt: skip


@found
@require_permission("contacts:delete")
def company_delete(request, workspace_slug, company_id):
    company = selectors.company_get(company_id)
    if request.method == "POST":
        actions.company_delete(company_id, principal=request.principal, request=request)
        messages.success(request, "Company deleted; its contacts are kept.")
        return redirect("contacts:company_list", workspace_slug=slug_of(request))
    return render_page(request, "contacts/company_delete.html", {"company": company})
