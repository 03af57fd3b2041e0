"""Field definitions: the core fields every workspace has, custom fields, and their changes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import timezone

from tidings.contacts.actions.common import BATCH_SIZE, MAX_LABEL, _atomic, _audit, _db, _require
from tidings.contacts.actions.state import _current_value, _load_states, _rewrite_contacts
from tidings.contacts.capabilities import Storage, capability, custom_index_name, custom_key_sql
from tidings.contacts.fields import (
    ALIAS_RE,
    BLIND_INDEX_COLUMNS,
    COMPANY_COLUMNS,
    CORE_FIELDS,
    RESERVED_ALIASES,
    coerce,
    is_empty,
    to_json,
)
from tidings.contacts.models import (
    Company,
    Contact,
    ContactField,
    FieldGroup,
    FieldObject,
    FieldType,
)
from tidings.contacts.selectors_fields import core_field_rows, fields_by_alias
from tidings.privacy.categories import DataCategory, is_encrypted_category
from tidings.privacy.guard import require_acknowledgment
from tidings.privacy.vault import keyring
from tidings.tenancy import bulk
from tidings.tenancy.context import require_workspace
from tidings.tenancy.sweeps import dangerously_sweep_workspaces


def fields_ensure_core() -> None:
    """Store the core contact and company fields the workspace is missing (idempotent).

    Runs when a workspace is created; load_fields runs it too, for workspaces older than that.
    """
    workspace = require_workspace()
    present = set(ContactField.objects.filter(is_core=True).values_list("object", "alias"))
    missing = [row for row in core_field_rows(workspace.id) if (row.object, row.alias) not in present]
    if missing:
        with _atomic():
            ContactField.objects.bulk_create(missing, ignore_conflicts=True)


def load_fields(object: str = FieldObject.CONTACT) -> dict[str, ContactField]:
    """Return {alias: ContactField} of object for a write, storing the core fields first if they are missing."""
    fields = fields_by_alias(object)
    if any(row.pk is None for row in fields.values()):
        fields_ensure_core()
        fields = fields_by_alias(object)
    return fields


def field_create(
    *,
    alias: str,
    label: str,
    type: str = FieldType.TEXT,
    object: str = FieldObject.CONTACT,
    category: str = DataCategory.NONE,
    group: str = FieldGroup.CORE,
    is_unique_identifier: bool = False,
    is_publicly_updatable: bool = False,
    is_required: bool = False,
    is_listable: bool = True,
    options: list | None = None,
    default_value: Any = None,
    order: int | None = None,
    acknowledge_sensitive: bool = False,
    principal,
    request=None,
) -> ContactField:
    """Create a custom field and return it.

    Its values are encrypted when category identifies a person (is_encrypted_category); that
    choice is fixed for the field's life. Raise ValidationError on a malformed, reserved or
    taken alias, an unknown type, group or category, an identifying category on a company
    field, or a financial/health/government-id category without acknowledge_sensitive.
    """
    _require(principal, "contacts:edit")
    alias = (alias or "").strip().lower()
    errors = {}
    if not ALIAS_RE.match(alias):
        errors["alias"] = "use lowercase letters, digits and underscores, starting with a letter"
    elif alias in RESERVED_ALIASES or alias in CORE_FIELDS:
        errors["alias"] = "this alias is reserved"
    if type not in FieldType.values:
        errors["type"] = "unknown field type"
    if object not in FieldObject.values:
        errors["object"] = "unknown object"
    if group not in FieldGroup.values:
        errors["group"] = "unknown group"
    if category not in DataCategory.values:
        errors["category"] = "unknown category"
    elif object == FieldObject.COMPANY and is_encrypted_category(category):
        errors["category"] = "company fields hold business data; identifying categories belong on contacts"
    if not (label or "").strip():
        errors["label"] = "a label is required"
    if errors:
        raise ValidationError(errors)
    require_acknowledgment(category, acknowledge_sensitive)
    existing = load_fields(object)
    if alias in existing:
        raise ValidationError({"alias": "a field with this alias exists (archived fields keep theirs)"})
    options = _clean_options(type, options)
    if type in _CHOICE_TYPES and not options:
        raise ValidationError({"options": "a select field needs at least one option"})
    default = _coerce_or_error("default_value", type, default_value, options)
    workspace = require_workspace()
    now = timezone.now()
    with _atomic():
        row = ContactField.objects.create(
            workspace_id=workspace.id,
            object=object,
            alias=alias,
            label=_label(label),
            type=type,
            group=group,
            category=category,
            is_encrypted=object == FieldObject.CONTACT and is_encrypted_category(category),
            is_unique_identifier=is_unique_identifier,
            is_publicly_updatable=is_publicly_updatable,
            is_required=is_required,
            is_listable=is_listable,
            options=options,
            default_value=to_json(default),
            order=order if order is not None else max((f.order for f in existing.values()), default=0) + 1,
            sensitive_acknowledged_at=now if acknowledge_sensitive and category else None,
            sensitive_acknowledged_by=getattr(principal, "actor_id", None) if acknowledge_sensitive else None,
        )
        _audit(
            "contact_field.created",
            principal=principal,
            request=request,
            target_type="contact_field",
            target_id=row.id,
            object=object,
            type=type,
            category=category,
            encrypted=row.is_encrypted,
        )
    return row


_UPDATABLE = {
    "label",
    "group",
    "category",
    "is_unique_identifier",
    "is_publicly_updatable",
    "is_required",
    "is_listable",
    "options",
    "default_value",
    "order",
}


def field_update(field_id: int, *, acknowledge_sensitive: bool = False, principal, request=None, **changes):
    """Change a field's label, flags, options, default, order, group or category; return it.

    The alias and type never change (a field's data is keyed by its alias): renaming is a label
    change. Turning is_unique_identifier on indexes every contact's existing value. Raise
    ContactField.DoesNotExist for a field of another workspace, ValidationError on an unknown
    attribute, a category change that would move the values in or out of encryption, a
    sensitive category without acknowledge_sensitive, a change of a core field's category, or
    turning off email's is_unique_identifier (the database keeps emails unique).
    """
    _require(principal, "contacts:edit")
    row = ContactField.objects.get(pk=field_id)
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValidationError({name: "cannot be changed" for name in sorted(unknown)})
    if "category" in changes and changes["category"] != row.category:
        category = changes["category"]
        if row.is_core:
            raise ValidationError({"category": "a core field's category is fixed"})
        if category not in DataCategory.values:
            raise ValidationError({"category": "unknown category"})
        if is_encrypted_category(category) != row.is_encrypted:
            raise ValidationError(
                {"category": "this category would change how the values are stored; create a new field instead"}
            )
        require_acknowledgment(category, acknowledge_sensitive)
        if acknowledge_sensitive:
            row.sensitive_acknowledged_at = timezone.now()
            row.sensitive_acknowledged_by = getattr(principal, "actor_id", None)
    if row.alias == "email" and row.object == FieldObject.CONTACT and changes.get("is_unique_identifier") is False:
        # The database holds one contact per email (contacts_c_email_unique), so email stays an identifier.
        raise ValidationError({"is_unique_identifier": "email is always a unique identifier"})
    if "options" in changes:
        changes["options"] = _clean_options(row.type, changes["options"])
        if row.type in _CHOICE_TYPES and not changes["options"]:
            raise ValidationError({"options": "a select field needs at least one option"})
    if "default_value" in changes:
        options = changes.get("options", row.options)
        changes["default_value"] = to_json(
            _coerce_or_error("default_value", row.type, changes["default_value"], options)
        )
    if "label" in changes and not (changes["label"] or "").strip():
        raise ValidationError({"label": "a label is required"})
    becomes_unique = changes.get("is_unique_identifier") and not row.is_unique_identifier
    becomes_required = changes.get("is_required") and not row.is_required
    if becomes_unique or becomes_required:
        _check_existing_values(row, required=bool(becomes_required), unique=bool(becomes_unique))
    for name, value in changes.items():
        setattr(row, name, _label(value) if name == "label" else value)
    row.updated_at = timezone.now()
    with _atomic():
        row.save()
        if becomes_unique and row.object == FieldObject.CONTACT and row.alias not in BLIND_INDEX_COLUMNS:
            _rewrite_contacts(lambda profile, contact: None, fields=load_fields(), reindex=True)
        _audit(
            "contact_field.updated",
            principal=principal,
            request=request,
            target_type="contact_field",
            target_id=row.id,
            changed=sorted(changes),
        )
    return row


def field_archive(field_id: int, *, archived: bool = True, principal, request=None) -> ContactField:
    """Archive (hide) a field, or restore it with archived=False; its data is kept either way.

    Raise ContactField.DoesNotExist for a field of another workspace, ValidationError for a core field.
    """
    _require(principal, "contacts:edit")
    row = ContactField.objects.get(pk=field_id)
    if row.is_core:
        raise ValidationError({"alias": "core fields cannot be archived"})
    row.archived_at = timezone.now() if archived else None
    row.updated_at = timezone.now()
    with _atomic():
        row.save(update_fields=["archived_at", "updated_at"])
        _audit(
            "contact_field.archived" if archived else "contact_field.restored",
            principal=principal,
            request=request,
            target_type="contact_field",
            target_id=row.id,
        )
    return row


def field_delete(field_id: int, *, confirm: str, principal, request=None) -> int:
    """Delete a custom field and every value stored in it; return how many records held a value.

    confirm must repeat the field's alias: a hard delete is never silent. Raise
    ContactField.DoesNotExist for a field of another workspace, ValidationError for a core
    field or a confirmation that does not match.
    """
    _require(principal, "contacts:delete")
    row = ContactField.objects.get(pk=field_id)
    if row.is_core:
        raise ValidationError({"alias": "core fields cannot be deleted"})
    if confirm != row.alias:
        raise ValidationError({"confirm": "type the field's alias to confirm deleting it and its data"})
    alias = row.alias
    with _atomic():
        if row.object == FieldObject.COMPANY:
            touched = _drop_custom_key(Company, alias)
        elif row.is_encrypted or row.is_unique_identifier:
            fields = load_fields()
            fields.pop(alias)
            touched = _rewrite_contacts(
                lambda profile, contact: (
                    profile.pop(alias, None) is not None or contact.custom.pop(alias, None) is not None
                ),
                fields=fields,
                reindex=row.is_unique_identifier,
            )
        else:
            touched = _drop_custom_key(Contact, alias)
        row.delete()
        if row.is_indexed:
            _drop_custom_index_if_unused(row.object, alias)
        _audit(
            "contact_field.deleted",
            principal=principal,
            request=request,
            target_type="contact_field",
            target_id=field_id,
            records_with_value=touched,
            encrypted=row.is_encrypted,
        )
    return touched


MAX_INDEXED_FIELDS = 5  # per object and workspace: each index costs every write to the table


def field_index_set(field_id: int, *, indexed: bool = True, principal, request=None) -> ContactField:
    """Give a clear custom field a filter index (or take it away with indexed=False); return the field.

    Equality and range filters on the field (selectors_fields.field_filter) then read an index on
    (workspace_id, <its JSON value>) instead of every contact of the workspace; see decision
    decisions/0013-custom-field-filter-index.md. One index serves every workspace with a field of that alias,
    so it is created if missing and dropped only when no workspace of the region still wants
    it. Building it locks writes to the table for the build (seconds at a million rows).
    Raise ContactField.DoesNotExist for a field of another workspace, ValidationError for a
    field that is not a clear custom value (core columns have their own indexes; encrypted
    values cannot be indexed) or past MAX_INDEXED_FIELDS.
    """
    _require(principal, "contacts:edit")
    row = ContactField.objects.get(pk=field_id)
    if capability(row).storage != Storage.CUSTOM:
        raise ValidationError({"is_indexed": "only clear custom fields take a filter index"})
    if indexed and not row.is_indexed:
        count = ContactField.objects.filter(object=row.object, is_indexed=True).count()
        if count >= MAX_INDEXED_FIELDS:
            raise ValidationError({"is_indexed": f"at most {MAX_INDEXED_FIELDS} indexed fields"})
    if row.is_indexed == indexed:
        return row
    with _atomic():
        ContactField.objects.filter(pk=row.pk).update(is_indexed=indexed, updated_at=timezone.now())
        row.is_indexed = indexed
        if indexed:
            _create_custom_index(row.object, row.alias)
        else:
            _drop_custom_index_if_unused(row.object, row.alias)
        _audit(
            "contact_field.indexed" if indexed else "contact_field.unindexed",
            principal=principal,
            request=request,
            target_type="contact_field",
            target_id=row.id,
        )
    return row


def _custom_index_sql(object: str, alias: str) -> str:
    connection = connections[_db()]
    model = Company if object == FieldObject.COMPANY else Contact
    quote = connection.ops.quote_name
    value = custom_key_sql(connection.vendor, quote("custom"), alias)
    # workspace_id leads, as every tenant index must (tenancy/tests/test_distributable_schema.py).
    return (
        f"CREATE INDEX IF NOT EXISTS {quote(custom_index_name(object, alias))}"
        f" ON {quote(model._meta.db_table)} ({quote('workspace_id')}, ({value}))"
    )


def _create_custom_index(object: str, alias: str) -> None:
    with connections[_db()].cursor() as cursor:
        cursor.execute(_custom_index_sql(object, alias))


def _drop_custom_index_if_unused(object: str, alias: str) -> None:
    database = _db()
    with dangerously_sweep_workspaces():  # does any workspace of this region still want it?
        wanted = (
            ContactField.unscoped_objects.using(database).filter(object=object, alias=alias, is_indexed=True).exists()
        )
    if not wanted:
        connection = connections[database]
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(custom_index_name(object, alias))}")


# A select field without options takes no value at all; a multiselect without options stays a free list.
_CHOICE_TYPES = (FieldType.SELECT,)


def _existing_values(row: ContactField):
    """Yield the field's value on every contact (or company) of the workspace, decrypted when it must be."""
    if row.object == FieldObject.COMPANY:
        column = COMPANY_COLUMNS.get(row.alias)
        for company in Company.objects.order_by("id").iterator(chunk_size=BATCH_SIZE):
            yield getattr(company, column) if column else company.custom.get(row.alias)
        return
    ring = keyring()
    last_id = 0
    while True:
        ids = list(Contact.objects.filter(id__gt=last_id).order_by("id").values_list("id", flat=True)[:BATCH_SIZE])
        if not ids:
            return
        for state in _load_states(ids, ring).values():
            yield _current_value(state, row.alias)
        last_id = ids[-1]


def _check_existing_values(row: ContactField, *, required: bool, unique: bool) -> None:
    """Refuse making a field required while records lack a value, or unique while values repeat.

    The error gives counts only, never a value. Values are compared as the blind index does
    (trimmed, case-insensitive). Raise ValidationError keyed by the flag.
    """
    empty = repeated = 0
    seen: set[bytes] = set()
    for value in _existing_values(row):
        if is_empty(value):
            empty += 1
            continue
        if unique:
            text = json.dumps(to_json(value), sort_keys=True, default=str).strip().casefold()
            digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
            if digest in seen:
                repeated += 1
            seen.add(digest)
    records = "companies" if row.object == FieldObject.COMPANY else "contacts"
    errors = {}
    if required and empty:
        errors["is_required"] = f"{empty} {records} have no value in this field: fill them in first"
    if unique and repeated:
        errors["is_unique_identifier"] = (
            f"{repeated} {records} repeat a value another one has: make the values distinct first"
        )
    if errors:
        raise ValidationError(errors)


def _clean_options(field_type: str, options) -> list:
    if field_type not in (FieldType.SELECT, FieldType.MULTISELECT):
        return []
    cleaned = []
    for option in options or []:
        if isinstance(option, dict):
            value, label = str(option.get("value", "")).strip(), str(option.get("label", option.get("value", "")))
        else:
            value = label = str(option).strip()
        if value:
            cleaned.append({"value": value, "label": label.strip() or value})
    return cleaned


def _label(label: str) -> str:
    """Return a field label stripped; raise ValidationError when it is longer than MAX_LABEL (never cut)."""
    label = (label or "").strip()
    if len(label) > MAX_LABEL:
        raise ValidationError({"label": [f"a label has at most {MAX_LABEL} characters"]})
    return label


def _coerce_or_error(name: str, field_type: str, value, options):
    try:
        return coerce(field_type, value, options, field=name)
    except ValidationError as error:
        raise ValidationError({name: error.messages}) from error


def _drop_custom_key(model, alias: str) -> int:
    touched, last_id = 0, 0
    while True:
        batch = list(model.objects.filter(id__gt=last_id).order_by("id").only("id", "custom")[:BATCH_SIZE])
        if not batch:
            return touched
        changed = [row for row in batch if row.custom.pop(alias, None) is not None]
        bulk.update(model, ["custom"], [(row.custom, row.id) for row in changed])
        touched += len(changed)
        last_id = batch[-1].id
