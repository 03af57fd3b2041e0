"""The reads of contact and company field definitions, and what each field can be filtered and sorted by.

Other domains that filter contacts or companies by field (a segment builder) ask
field_capabilities() what each field supports and build conditions with field_filter(); see
tidings/contacts/capabilities.py. Like every selector, these read the workspace in context.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q

from tidings.contacts.capabilities import FieldCapability, build_filter, capability, sort_expression
from tidings.contacts.fields import CORE_COMPANY_FIELDS, CORE_CONTACT_FIELDS
from tidings.contacts.models import Company, Contact, ContactField, FieldObject
from tidings.privacy.vault import keyring
from tidings.tenancy.context import require_workspace


def core_field_rows(workspace_id: int) -> list[ContactField]:
    """Return the core contact and company fields of a workspace as unsaved rows, in display order."""
    order: dict[str, int] = {FieldObject.CONTACT: 0, FieldObject.COMPANY: 0}
    rows = []
    for core in CORE_CONTACT_FIELDS + CORE_COMPANY_FIELDS:
        order[core.object] += 1
        rows.append(
            ContactField(
                workspace_id=workspace_id,
                object=core.object,
                alias=core.alias,
                label=core.label,
                type=core.type,
                group=core.group,
                category=core.category,
                is_encrypted=core.encrypted,
                is_unique_identifier=core.unique,
                is_publicly_updatable=core.public,
                is_required=core.required,
                is_listable=core.listable,
                order=order[core.object],
                is_core=True,
            )
        )
    return rows


def fields_by_alias(object: str = FieldObject.CONTACT) -> dict[str, ContactField]:
    """Return {alias: ContactField} of object, archived fields included.

    A pure read. Workspaces get their core fields when they are created (and at the first
    write in a workspace older than that); until then the core fields are given unsaved.
    """
    rows = list(ContactField.objects.filter(object=object))
    if not any(row.is_core for row in rows):
        rows += [row for row in core_field_rows(require_workspace().id) if row.object == object]
    return {row.alias: row for row in rows}


def field_definitions(
    object: str = FieldObject.CONTACT, *, include_archived: bool = False, listable_only: bool = False
) -> list[ContactField]:
    """Return the workspace's field definitions of object in display order."""
    fields = [
        f
        for f in fields_by_alias(object).values()
        if (include_archived or f.archived_at is None) and (not listable_only or f.is_listable)
    ]
    return sorted(fields, key=lambda f: (f.order, f.id or 0))


def field_capabilities(
    object: str = FieldObject.CONTACT, *, include_archived: bool = False
) -> dict[str, FieldCapability]:
    """Return {alias: FieldCapability} of object: where each value lives and which operators filter it.

    For domains that filter contacts or companies (a segment builder): ask here, then build
    the condition with field_filter. See tidings.contacts.capabilities for the storage kinds.
    """
    indexed = _indexed_columns(object)
    return {
        alias: capability(definition, indexed_columns=indexed)
        for alias, definition in fields_by_alias(object).items()
        if include_archived or definition.archived_at is None
    }


def field_filter(alias: str, operator: str, value: Any = None, *, object: str = FieldObject.CONTACT) -> Q:
    """Return a Q on Contact (Company for object="company") matching alias under operator and value.

    operator is an Operator value (equals, in, gt, gte, lt, lte, between, contains,
    starts_with, has_words, empty, not_empty); value is one value, a list for in, two for
    between, text for contains/starts_with/has_words, nothing for empty/not_empty. Archived
    fields can be filtered (their data is kept). Raise ValidationError keyed by the alias, and
    never repeating the value, for an unknown field, an operator the field does not support
    (contains on an encrypted email...) or a value that does not fit the field.
    """
    definitions = fields_by_alias(object)
    definition = definitions.get(alias)
    if definition is None:
        raise ValidationError({"field": ["unknown field"]}, code="invalid")
    cap = capability(definition, indexed_columns=_indexed_columns(object))
    return build_filter(cap, operator, value, options=definition.options, ring=keyring)


def _indexed_columns(object: str) -> set[str]:
    """Return the columns of object's table that lead an index after workspace_id."""
    model = Company if object == FieldObject.COMPANY else Contact
    return {index.fields[1] for index in model._meta.indexes if len(index.fields) > 1}


def field_order(alias: str, *, descending: bool = False, object: str = FieldObject.CONTACT):
    """Return an order_by() term for a sortable field; raise ValidationError for an unknown or unsortable one."""
    caps = field_capabilities(object, include_archived=True)
    if alias not in caps:
        raise ValidationError({"field": ["unknown field"]}, code="invalid")
    return sort_expression(caps[alias], descending=descending)


def field_get(field_id: int) -> ContactField:
    """Return one field definition; raise ContactField.DoesNotExist for an id not in this workspace."""
    return ContactField.objects.get(pk=field_id)
