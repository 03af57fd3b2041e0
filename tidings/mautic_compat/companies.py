"""Mautic's company API (CompanyApiController) on Tidings' company actions and selectors.

Facts read from Mautic 5.1 (not copied): a company is {id, score, fields: {core, professional,
other, all}}; POST /companies/new first looks for a company of the same name and edits it
instead (200) unless the body says force; POST /companies/{companyId}/contact/{contactId}/add|remove
answers {"success": 1}.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.urls import path

from tidings.accounts.decorators import require_permission
from tidings.contacts import actions, selectors, selectors_fields
from tidings.contacts.models import FieldObject
from tidings.inputs import parse_bool
from tidings.mautic_compat.contacts import field_groups, select_fields
from tidings.mautic_compat.decorators import mautic_api
from tidings.mautic_compat.parsing import ListParams, sort_of
from tidings.mautic_compat.responses import MauticError, validation_error
from tidings.mautic_compat.standard import Resource, allow, standard_urls

GROUPS = ("core", "professional", "other")


def serialize_companies(companies: list) -> list[dict]:
    """Return companies in Mautic's shape; the field definitions are read once for the whole list."""
    definitions = selectors_fields.field_definitions(FieldObject.COMPANY)
    return [
        {
            "id": company.id,
            "score": 0,
            "fields": field_groups(definitions, selectors.company_values(company), company.id, "company", GROUPS),
        }
        for company in companies
    ]


# What companies_page sorts by (name has an index); other values are not sorted in SQL.
ORDER_COLUMNS = {"id": "id", "date_added": "id", "dateAdded": "id", "companyname": "name", "name": "name"}


def _list(params: ListParams, request) -> tuple[list[dict], int]:
    sort = sort_of(params, ORDER_COLUMNS)
    order = "name" if sort is None else ("-" if sort[1] else "") + sort[0]
    page = selectors.companies_page(
        search=params.search, order=order, start=params.start, limit=params.limit, count=True
    )
    return serialize_companies(page.items), page.total or 0


def company_values(data: dict, method: str) -> dict[str, Any]:
    """Return {alias: value} of a Mautic company body: known aliases only; PUT clears what it leaves out."""
    definitions = {f.alias: f for f in selectors_fields.field_definitions(FieldObject.COMPANY)}
    values = {key: value for key, value in data.items() if key in definitions}
    if method == "PUT":
        for alias, definition in definitions.items():
            values.setdefault(alias, definition.default_value)
    elif method == "PATCH":
        values = {alias: value for alias, value in values.items() if value not in (None, "")}
    return values


def _create(request, data: dict, principal, *, method: str):
    values = company_values(data, "POST")
    if method == "POST" and not parse_bool(data.get("force", "")):
        try:
            existing = selectors.company_by_name(str(values.get("companyname") or ""))
        except ObjectDoesNotExist:
            existing = None
        if existing is not None and values.get("companyname"):
            return actions.company_update(existing.id, values, principal=principal, request=request), False
    return actions.company_create(values, principal=principal, request=request), True


def _update(request, company_id: int, data: dict, method: str, principal):
    return actions.company_update(company_id, company_values(data, method), principal=principal, request=request)


COMPANIES = Resource(
    one="company",
    many="companies",
    list=_list,
    get=selectors.company_get,
    serialize=serialize_companies,
    create=_create,
    update=_update,
    delete=lambda request, company_id, principal: actions.company_delete(
        company_id, principal=principal, request=request
    ),
    select=select_fields(FieldObject.COMPANY),
    view_permission="contacts:view",
    edit_permission="contacts:edit",
    delete_permission="contacts:delete",
)


def _link(request, companyId, contactId, *, add: bool):
    allow(request, "POST")
    principal = request.principal
    try:
        selectors.company_get(companyId)
        selectors.contact_get(contactId)
        if add:
            actions.company_link(contactId, companyId, principal=principal, request=request)
        else:
            actions.company_unlink(contactId, companyId, principal=principal, request=request)
    except ObjectDoesNotExist as error:
        raise MauticError(404) from error
    except ValidationError as error:
        raise validation_error(error) from error
    return {"success": 1}


@mautic_api
@require_permission("contacts:edit")
def add_contact(request, companyId, contactId):
    """POST /companies/{companyId}/contact/{contactId}/add: link the contact; {"success": 1}."""
    return _link(request, companyId, contactId, add=True)


@mautic_api
@require_permission("contacts:edit")
def remove_contact(request, companyId, contactId):
    """POST /companies/{companyId}/contact/{contactId}/remove: unlink the contact; {"success": 1}."""
    return _link(request, companyId, contactId, add=False)


urlpatterns = [
    *standard_urls("companies", "companies", COMPANIES),
    path("companies/<int:companyId>/contact/<int:contactId>/add", add_contact, name="companies_add_contact"),
    path("companies/<int:companyId>/contact/<int:contactId>/remove", remove_contact, name="companies_remove_contact"),
]
