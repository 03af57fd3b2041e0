"""Companies and their links to contacts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from tidings.contacts.actions.common import _atomic, _audit, _require
from tidings.contacts.actions.schema import load_fields
from tidings.contacts.actions.state import _prepare, _with_defaults
from tidings.contacts.fields import (
    COMPANY_COLUMNS,
    is_empty,
    to_json,
)
from tidings.contacts.models import (
    Company,
    Contact,
    ContactCompany,
    ContactField,
    FieldObject,
)
from tidings.tenancy.context import require_workspace


def _company_changes(values: Mapping[str, Any], fields: dict[str, ContactField]) -> dict:
    changes, errors = _prepare(values, fields)
    if errors:
        raise ValidationError(errors)
    return changes


def _company_apply(company: Company, changes: Mapping[str, Any]) -> None:
    for alias, value in changes.items():
        column = COMPANY_COLUMNS.get(alias)
        if column:
            setattr(company, column, value if value is not None else (None if column == "number_of_employees" else ""))
        elif value is None:
            company.custom.pop(alias, None)
        else:
            company.custom[alias] = to_json(value)


def company_create(values: Mapping[str, Any], *, principal, request=None) -> Company:
    """Create a company from {alias: value} (companyname, companyemail, ... and custom aliases); return it.

    Raise ValidationError on unknown or invalid fields or a missing company name.
    """
    _require(principal, "contacts:edit")
    fields = load_fields(FieldObject.COMPANY)
    changes = _with_defaults(_company_changes(values, fields), fields)
    if is_empty(changes.get("companyname")):
        raise ValidationError({"companyname": ["a company needs a name"]})
    company = Company(workspace_id=require_workspace().id, custom={})
    _company_apply(company, changes)
    with _atomic():
        company.save()
        _audit("company.created", principal=principal, request=request, target_type="company", target_id=company.id)
    return company


def company_update(company_id: int, values: Mapping[str, Any], *, principal, request=None) -> Company:
    """Change a company's fields; keep linked contacts' company name in step when the name changes.

    Raise Company.DoesNotExist for an id not in this workspace, ValidationError on invalid values.
    """
    _require(principal, "contacts:edit")
    company = Company.objects.get(pk=company_id)
    changes = _company_changes(values, load_fields(FieldObject.COMPANY))
    if "companyname" in changes and is_empty(changes["companyname"]):
        raise ValidationError({"companyname": ["a company needs a name"]})
    _company_apply(company, changes)
    company.updated_at = timezone.now()
    with _atomic():
        company.save()
        if "companyname" in changes:
            primary = ContactCompany.objects.filter(company_id=company.id, is_primary=True).values("contact_id")
            Contact.objects.filter(id__in=primary).update(company_name=company.name)
        _audit("company.updated", principal=principal, request=request, target_type="company", target_id=company.id,
               fields=sorted(changes))  # fmt: skip
    return company


def company_delete(company_id: int, *, principal, request=None) -> None:
    """Delete a company and its links to contacts; raise Company.DoesNotExist."""
    _require(principal, "contacts:delete")
    company = Company.objects.get(pk=company_id)
    with _atomic():
        primary = ContactCompany.objects.filter(company_id=company.id, is_primary=True).values("contact_id")
        Contact.objects.filter(id__in=primary).update(company_name="")
        links, _ = ContactCompany.objects.filter(company_id=company.id).delete()
        company.delete()
        _audit("company.deleted", principal=principal, request=request, target_type="company", target_id=company_id,
               links=links)  # fmt: skip


def company_link(contact_id: int, company_id: int, *, is_primary: bool = False, principal, request=None):
    """Link a contact to a company (idempotent); is_primary makes it the contact's one primary company.

    A contact's first company becomes primary. The primary company's name is copied to the
    contact's "company" field. Raise Contact.DoesNotExist or Company.DoesNotExist.
    """
    _require(principal, "contacts:edit")
    with _atomic():
        contact = Contact.objects.get(pk=contact_id)
        company = Company.objects.get(pk=company_id)
        links = ContactCompany.objects.filter(contact_id=contact_id)
        first = not links.exists()
        link, _ = ContactCompany.objects.get_or_create(
            contact_id=contact_id, company_id=company_id, defaults={"workspace_id": require_workspace().id}
        )
        if (is_primary or first) and not link.is_primary:
            links.filter(is_primary=True).update(is_primary=False)
            link.is_primary = True
            link.save(update_fields=["is_primary"])
        if link.is_primary and contact.company_name != company.name:
            Contact.objects.filter(pk=contact_id).update(company_name=company.name, updated_at=timezone.now())
        _audit("company.contact_linked", principal=principal, request=request, target_type="company",
               target_id=company_id, contact_id=contact_id, primary=link.is_primary)  # fmt: skip
    return link


def company_unlink(contact_id: int, company_id: int, *, principal, request=None) -> bool:
    """Remove a contact's link to a company; return whether there was one.

    When the primary company goes, the oldest remaining link becomes primary.
    """
    _require(principal, "contacts:edit")
    with _atomic():
        link = ContactCompany.objects.filter(contact_id=contact_id, company_id=company_id).first()
        if link is None:
            return False
        link.delete()
        if link.is_primary:
            successor = ContactCompany.objects.filter(contact_id=contact_id).order_by("created_at", "id").first()
            name = ""
            if successor is not None:
                successor.is_primary = True
                successor.save(update_fields=["is_primary"])
                name = Company.objects.filter(pk=successor.company_id).values_list("name", flat=True).first() or ""
            Contact.objects.filter(pk=contact_id).update(company_name=name, updated_at=timezone.now())
        _audit("company.contact_unlinked", principal=principal, request=request, target_type="company",
               target_id=company_id, contact_id=contact_id)  # fmt: skip
    return True
