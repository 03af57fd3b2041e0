"""Companies and their links to contacts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Case, F, Value, When
from django.utils import timezone

from tidings.contacts.actions.common import _atomic, _audit, _member_id, _require
from tidings.contacts.actions.events import _event_rows
from tidings.contacts.actions.schema import load_fields
from tidings.contacts.actions.state import _prepare, _with_defaults
from tidings.contacts.event_types import EventType
from tidings.contacts.fields import (
    COMPANY_COLUMNS,
    is_empty,
    normalise_company_name,
    to_json,
)
from tidings.contacts.models import (
    Company,
    Contact,
    ContactCompany,
    ContactField,
    FieldObject,
)
from tidings.contacts.selectors import companies_by_normalised_name
from tidings.events.store import EventRow
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
        # No per-contact event for the unlinks: the contacts' changed time tells segments' refresh.
        linked = ContactCompany.objects.filter(company_id=company.id).values("contact_id")
        Contact.objects.filter(id__in=linked).update(updated_at=timezone.now())
        links, _ = ContactCompany.objects.filter(company_id=company.id).delete()
        company.delete()
        _audit("company.deleted", principal=principal, request=request, target_type="company", target_id=company_id,
               links=links)  # fmt: skip


def _company_event(code: int, contact_id: int, company_id: int, principal) -> None:
    data = {"company_id": company_id, "by": _member_id(principal)}
    _event_rows([EventRow(type=code, contact_id=contact_id, data=data)])


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
        link, created = ContactCompany.objects.get_or_create(
            contact_id=contact_id, company_id=company_id, defaults={"workspace_id": require_workspace().id}
        )
        if created:
            _company_event(EventType.COMPANY_LINKED, contact_id, company_id, principal)
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
        _company_event(EventType.COMPANY_UNLINKED, contact_id, company_id, principal)
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


@dataclass
class CompanyLinks:
    """What companies_link_by_name did: companies created, links added."""

    created: int = 0
    linked: int = 0


def companies_link_by_name(
    links: Sequence[tuple[int, str]], *, known: dict[str, int] | None = None, principal, request=None
) -> CompanyLinks:
    """Link each (contact id, company name) pair, creating the companies no existing one matches; return counts.

    Names match existing companies whatever their case and spacing (normalise_company_name).
    Missing companies are created in one insert, links in another: the number of queries does
    not grow with the rows. A contact without a primary company gets this one as primary (and
    its company field takes the company's name); a link that exists is left alone. known
    ({normalised name: id}, from companies_by_normalised_name) spares a caller that links batch
    after batch (an import) reading every company each time; it is updated with the companies
    created. The contacts must exist in the workspace (the caller just wrote them). One audit
    entry with counts only. Raise PermissionDenied when principal may not edit contacts.
    """
    _require(principal, "contacts:edit")
    result = CompanyLinks()
    wanted: dict[str, str] = {}  # normalised name -> the spelling a new company takes (the first seen)
    pairs: list[tuple[int, str]] = []
    for contact_id, name in links:
        key = normalise_company_name(name)
        if key:
            wanted.setdefault(key, " ".join(str(name).split())[:255])
            pairs.append((contact_id, key))
    if not pairs:
        return result
    if known is None:
        known = companies_by_normalised_name()
    workspace_id = require_workspace().id
    with _atomic():
        # A company in `known` may have been deleted since (a long import): it is created again.
        names = dict(Company.objects.filter(id__in={known[k] for k in wanted if k in known}).values_list("id", "name"))
        for key in wanted:
            if key in known and known[key] not in names:
                del known[key]
        missing = [key for key in wanted if key not in known]
        if missing:
            fields = load_fields(FieldObject.COMPANY)
            fresh = []
            for key in missing:
                company = Company(workspace_id=workspace_id, custom={})
                _company_apply(company, _with_defaults({"companyname": wanted[key]}, fields))
                fresh.append(company)
            Company.objects.bulk_create(fresh)
            known.update((normalise_company_name(c.name), c.id) for c in fresh)
            names.update((c.id, c.name) for c in fresh)
            result.created = len(fresh)
        contact_ids = {contact_id for contact_id, _ in pairs}
        existing: set[tuple[int, int]] = set()
        with_primary: set[int] = set()
        for contact_id, company_id, is_primary in ContactCompany.objects.filter(contact_id__in=contact_ids).values_list(
            "contact_id", "company_id", "is_primary"
        ):
            existing.add((contact_id, company_id))
            if is_primary:
                with_primary.add(contact_id)
        new_links: list[ContactCompany] = []
        renamed: dict[int, list[int]] = {}  # company id -> contacts it became primary for
        for contact_id, key in pairs:
            company_id = known[key]
            if (contact_id, company_id) in existing:
                continue
            existing.add((contact_id, company_id))
            primary = contact_id not in with_primary
            if primary:
                with_primary.add(contact_id)
                renamed.setdefault(company_id, []).append(contact_id)
            link = ContactCompany(workspace_id=workspace_id, contact_id=contact_id, company_id=company_id)
            link.is_primary = primary
            new_links.append(link)
        ContactCompany.objects.bulk_create(new_links)
        result.linked = len(new_links)
        if new_links:
            # No per-contact event for links made by name: the changed time tells segments' refresh.
            Contact.objects.filter(id__in={link.contact_id for link in new_links}).update(updated_at=timezone.now())
        # The company field shows the primary company's name. Most contacts already spell it so (an
        # import just wrote the cell): read the field once, and update only the others, in one UPDATE.
        if renamed:
            primary_of = {contact_id: company_id for company_id, ids in renamed.items() for contact_id in ids}
            current = Contact.objects.filter(id__in=primary_of).values_list("id", "company_name")
            stale: dict[int, list[int]] = {}
            for contact_id, company_name in current:
                if company_name != names[primary_of[contact_id]]:
                    stale.setdefault(primary_of[contact_id], []).append(contact_id)
            if stale:
                spelling = Case(
                    *(When(id__in=ids, then=Value(names[company_id])) for company_id, ids in stale.items()),
                    default=F("company_name"),
                )
                Contact.objects.filter(id__in=[i for ids in stale.values() for i in ids]).update(company_name=spelling)
        _audit("companies.linked_by_name", principal=principal, request=request, target_type="company",
               created=result.created, linked=result.linked)  # fmt: skip
    return result
