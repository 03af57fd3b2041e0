"""Every write about contacts, companies, fields, tags, notes, Do-Not-Contact and events.

This module and tidings.contacts.selectors are the contacts app's interface: imports, the UI,
the native API and the Mautic-compatible API all call these functions, so they all behave the
same. Every function works in the workspace in context (tidings.tenancy.context.use_workspace;
NoWorkspaceSet without one), runs in one transaction on the workspace's region database, and
writes an audit entry holding ids and counts only, never personal data.

Every action takes the principal that acts (a member, a token, an OAuth application, or
tidings.accounts.permissions.system_principal() for tasks and commands) as a required keyword
and checks first that it acts in the workspace in context and holds the action's permission
(contacts:edit; contacts:delete to delete or merge away a contact, to delete a company or a
field; settings:manage for the contact settings), raising PermissionDenied before anything
is read or written. Surfaces only map that error: UI, native API, Mautic API and tasks agree.

Contact values are passed as {alias: value} with the field aliases of field_definitions()
("email", "firstname", "company", custom aliases...). Values are checked against the field's
type; an unknown or archived alias, a value of the wrong type or a duplicate of another
contact's unique identifier raises django.core.exceptions.ValidationError keyed by alias.
An empty value ("" or None) clears a field.

Identifying values are encrypted under the contact's own data key before they reach the
database; the contact id is part of each ciphertext's associated data, so ids are allocated
before the insert (see _allocate_ids).
"""

from __future__ import annotations

import datetime
import functools
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.db.models import Q
from django.db.models.constants import OnConflict
from django.utils import timezone

from tidings.accounts.permissions import Principal, require
from tidings.audit.actions import audit_record
from tidings.contacts.fields import (
    ALIAS_RE,
    BLIND_INDEX_COLUMNS,
    COMPANY_COLUMNS,
    CONTACT_COLUMNS,
    CORE_COMPANY_FIELDS,
    CORE_CONTACT_FIELDS,
    CORE_FIELDS,
    NAME_FIELDS,
    RESERVED_ALIASES,
    coerce,
    coercer,
    is_empty,
    to_json,
)
from tidings.contacts.models import (
    Channel,
    Company,
    Contact,
    ContactCompany,
    ContactEvent,
    ContactField,
    ContactSearchToken,
    ContactSettings,
    ContactTag,
    DncReason,
    DoNotContact,
    EventType,
    FieldGroup,
    FieldObject,
    FieldType,
    Note,
    NoteType,
    Tag,
)
from tidings.inputs import INT32_MAX, INT32_MIN, InvalidInput, parse_int
from tidings.privacy import registry
from tidings.privacy.categories import DataCategory, is_encrypted_category
from tidings.privacy.guard import GuardPolicy, require_acknowledgment
from tidings.privacy.models import LawfulBasis
from tidings.privacy.vault import (
    DataKey,
    Keyring,
    keyring,
    normalise_email,
    normalise_phone,
    normalise_text,
    words,
)
from tidings.tenancy.context import require_workspace

BATCH_SIZE = 1000
MAX_TAG_NAME = 100  # Tag.name's length
MAX_LABEL = 120  # ContactField.label's length
PROFILE = "profile"  # the associated-data field name of the contact's encrypted profile blob
NOTE = "note"
IDENTIFYING_ALIASES = ("email", "firstname", "lastname", "phone", "mobile")
MAX_EVENT_DATA_BYTES = 256
DNC_COMMENT_MAX = 255
OWNER = "owner"  # the contact field holding its owner's user id (a member of the workspace)
_COLUMN_EMPTY = {"owner_id": None, "stage_id": None, "points": 0, "last_active": None, "date_identified": None}


def _db() -> str:
    return require_workspace().db_alias


def _atomic():
    return transaction.atomic(using=_db())


def _audit(action: str, *, principal=None, request=None, target_type: str = "", target_id: object = "", **data):
    audit_record(action, principal=principal, request=request, target_type=target_type, target_id=target_id, data=data)


def _require(principal: Principal, permission: str) -> Principal:
    """Return principal if it acts in the workspace in context and holds permission.

    Raise PermissionDenied otherwise (every surface answers 403), TypeError without a principal,
    NoWorkspaceSet without a workspace. Each action calls it first, before it reads or writes.
    """
    return require(principal, permission, workspace_id=require_workspace().id)


# ==============================================================================================
# Field definitions


def fields_ensure_core() -> None:
    """Seed the core contact and company fields the workspace is missing (idempotent)."""
    workspace = require_workspace()
    present = set(ContactField.objects.filter(is_core=True).values_list("object", "alias"))
    missing = [f for f in CORE_CONTACT_FIELDS + CORE_COMPANY_FIELDS if (f.object, f.alias) not in present]
    if not missing:
        return
    order = {FieldObject.CONTACT: 0, FieldObject.COMPANY: 0}
    rows = []
    for core in CORE_CONTACT_FIELDS + CORE_COMPANY_FIELDS:
        order[core.object] += 1
        if core in missing:
            rows.append(
                ContactField(
                    workspace_id=workspace.id,
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
    with _atomic():
        ContactField.objects.bulk_create(rows, ignore_conflicts=True)


def load_fields(object: str = FieldObject.CONTACT) -> dict[str, ContactField]:
    """Return {alias: ContactField} of object, archived fields included, seeding core fields on first use."""
    rows = list(ContactField.objects.filter(object=object))
    if not any(row.is_core for row in rows):
        fields_ensure_core()
        rows = list(ContactField.objects.filter(object=object))
    return {row.alias: row for row in rows}


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
    if "default_value" in changes:
        options = changes.get("options", row.options)
        changes["default_value"] = to_json(
            _coerce_or_error("default_value", row.type, changes["default_value"], options)
        )
    if "label" in changes and not (changes["label"] or "").strip():
        raise ValidationError({"label": "a label is required"})
    becomes_unique = changes.get("is_unique_identifier") and not row.is_unique_identifier
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
        _update(model, ["custom"], [(row.custom, row.id) for row in changed])
        touched += len(changed)
        last_id = batch[-1].id


# ==============================================================================================
# Contacts: preparing values, sealing them, indexing them


@dataclass
class _State:
    """A contact being written, with its decrypted profile and data key."""

    contact: Contact
    profile: dict
    key: DataKey
    new: bool = False
    tags: list[str] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)


# Column defaults of Contact, for contacts an import is about to insert (callable defaults are set per row).
_CONTACT_DEFAULTS = {
    f.attname: f.get_default() for f in Contact._meta.concrete_fields if not (f.has_default() and callable(f.default))
}


class _NewContact:
    """A contact an import is about to insert: Contact's columns as plain attributes.

    Building a Contact model instance costs more than encrypting the contact; the bulk path
    only needs the attributes _apply and _seal set and _save_states reads back in column order.
    """

    def __init__(self, id: int, workspace_id: int, now: datetime.datetime):
        self.__dict__.update(_CONTACT_DEFAULTS)
        self.id, self.workspace_id, self.custom = id, workspace_id, {}
        self.created_at = self.updated_at = now


class _Plan:
    """What the write path derives from a workspace's field definitions, worked out once per call.

    A bulk upsert builds one for all its rows; a single-contact action builds one per helper,
    and each property is computed only when first used.
    """

    def __init__(self, fields: dict[str, ContactField]):
        self.fields = fields

    @functools.cached_property
    def coercers(self) -> dict[str, Any]:
        """Return {alias: coerce(value)} bound to each live field's type and options."""
        return {
            alias: coercer(alias, d.type, d.options or None)
            for alias, d in self.fields.items()
            if d.archived_at is None
        }

    @functools.cached_property
    def member_ids(self) -> set[int]:
        """Return the ids of the users who may own a contact: the members of the current workspace."""
        from tidings.accounts.selectors import member_user_ids

        return member_user_ids(require_workspace())

    @functools.cached_property
    def defaults(self) -> list[tuple[str, Any]]:
        """Return (alias, coerced default value) of the live fields that have a default."""
        return [
            (alias, coerce(d.type, d.default_value, d.options, field=alias))
            for alias, d in self.fields.items()
            if d.default_value is not None and d.archived_at is None
        ]

    @functools.cached_property
    def identifiers(self) -> list[str]:
        """Return the aliases of the live unique identifiers, in field order (the order matches are tried)."""
        ordered = sorted(self.fields.items(), key=lambda item: (item[1].order, item[0]))
        return [alias for alias, d in ordered if d.is_unique_identifier and d.archived_at is None]

    @functools.cached_property
    def required(self) -> list[str]:
        """Return the aliases of the live required fields."""
        return [alias for alias, d in self.fields.items() if d.is_required and d.archived_at is None]

    @functools.cached_property
    def uid_tokens(self) -> list[str]:
        """Return the unique identifiers indexed in the token table (those without a blind-index column)."""
        return [a for a, d in self.fields.items() if d.is_unique_identifier and a not in BLIND_INDEX_COLUMNS]


def _prepare(
    values: Mapping[str, Any],
    fields: dict[str, ContactField],
    *,
    overwrite_with_blank: bool = True,
    plan: _Plan | None = None,
):
    """Return ({alias: coerced value or None}, {alias: [messages]}) for a row of values.

    A contact's owner must be a member of the workspace: any other user id (another workspace's,
    staff's, nobody's) is refused here, so the UI, both APIs and imports agree.
    """
    plan = plan or _Plan(fields)
    coercers = plan.coercers
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for alias, raw in values.items():
        convert = coercers.get(alias)
        if convert is None:
            errors[alias] = ["this field is archived"] if alias in fields else ["no such field"]
            continue
        try:
            value = convert(raw)
        except ValidationError as error:
            errors[alias] = error.messages
            continue
        if alias == OWNER and value is not None and not _may_own(value, fields[alias], plan):
            errors[alias] = ["not a member of this workspace"]  # never echo who that user is
            continue
        if value is not None or overwrite_with_blank:  # coerce() gives None for an empty value, only for one
            changes[alias] = value
    return changes, errors


def _may_own(value, definition: ContactField, plan: _Plan) -> bool:
    """Return whether value may be stored in definition when it is a contact's owner (a member's id)."""
    if definition.object != FieldObject.CONTACT:
        return True  # a company's field aliased "owner" is plain data
    return isinstance(value, int) and value in plan.member_ids


def _missing_required(state: _State | None, changes: Mapping[str, Any], plan: _Plan, *, defaults: bool = False):
    """Return {alias: [message]} for required fields a row would leave empty (new contact: state None).

    A value in changes wins; otherwise the contact's current value counts, or for a new
    contact (defaults=True) the field's default.
    """
    errors = {}
    default_of = dict(plan.defaults) if defaults else {}
    for alias in plan.required:
        if alias in changes and not is_empty(changes[alias]):
            continue
        if alias not in changes and state is not None and not is_empty(_current_value(state, alias)):
            continue
        if state is None and not is_empty(default_of.get(alias)):
            continue
        errors[alias] = ["this field is required"]
    return errors


def _with_defaults(changes: dict, fields: dict[str, ContactField]) -> dict:
    for alias, definition in fields.items():
        if definition.default_value is not None and definition.archived_at is None and changes.get(alias) is None:
            changes[alias] = coerce(definition.type, definition.default_value, definition.options, field=alias)
    return changes


def _required_errors(state: _State, fields: dict[str, ContactField]) -> dict:
    errors = {}
    for alias, definition in fields.items():
        if definition.is_required and definition.archived_at is None and is_empty(_current_value(state, alias)):
            errors[alias] = ["this field is required"]
    return errors


def _current_value(state: _State, alias: str):
    column = CONTACT_COLUMNS.get(alias)
    if column:
        return getattr(state.contact, column)
    if alias in state.profile:
        return state.profile[alias]
    return state.contact.custom.get(alias)


def _apply(state: _State, changes: Mapping[str, Any], fields: dict[str, ContactField]) -> None:
    contact = state.contact
    for alias, value in changes.items():
        column = CONTACT_COLUMNS.get(alias)
        if column:
            if value is None:
                value = _COLUMN_EMPTY.get(column, "")
            if getattr(contact, column) != value:
                setattr(contact, column, value)
                state.changed.add(alias)
            continue
        store = state.profile if fields[alias].is_encrypted else contact.custom
        stored = to_json(value)
        if store.get(alias) != stored:
            state.changed.add(alias)
        if stored is None:
            store.pop(alias, None)
        else:
            store[alias] = stored


def _seal(state: _State, ring: Keyring, now: datetime.datetime | None = None) -> None:
    """Encrypt the profile into the contact and refresh its blind indexes and clear derivations."""
    contact, profile = state.contact, state.profile
    now = now or timezone.now()
    contact.profile_enc = state.key.encrypt_json(PROFILE, profile) if profile else None
    email = profile.get("email")
    contact.email_bidx = ring.blind_index("email", normalise_email(email)) if email else None
    contact.email_domain = email.rpartition("@")[2].lower() if email else ""
    phone, mobile = profile.get("phone"), profile.get("mobile")
    contact.phone_bidx = ring.blind_index("phone", normalise_phone(phone)) if phone else None
    contact.mobile_bidx = ring.blind_index("phone", normalise_phone(mobile)) if mobile else None
    if contact.date_identified is None and any(profile.get(alias) for alias in IDENTIFYING_ALIASES):
        contact.date_identified = now
    contact.updated_at = now


def _tokens(state: _State, ring: Keyring, fields: dict[str, ContactField], *, plan: _Plan | None = None) -> set[bytes]:
    """Return the search tokens of a contact: its name words and its unique-identifier values."""
    tokens = set()
    for alias in NAME_FIELDS:
        for word in words(state.profile.get(alias)):
            tokens.add(ring.blind_index("name", word))
    for alias in (plan or _Plan(fields)).uid_tokens:
        value = _current_value(state, alias)
        if not is_empty(value):
            tokens.add(ring.blind_index(f"uid:{alias}", normalise_text(str(to_json(value)))))
    return tokens


def _identifiers(
    ring: Keyring, fields: dict[str, ContactField], lookup, *, plan: _Plan | None = None
) -> list[tuple[str, str, bytes]]:
    """Return (alias, where, blind index) for each unique-identifier value lookup(alias) gives.

    where is a Contact column (email_bidx...) or "token" for the search-token table.
    """
    found = []
    for alias in (plan or _Plan(fields)).identifiers:
        value = lookup(alias)
        if is_empty(value):
            continue
        if alias == "email":
            found.append((alias, "email_bidx", ring.blind_index("email", normalise_email(str(value)))))
        elif alias in ("phone", "mobile"):
            index = ring.blind_index("phone", normalise_phone(str(value)))
            found.append((alias, "phone_bidx", index))
            found.append((alias, "mobile_bidx", index))
        else:
            found.append((alias, "token", ring.blind_index(f"uid:{alias}", normalise_text(str(to_json(value))))))
    return found


def _match(identifier_lists: Sequence[list[tuple[str, str, bytes]]]) -> list[tuple[int | None, str | None]]:
    """Return, per row, (id of the existing contact its unique identifiers match, alias that matched).

    Identifiers are combined with OR, in field order (Mautic's default); one query per kind.
    """
    return _match_owners(identifier_lists)[0]


def _match_owners(identifier_lists):
    """Return (_match's result, {(where, blind index): id of the oldest contact holding it})."""
    wanted: dict[str, set[bytes]] = {}
    for identifiers in identifier_lists:
        for _alias, where, index in identifiers:
            wanted.setdefault(where, set()).add(index)
    owners: dict[tuple[str, bytes], int] = {}
    for where, indexes in wanted.items():
        if where == "token":
            pairs = ContactSearchToken.objects.filter(token__in=list(indexes)).values_list("token", "contact_id")
        else:
            pairs = Contact.objects.filter(**{f"{where}__in": list(indexes)}).values_list(where, "id")
        for index, contact_id in pairs:
            key = (where, bytes(index))
            owners[key] = min(contact_id, owners.get(key, contact_id))
    results = []
    for identifiers in identifier_lists:
        hit = next(((owners[(w, i)], a) for a, w, i in identifiers if (w, i) in owners), (None, None))
        results.append(hit)
    return results, owners


def _email_taken(identifiers, owners: Mapping, contact_id: int | None, batch_owners: Mapping | None = None) -> dict:
    """Return {"email": [message]} when the row's email belongs to another contact than contact_id, else {}.

    A row can match one contact by another unique identifier (a custom one, a phone) while its
    email is another contact's; writing it would give two contacts one email, which the
    database refuses (contacts_c_email_unique). batch_owners ({(where, index): _State}) are
    the contacts earlier rows of the same batch wrote.
    """
    for alias, where, index in identifiers:
        if where != "email_bidx":
            continue
        holders = [owners.get((where, bytes(index)))]
        if batch_owners is not None and (where, index) in batch_owners:
            holders.append(batch_owners[(where, index)].contact.id)
        if any(holder is not None and holder != contact_id for holder in holders):
            return {alias: [f"another contact already has this {alias}"]}
    return {}


def _allocate_ids(count: int) -> list[int]:
    """Reserve count new contact ids before inserting (the ids are part of the ciphertexts' AAD).

    PostgreSQL draws them from the identity sequence. SQLite takes max(id, sqlite_sequence)+1...;
    that is safe because region transactions are IMMEDIATE, holding the write lock until commit.
    """
    connection = connections[_db()]
    table = Contact._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor == "sqlite":
            cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(table)}")  # noqa: S608 (a model's table name)
            highest = cursor.fetchone()[0] or 0
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            start = max(highest, row[0] if row else 0) + 1
            return list(range(start, start + count))
    raise NotImplementedError(f"id allocation is not implemented for {connection.vendor}")


def _adapted(connection, fields, rows: Sequence[Sequence]) -> Sequence[Sequence]:
    """Return rows with the values of fields (the rows' leading columns) adapted for the database.

    Django's bulk_create and bulk_update spend most of their time compiling SQL per value; this
    converts each value once with the backend's own adapters instead, and a value object shared
    by many rows (the batch's timestamp, an event's data) only once.
    """
    ops = connection.ops
    converters = []
    for position, f in enumerate(fields):
        internal = f.get_internal_type()
        if internal == "JSONField":
            converters.append((position, functools.partial(ops.adapt_json_value, encoder=f.encoder)))
        elif internal == "DateTimeField":
            converters.append((position, ops.adapt_datetimefield_value))
    if not converters:
        return rows
    # Keyed by id(), as every value stays referenced by rows until the executemany is done;
    # empty dicts and lists (each contact's own `custom`) share one key per type.
    adapted: dict[Any, Any] = {}
    converted = []
    for row in rows:
        row = list(row)
        for position, convert in converters:
            value = row[position]
            if value is not None:
                key = id(value) if value or type(value) not in (dict, list) else type(value)
                if key not in adapted:
                    adapted[key] = convert(value)
                row[position] = adapted[key]
        converted.append(row)
    return converted


def _model_fields(model, columns: Sequence[str]) -> list:
    return [next(f for f in model._meta.concrete_fields if f.attname == name) for name in columns]


def _insert(model, columns: Sequence[str], rows: Sequence[Sequence], *, ignore_conflicts: bool = False) -> None:
    """Insert rows (tuples in columns' order) in batches, skipping the ORM's per-value compilation.

    PostgreSQL gets one statement per batch (see _pg_arrays); SQLite an executemany, which costs
    no round trip there. With ignore_conflicts a row hitting a unique index is skipped silently:
    callers that must know read the ids back.
    """
    if not rows:
        return
    connection = connections[_db()]
    ops = connection.ops
    fields = _model_fields(model, columns)
    rows = _adapted(connection, fields, rows)
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    if connection.vendor == "postgresql":
        values = "SELECT * FROM unnest({})".format(", ".join(_pg_array_params(connection, fields)))  # noqa: S608 (types)
    else:
        values = "VALUES ({})".format(", ".join(["%s"] * len(fields)))
    sql = "{} {} ({}) {} {}".format(
        ops.insert_statement(on_conflict=on_conflict),
        ops.quote_name(model._meta.db_table),
        ", ".join(ops.quote_name(f.column) for f in fields),
        values,
        ops.on_conflict_suffix_sql(fields, on_conflict, None, None) or "",
    )
    if connection.vendor == "postgresql":
        with _pg_binding_cursor(connection) as cursor:
            for start in range(0, len(rows), BATCH_SIZE):
                cursor.execute(sql, _pg_arrays(rows[start : start + BATCH_SIZE], len(fields)))
        return
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.executemany(sql, rows[start : start + BATCH_SIZE])


def _update(model, columns: Sequence[str], rows: Sequence[Sequence]) -> None:
    """Update rows of the current workspace in batches; each row is its columns' values, then its id.

    Django's bulk_update builds one CASE WHEN per column and row: re-importing a known list ran
    at a few hundred contacts a second. The workspace is in the WHERE clause, so a wrong id can
    only miss, never touch another workspace's row. Ids must be unique within rows: PostgreSQL
    applies one statement per batch, where a repeated id would update the row only once.
    """
    if not rows:
        return
    connection = connections[_db()]
    ops = connection.ops
    fields = _model_fields(model, columns)
    workspace_id = require_workspace().id
    table = ops.quote_name(model._meta.db_table)
    if connection.vendor == "postgresql":
        id_field = model._meta.pk
        # The unnested columns are named by position, so no model column name can clash with them.
        names = [f"v{position}" for position in range(len(fields) + 1)]
        sql = "UPDATE {} AS t SET {} FROM unnest({}) AS v({}) WHERE t.{} = v.{} AND t.{} = %s".format(  # noqa: S608 (a model's table and columns)
            table,
            ", ".join(f"{ops.quote_name(f.column)} = v.{name}" for f, name in zip(fields, names, strict=False)),
            ", ".join(_pg_array_params(connection, [*fields, id_field])),
            ", ".join(names),
            ops.quote_name(id_field.column),
            names[-1],
            ops.quote_name("workspace_id"),
        )
        rows = _adapted(connection, fields, rows)
        with _pg_binding_cursor(connection) as cursor:
            for start in range(0, len(rows), BATCH_SIZE):
                cursor.execute(sql, [*_pg_arrays(rows[start : start + BATCH_SIZE], len(fields) + 1), workspace_id])
        return
    rows = [[*row, workspace_id] for row in _adapted(connection, fields, rows)]
    sql = "UPDATE {} SET {} WHERE {} = %s AND {} = %s".format(  # noqa: S608 (a model's table and columns)
        table,
        ", ".join(f"{ops.quote_name(f.column)} = %s" for f in fields),
        ops.quote_name("id"),
        ops.quote_name("workspace_id"),
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.executemany(sql, rows[start : start + BATCH_SIZE])


# A type modifier: varchar(254) -> varchar. Casting an array to varchar(n)[] would truncate
# too long values silently; without it, the assignment to the column refuses them as an insert would.
_TYPE_MODIFIER = re.compile(r"\([^)]*\)")


def _pg_array_params(connection, fields) -> list[str]:
    """Return one "%b::type[]" placeholder per field (an array bound in binary), for unnest() on PostgreSQL."""
    return [f"%b::{_TYPE_MODIFIER.sub('', f.db_type(connection))}[]" for f in fields]


def _pg_binding_cursor(connection):
    """Return a Django cursor on connection that binds parameters on the server (psycopg 3).

    Django's default cursor inlines parameters client-side: escaping a batch's arrays as text
    literals cost ~40 ms per 1,000 contacts, binary arrays ~8 ms. The cursor shares the
    connection, so it writes in the caller's transaction, and Django still logs its queries.
    """
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = ServerBindingCursor(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


def _pg_arrays(rows: Sequence[Sequence], width: int) -> list[list]:
    """Return rows transposed into one list per column, which psycopg binds as arrays.

    executemany costs a round trip per row on PostgreSQL (a fifth of a plain INSERT's rate);
    COPY is refused on tables with row-level security; a multi-row VALUES is slower through
    Django's client-side binding. unnest() of one array per column sends a batch in one statement.
    """
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def _new_states(count: int, ring: Keyring, *, light: bool = False) -> tuple[list[_State], list[tuple]]:
    """Return (count new states with fresh ids and data keys, their key rows to insert).

    Key rows are (workspace_id, contact_id, key_version, wrapped_dek) tuples for _save_states.
    light states hold a _NewContact instead of a Contact (imports: nothing is handed back).
    """
    if not count:
        return [], []
    workspace_id = require_workspace().id
    now = timezone.now()
    ids = _allocate_ids(count)
    states, keys = [], []
    version = ring.active_version
    for contact_id, (wrapped, key) in zip(ids, ring.new_data_keys(ids), strict=True):
        if light:
            contact = _NewContact(contact_id, workspace_id, now)
        else:
            contact = Contact(id=contact_id, workspace_id=workspace_id, custom={}, created_at=now, updated_at=now)
        states.append(_State(contact=contact, profile={}, key=key, new=True))
        keys.append((workspace_id, contact_id, version, wrapped))
    return states, keys


def _load_states(contact_ids: Iterable[int], ring: Keyring) -> dict[int, _State]:
    """Return {id: _State} of existing contacts with their decrypted profiles (three queries)."""
    ids = list(set(contact_ids))
    contacts = Contact.objects.filter(id__in=ids)
    keys = ring.data_keys(ids)
    states = {}
    for contact in contacts:
        key = keys.get(contact.id)
        if key is None:  # shredded but the row survived (an interrupted erasure): start a fresh key
            key_row, key = ring.new_data_key(contact.id)
            key_row.save()
            profile = {}
        else:
            profile = key.decrypt_json(PROFILE, contact.profile_enc) if contact.profile_enc else {}
        states[contact.id] = _State(contact=contact, profile=profile, key=key)
    return states


def _write_tokens(states: Sequence[_State], ring: Keyring, fields, *, replace: bool, plan: _Plan | None = None) -> None:
    workspace_id = require_workspace().id
    plan = plan or _Plan(fields)
    if replace:
        ContactSearchToken.objects.filter(contact_id__in=[s.contact.id for s in states]).delete()
    rows = [
        (workspace_id, state.contact.id, token) for state in states for token in _tokens(state, ring, fields, plan=plan)
    ]
    _insert(ContactSearchToken, ["workspace_id", "contact_id", "token"], rows)


_CONTACT_UPDATE_FIELDS = [
    "profile_enc",
    "email_bidx",
    "phone_bidx",
    "mobile_bidx",
    "email_domain",
    *CONTACT_COLUMNS.values(),
    "lawful_basis",
    "custom",
    "updated_at",
]


_CONTACT_INSERT_FIELDS = ["id", "workspace_id", "created_at", *_CONTACT_UPDATE_FIELDS]
_contact_insert_row = operator.attrgetter(*_CONTACT_INSERT_FIELDS)
_contact_update_row = operator.attrgetter(*_CONTACT_UPDATE_FIELDS, "id")


def _save_states(states: Sequence[_State], key_rows: Sequence[tuple], ring: Keyring, fields, *, plan=None) -> None:
    """Seal states and write them: new ones (with their key rows from _new_states) inserted, others updated."""
    plan = plan or _Plan(fields)
    new = [s for s in states if s.new]
    old = [s for s in states if not s.new]
    now = timezone.now()
    for state in states:
        _seal(state, ring, now)
    if new:
        from tidings.privacy.models import ContactKey

        # A conflict on the email's unique index (a concurrent writer committed the same email
        # after our match) skips the row instead of aborting the transaction: PostgreSQL would
        # refuse every later statement, the savepoint rollback included. The skipped row is
        # found by reading the new ids back, and reported as EmailTaken before anything else
        # (keys, tokens) is written for it.
        _insert(Contact, _CONTACT_INSERT_FIELDS, [_contact_insert_row(s.contact) for s in new], ignore_conflicts=True)
        used = {s.contact.id for s in new}
        if len(used) != Contact.objects.filter(id__in=list(used)).count():
            raise EmailTaken("another contact already has one of these emails")
        key_columns = ["workspace_id", "contact_id", "key_version", "wrapped_dek"]
        _insert(ContactKey, key_columns, [row for row in key_rows if row[1] in used])
        _write_tokens(new, ring, fields, replace=False, plan=plan)
    if old:
        _update(Contact, _CONTACT_UPDATE_FIELDS, [_contact_update_row(s.contact) for s in old])
        reindex = [s for s in old if s.changed & _token_aliases(fields)]
        if reindex:
            _write_tokens(reindex, ring, fields, replace=True, plan=plan)


def _token_aliases(fields) -> set[str]:
    return set(NAME_FIELDS) | {a for a, f in fields.items() if f.is_unique_identifier and a not in BLIND_INDEX_COLUMNS}


def _apply_tags(states: Sequence[_State], common: Sequence[str] = ()) -> tuple[int, int]:
    """Apply each state's tags plus common tags (a leading "-" removes); return (links added, removed)."""
    shared = _split_tags(common)
    wanted = {s.contact.id: _split_tags([*common, *s.tags]) if s.tags else shared for s in states}
    names = {name for add, remove in wanted.values() for name in add | remove}
    if not names:
        return 0, 0
    tags = _tags_by_name(names, create={name for add, _ in wanted.values() for name in add})
    tag_ids = {name: tag.id for name, tag in tags.items()}
    workspace_id = require_workspace().id
    links = [(workspace_id, contact_id, tag_ids[name]) for contact_id, (add, _) in wanted.items() for name in add]
    _insert(ContactTag, ["workspace_id", "contact_id", "tag_id"], links, ignore_conflicts=True)
    # One condition per distinct set of tags to remove (an import's common "-tag" is one), not per contact.
    removals: dict[frozenset[int], list[int]] = {}
    for contact_id, (_, remove) in wanted.items():
        ids = frozenset(tag_ids[name] for name in remove if name in tag_ids)
        if ids:
            removals.setdefault(ids, []).append(contact_id)
    removed = 0
    if removals:
        condition = Q()
        for ids, contact_ids in removals.items():
            condition |= Q(contact_id__in=contact_ids, tag_id__in=sorted(ids))
        removed, _ = ContactTag.objects.filter(condition).delete()
    return len(links), removed


def _split_tags(tags: Iterable[str]) -> tuple[set[str], set[str]]:
    """Return (names to add, names to remove) of tags, "-name" removing.

    Raise ValidationError on a name longer than a tag holds (never cut: a cut name is another
    tag) or more distinct names than settings.TIDINGS_MAX_TAGS_PER_REQUEST.
    """
    add, remove = set(), set()
    for raw in tags:
        name = str(raw).strip()
        if name.startswith("-"):
            name = name[1:].strip()
            if name:
                remove.add(_tag_name(name, field="tags"))
                add.discard(name)
        elif name:
            add.add(_tag_name(name, field="tags"))
            remove.discard(name)
    limit = settings.TIDINGS_MAX_TAGS_PER_REQUEST
    if len(add) + len(remove) > limit:
        raise ValidationError({"tags": [f"at most {limit} tags at a time"]})
    return add, remove


def _tag_errors(tags: Sequence[str]) -> dict[str, list[str]]:
    """Return {"tags": [messages]} when _split_tags refuses tags, else {}."""
    try:
        _split_tags(tags)
    except ValidationError as error:
        return error.message_dict
    return {}


def _tag_name(name: str, *, field: str = "name") -> str:
    """Return name when a tag can hold it; raise ValidationError when it is longer than MAX_TAG_NAME."""
    if len(name) > MAX_TAG_NAME:
        raise ValidationError({field: [f"a tag name has at most {MAX_TAG_NAME} characters"]})
    return name


def _tags_by_name(names: set[str], *, create: set[str]) -> dict[str, Tag]:
    existing = {t.name: t for t in Tag.objects.filter(name__in=list(names))}
    missing = [n for n in create if n not in existing]
    if missing:
        workspace_id = require_workspace().id
        Tag.objects.bulk_create([Tag(workspace_id=workspace_id, name=n) for n in missing], ignore_conflicts=True)
        existing.update({t.name: t for t in Tag.objects.filter(name__in=missing)})
    return existing


def _row_tags(value) -> list[str]:
    if is_empty(value):
        return []
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.replace(",", "|").split("|")) if part]
    return [str(v) for v in value]


def _events(states: Sequence[_State], event_type: int, data: dict | None = None) -> None:
    from tidings.contacts.events import check_event_data

    data = check_event_data(event_type, data)
    workspace_id = require_workspace().id
    now = timezone.now()
    rows = [(workspace_id, s.contact.id, int(event_type), now, data) for s in states]
    _insert(ContactEvent, ["workspace_id", "contact_id", "type", "at", "data"], rows)


def _creation_source(principal, request) -> str:
    """Return where a contact created one by one comes from, for the dashboard: ui, api or system.

    Read from how the request entered (tidings.web.entry sets request.credential): a signed-in
    session is the UI, a token, OAuth2 or password Basic is an API client; no request is a task
    or command. Imports are counted from their own rows (ContactImport.created_count).
    """
    credential = getattr(request, "credential", "") if request is not None else ""
    if credential == "session":
        return "ui"
    if credential:
        return "api"
    return "system" if principal.is_system else "ui"


def _check_lawful_basis(lawful_basis: str, *, required: bool) -> None:
    if (required or lawful_basis) and lawful_basis not in LawfulBasis.values:
        raise ValidationError({"lawful_basis": f"choose one of {', '.join(LawfulBasis.values)}"})


def _duplicate_error(alias: str) -> ValidationError:
    return ValidationError({alias: [f"another contact already has this {alias}"]})


# ==============================================================================================
# Contacts: the actions


def contact_create(
    values: Mapping[str, Any],
    *,
    tags: Sequence[str] = (),
    lawful_basis: str = "",
    principal,
    request=None,
) -> Contact:
    """Create a contact from {alias: value} and return it; field defaults fill missing values.

    tags are names to apply. Raise ValidationError on unknown, archived or invalid fields, a
    missing required field, an unknown lawful basis, or a unique identifier (email by default)
    another contact already has (use contact_upsert to update that contact instead).
    """
    _require(principal, "contacts:edit")
    contact, created = _upsert_one(
        values, tags=tags, lawful_basis=lawful_basis, allow_match=False, principal=principal, request=request
    )
    return contact


def contact_upsert(
    values: Mapping[str, Any],
    *,
    tags: Sequence[str] = (),
    lawful_basis: str = "",
    overwrite_with_blank: bool = False,
    principal,
    request=None,
) -> tuple[Contact, bool]:
    """Update the contact matching values' unique identifiers, or create one; return (contact, created).

    Unique identifiers are the fields flagged is_unique_identifier (email by default), combined
    with OR. Blank values leave a matched contact's fields alone unless overwrite_with_blank.
    tags use Mautic's convention: a leading "-" removes the tag. Raise ValidationError as
    contact_create does.
    """
    _require(principal, "contacts:edit")
    return _upsert_one(
        values,
        tags=tags,
        lawful_basis=lawful_basis,
        allow_match=True,
        overwrite_with_blank=overwrite_with_blank,
        principal=principal,
        request=request,
    )


def _upsert_one(values, *, tags, lawful_basis, allow_match, overwrite_with_blank=True, principal, request):
    _check_lawful_basis(lawful_basis, required=False)
    fields = load_fields()
    changes, errors = _prepare(values, fields, overwrite_with_blank=overwrite_with_blank or not allow_match)
    if errors:
        raise ValidationError(errors)
    ring = keyring()
    arguments = (changes, fields, ring, tags, lawful_basis, allow_match, principal, request)
    try:
        return _upsert_attempt(*arguments)
    except IntegrityError as error:
        # Another transaction inserted this email between our match and our insert (PostgreSQL
        # runs concurrent writers; SQLite serialises them). Its row is committed now: a create
        # reports the duplicate, an upsert matches it on the second attempt.
        if not _is_email_conflict(error):
            raise
        if not allow_match:
            raise _duplicate_error("email") from error
        return _upsert_attempt(*arguments)


EMAIL_UNIQUE_CONSTRAINT = "contacts_c_email_unique"


class EmailTaken(IntegrityError):
    """A new contact's email was inserted by a concurrent transaction (contacts_c_email_unique)."""


def _is_email_conflict(error: IntegrityError) -> bool:
    """Return whether error is a violation of the (workspace, email blind index) unique constraint."""
    if isinstance(error, EmailTaken):
        return True
    diag = getattr(error.__cause__, "diag", None)  # psycopg names the constraint
    if diag is not None and getattr(diag, "constraint_name", None):
        return diag.constraint_name == EMAIL_UNIQUE_CONSTRAINT
    return "contacts_contact.email_bidx" in str(error)  # SQLite names the columns


def _upsert_attempt(changes, fields, ring, tags, lawful_basis, allow_match, principal, request):
    changes = dict(changes)  # defaults are added for a new contact; a retry starts from the row as given
    with _atomic():
        identifiers = _identifiers(ring, fields, changes.get)
        ((match_id, alias),), owners = _match_owners([identifiers])
        if match_id is not None and not allow_match:
            raise _duplicate_error(alias)
        if match_id is not None and _email_taken(identifiers, owners, match_id):
            raise _duplicate_error("email")
        if match_id is None:
            states, key_rows = _new_states(1, ring)
            changes = _with_defaults(changes, fields)
        else:
            states, key_rows = [_load_states([match_id], ring)[match_id]], []
        state = states[0]
        _apply(state, changes, fields)
        if lawful_basis:
            state.contact.lawful_basis = lawful_basis
        required = _required_errors(state, fields)
        if required:
            raise ValidationError(required)
        state.tags = list(tags)
        _save_states(states, key_rows, ring, fields)
        _apply_tags(states)
        if state.new:
            _events(states, EventType.CONTACT_CREATED, {"source": _creation_source(principal, request)})
        _audit(
            "contact.created" if state.new else "contact.updated",
            principal=principal,
            request=request,
            target_type="contact",
            target_id=state.contact.id,
            fields=sorted(state.changed),
        )
    return state.contact, state.new


def contact_update(
    contact_id: int, values: Mapping[str, Any], *, tags: Sequence[str] = (), principal, request=None
) -> Contact:
    """Change a contact's fields ({alias: value}; empty values clear) and tags; return the contact.

    Raise Contact.DoesNotExist for an id not in this workspace, ValidationError on invalid
    values, a required field left empty, or a unique identifier another contact has (merge
    the two with contact_merge instead).
    """
    _require(principal, "contacts:edit")
    fields = load_fields()
    changes, errors = _prepare(values, fields)
    if errors:
        raise ValidationError(errors)
    ring = keyring()
    with _atomic():
        states = _load_states([contact_id], ring)
        if contact_id not in states:
            raise Contact.DoesNotExist(f"contact {contact_id} does not exist")
        state = states[contact_id]
        changed_ids = _identifiers(ring, fields, changes.get)
        for match_id, alias in _match([changed_ids]):
            if match_id is not None and match_id != contact_id:
                raise _duplicate_error(alias)
        was_identified = state.contact.date_identified is not None
        _apply(state, changes, fields)
        required = _required_errors(state, fields)
        if required:
            raise ValidationError(required)
        state.tags = list(tags)
        _save_states([state], [], ring, fields)
        _apply_tags([state])
        if not was_identified and state.contact.date_identified is not None:
            _events([state], EventType.CONTACT_IDENTIFIED)
        _audit(
            "contact.updated",
            principal=principal,
            request=request,
            target_type="contact",
            target_id=contact_id,
            fields=sorted(state.changed),
        )
    return state.contact


def contact_delete(contact_id: int, *, principal, request=None) -> None:
    """Delete a contact: shred its data key and erase it from every registered store.

    Raise Contact.DoesNotExist for an id not in this workspace.
    """
    _require(principal, "contacts:delete")
    with _atomic():
        if not Contact.objects.filter(pk=contact_id).exists():
            raise Contact.DoesNotExist(f"contact {contact_id} does not exist")
        touched = registry.erase_subject_rows([contact_id])
        _audit(
            "contact.deleted",
            principal=principal,
            request=request,
            target_type="contact",
            target_id=contact_id,
            rows={label: n for label, n in touched.items() if n},
        )


def contacts_delete(contact_ids: Iterable[int], *, principal, request=None) -> int:
    """Delete several contacts as contact_delete does; ids not in this workspace are skipped. Return the count."""
    _require(principal, "contacts:delete")
    with _atomic():
        ids = list(Contact.objects.filter(pk__in=list(contact_ids)).values_list("id", flat=True))
        if ids:
            registry.erase_subject_rows(ids)
            _audit("contacts.deleted", principal=principal, request=request, target_type="contact", ids=ids[:1000])
    return len(ids)


@dataclass
class RowError:
    index: int
    errors: dict[str, list[str]]


@dataclass
class BulkResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    contact_ids: list[int | None] = field(default_factory=list)  # per row, when asked for

    @property
    def processed(self) -> int:
        return self.created + self.updated + len(self.errors)


def contacts_bulk_upsert(
    rows: Iterable[Mapping[str, Any]],
    *,
    lawful_basis: str,
    tags: Sequence[str] = (),
    overwrite_with_blank: bool = False,
    batch_size: int = BATCH_SIZE,
    return_ids: bool = False,
    source: dict | None = None,
    principal,
    request=None,
) -> BulkResult:
    """Upsert many contacts (imports, API batches), batch by batch; return counts and per-row errors.

    Each row is {alias: value}, plus an optional "tags" entry (a list, or names separated by
    "|" or ","). Rows match existing contacts by unique identifiers as contact_upsert does;
    two rows with the same identifier in one call update the same contact. A row with an
    invalid value is skipped and reported in errors (index counts from 0 over all rows); the
    others are written. lawful_basis (LawfulBasis) is required and recorded on every contact
    written. Each batch is one transaction with one audit entry, so an interrupted import keeps
    the batches already written; the caller checkpoints by row index. source (ids only, e.g.
    {"import": 12}) is stored on each contact's contact.imported event.
    Raise ValidationError on an unknown lawful basis.
    """
    _require(principal, "contacts:edit")
    _check_lawful_basis(lawful_basis, required=True)
    _split_tags(tags)  # tags for every row: refused here, before any batch is written
    fields = load_fields()
    plan = _Plan(fields)
    ring = keyring()
    result = BulkResult()
    batch: list[tuple[int, Mapping[str, Any]]] = []

    def write(batch):
        arguments = (batch, fields, ring, lawful_basis, tags, overwrite_with_blank, return_ids, source, result,
                     principal, request, plan)  # fmt: skip
        try:
            _bulk_batch(*arguments)
        except IntegrityError as error:
            # A concurrent writer inserted one of the batch's emails after our match: match again.
            if not _is_email_conflict(error):
                raise
            _bulk_batch(*arguments)

    for index, row in enumerate(rows):
        batch.append((index, row))
        if len(batch) >= batch_size:
            write(batch)
            batch = []
    if batch:
        write(batch)
    return result


def _bulk_batch(batch, fields, ring, lawful_basis, tags, overwrite_with_blank, return_ids, source, result,
                principal, request, plan: _Plan | None = None) -> None:  # fmt: skip
    """Upsert one batch of (index, row) in one transaction; add its counts and row errors to result."""
    plan = plan or _Plan(fields)
    prepared = []  # (index, changes, row tags)
    early_errors: list[RowError] = []
    for index, row in batch:
        row_tags: list[str] = []
        if "tags" in row:
            row = dict(row)
            row_tags = _row_tags(row.pop("tags"))
        changes, errors = _prepare(row, fields, overwrite_with_blank=overwrite_with_blank, plan=plan)
        errors.update(_tag_errors(row_tags))
        if errors:
            early_errors.append(RowError(index, errors))
            continue
        prepared.append((index, changes, row_tags))
    with _atomic():
        identifiers = [_identifiers(ring, fields, changes.get, plan=plan) for _, changes, _ in prepared]
        matches, owners = _match_owners(identifiers)
        existing = _load_states({m for m, _ in matches if m is not None}, ring)
        new_count = sum(1 for m, _ in matches if m is None)
        fresh, key_rows = _new_states(new_count, ring, light=True)
        fresh_iter = iter(fresh)
        by_identifier: dict[tuple[str, bytes], _State] = {}  # rows of this batch sharing an identifier
        touched: dict[int, _State] = {}
        ids_by_index: dict[int, int] = {}
        late_errors: list[RowError] = []  # added to result only once the batch has committed
        for (index, changes, row_tags), (match_id, _), row_identifiers in zip(
            prepared, matches, identifiers, strict=True
        ):
            state = existing.get(match_id) if match_id is not None else None
            if state is None and row_identifiers:
                state = next((by_identifier[(w, i)] for _, w, i in row_identifiers if (w, i) in by_identifier), None)
            conflict = _email_taken(row_identifiers, owners, state.contact.id if state else None, by_identifier)
            if conflict:
                late_errors.append(RowError(index, conflict))
                continue
            if state is None:
                missing = _missing_required(None, changes, plan, defaults=True)
                if missing:  # checked before a fresh state is taken, so a refused row leaves no trace
                    late_errors.append(RowError(index, missing))
                    continue
                state = next(fresh_iter)
                for alias, default in plan.defaults:  # a new contact starts from the fields' defaults
                    if changes.get(alias) is None:
                        changes[alias] = list(default) if isinstance(default, list) else default
            else:
                missing = _missing_required(state, changes, plan)
                if missing:  # e.g. overwrite_with_blank clearing a required field: the contact keeps its values
                    late_errors.append(RowError(index, missing))
                    continue
            for _, where, value in row_identifiers:
                by_identifier.setdefault((where, value), state)
            _apply(state, changes, fields)
            state.contact.lawful_basis = lawful_basis
            state.tags.extend(row_tags)
            touched[state.contact.id] = state
            ids_by_index[index] = state.contact.id
        states = list(touched.values())
        # Fresh states left unused (rows merged into an earlier row of the batch) are dropped.
        _save_states(states, key_rows, ring, fields, plan=plan)
        _apply_tags(states, tags)
        _events(states, EventType.CONTACT_IMPORTED, source)
        created = sum(1 for s in states if s.new)
        _audit(
            "contacts.bulk_upserted",
            principal=principal,
            request=request,
            target_type="contact",
            created=created,
            updated=len(states) - created,
            errors=len(early_errors) + len(late_errors),
            first_row=batch[0][0],
            last_row=batch[-1][0],
            lawful_basis=lawful_basis,
            **({"source": source} if source else {}),
        )
    result.errors.extend(sorted(early_errors + late_errors, key=lambda error: error.index))
    result.created += created
    result.updated += len(ids_by_index) - created
    if return_ids:
        result.contact_ids.extend(ids_by_index.get(index) for index, _ in batch)


def contact_merge(winner_id: int, loser_id: int, *, principal, request=None) -> Contact:
    """Merge loser into winner and return the winner; the loser is erased.

    The winner keeps its values; its empty fields take the loser's. Points add up, last_active
    and date_identified take the later and the earlier. Every registered store (events, tags,
    notes, re-encrypted under the winner's key, companies, Do-Not-Contact, and the stores of
    other apps) moves to the winner. Raise Contact.DoesNotExist if either id is not in this
    workspace, ValidationError when both ids are the same.
    """
    # A merge erases the loser: the same permission as deleting it, on every surface.
    _require(principal, "contacts:edit")
    _require(principal, "contacts:delete")
    if winner_id == loser_id:
        raise ValidationError("a contact cannot be merged with itself")
    fields = load_fields()
    ring = keyring()
    with _atomic():
        states = _load_states([winner_id, loser_id], ring)
        if winner_id not in states or loser_id not in states:
            raise Contact.DoesNotExist("both contacts must exist in this workspace")
        winner, loser = states[winner_id], states[loser_id]
        _fold_profile(winner, loser)
        moved = registry.merge_subject_rows(winner_id, loser_id)
        registry.erase_subject_rows([loser_id], other_stores=False)
        _save_states([winner], [], ring, fields)
        _write_tokens([winner], ring, fields, replace=True)
        _events([winner], EventType.CONTACT_MERGED, {"merged_id": loser_id})
        _audit(
            "contact.merged",
            principal=principal,
            request=request,
            target_type="contact",
            target_id=winner_id,
            loser_id=loser_id,
            moved={label: n for label, n in moved.items() if n},
        )
    return winner.contact


def _fold_profile(winner: _State, loser: _State) -> None:
    for alias, value in loser.profile.items():
        if is_empty(winner.profile.get(alias)):
            winner.profile[alias] = value
    for alias, value in loser.contact.custom.items():
        if is_empty(winner.contact.custom.get(alias)):
            winner.contact.custom[alias] = value
    w, lo = winner.contact, loser.contact
    for column in ("company_name", "position", "city", "state", "zipcode", "country", "timezone", "preferred_locale",
                   "website", "owner_id", "stage_id", "lawful_basis"):  # fmt: skip
        if is_empty(getattr(w, column)) and not is_empty(getattr(lo, column)):
            setattr(w, column, getattr(lo, column))
    w.points = (w.points or 0) + (lo.points or 0)
    w.last_active = max(filter(None, [w.last_active, lo.last_active]), default=None)
    w.date_identified = min(filter(None, [w.date_identified, lo.date_identified]), default=None)
    w.created_at = min(w.created_at, lo.created_at)
    winner.changed.update(NAME_FIELDS)


def _rewrite_contacts(change, *, fields, reindex: bool) -> int:
    """Apply change(profile, contact) -> bool to every contact in batches, re-sealing those it changed."""
    ring = keyring()
    touched, last_id = 0, 0
    while True:
        ids = list(Contact.objects.filter(id__gt=last_id).order_by("id").values_list("id", flat=True)[:BATCH_SIZE])
        if not ids:
            return touched
        states = list(_load_states(ids, ring).values())
        changed = [s for s in states if change(s.profile, s.contact)]
        for state in changed:
            _seal(state, ring)
        _update(Contact, _CONTACT_UPDATE_FIELDS, [_contact_update_row(s.contact) for s in changed])
        if reindex:
            _write_tokens(states, ring, fields, replace=True)
        touched += len(changed)
        last_id = ids[-1]


# ==============================================================================================
# Tags


def contact_tags_change(contact_id: int, tags: Sequence[str], *, principal, request=None) -> tuple[int, int]:
    """Add and remove tags of a contact (a leading "-" removes, Mautic's convention); return (added, removed).

    Raise Contact.DoesNotExist for an id not in this workspace.
    """
    return contacts_tag([contact_id], tags, principal=principal, request=request, _single=True)


def contacts_tag(contact_ids: Iterable[int], tags: Sequence[str], *, principal, request=None, _single=False):
    """Apply tag changes to several contacts (bulk action); ids not in this workspace are skipped.

    Return (links added, links removed).
    """
    _require(principal, "contacts:edit")
    ids = list(contact_ids)
    with _atomic():
        found = list(Contact.objects.filter(pk__in=ids).values_list("id", flat=True))
        if _single and not found:
            raise Contact.DoesNotExist(f"contact {ids[0]} does not exist")
        states = [_State(contact=Contact(id=i), profile={}, key=None, tags=list(tags)) for i in found]
        before = ContactTag.objects.filter(contact_id__in=found).count()
        _, removed = _apply_tags(states)
        added = ContactTag.objects.filter(contact_id__in=found).count() - before + removed
        add, remove = _split_tags(tags)
        _audit(
            "contact.tags_changed",
            principal=principal,
            request=request,
            target_type="contact",
            target_id=found[0] if len(found) == 1 else "",
            contacts=len(found),
            added=sorted(t.id for t in Tag.objects.filter(name__in=list(add))),
            removed=sorted(t.id for t in Tag.objects.filter(name__in=list(remove))),
        )
    return added, removed


def tag_create(name: str, *, description: str = "", principal, request=None) -> Tag:
    """Create a tag; raise ValidationError on an empty or taken name."""
    _require(principal, "contacts:edit")
    name = _tag_name((name or "").strip())
    if not name or name.startswith("-"):
        raise ValidationError({"name": "a tag name is required and cannot start with '-'"})
    if Tag.objects.filter(name=name).exists():
        raise ValidationError({"name": "a tag with this name exists"})
    with _atomic():
        tag = Tag.objects.create(workspace_id=require_workspace().id, name=name, description=description)
        _audit("tag.created", principal=principal, request=request, target_type="tag", target_id=tag.id)
    return tag


def tag_update(tag_id: int, *, name: str | None = None, description: str | None = None, principal, request=None):
    """Rename or describe a tag; raise Tag.DoesNotExist, or ValidationError on a taken or empty name."""
    _require(principal, "contacts:edit")
    tag = Tag.objects.get(pk=tag_id)
    if name is not None:
        name = _tag_name(name.strip())
        if not name or name.startswith("-"):
            raise ValidationError({"name": "a tag name is required and cannot start with '-'"})
        if Tag.objects.filter(name=name).exclude(pk=tag_id).exists():
            raise ValidationError({"name": "a tag with this name exists"})
        tag.name = name
    if description is not None:
        tag.description = description
    with _atomic():
        tag.save()
        _audit("tag.updated", principal=principal, request=request, target_type="tag", target_id=tag.id)
    return tag


def tag_delete(tag_id: int, *, principal, request=None) -> None:
    """Delete a tag and remove it from every contact; raise Tag.DoesNotExist."""
    _require(principal, "contacts:edit")
    tag = Tag.objects.get(pk=tag_id)
    with _atomic():
        removed, _ = ContactTag.objects.filter(tag_id=tag.id).delete()
        tag.delete()
        _audit("tag.deleted", principal=principal, request=request, target_type="tag", target_id=tag_id, links=removed)


# ==============================================================================================
# Notes


def note_add(
    contact_id: int,
    text: str,
    *,
    type: str = NoteType.GENERAL,
    author_id: int | None = None,
    principal,
    request=None,
) -> Note:
    """Add a note to a contact, its text encrypted under the contact's key; return it.

    Raise Contact.DoesNotExist for an id not in this workspace, ValidationError on an empty
    text or an unknown type.
    """
    _require(principal, "contacts:edit")
    _check_note(text, type)
    ring = keyring()
    with _atomic():
        if not Contact.objects.filter(pk=contact_id).exists():
            raise Contact.DoesNotExist(f"contact {contact_id} does not exist")
        key = ring.data_key(contact_id)
        note = Note.objects.create(
            workspace_id=require_workspace().id,
            contact_id=contact_id,
            type=type,
            text_enc=key.encrypt_text(NOTE, text),
            author_id=author_id if author_id is not None else getattr(principal, "actor_id", None),
        )
        _audit("note.created", principal=principal, request=request, target_type="note", target_id=note.id,
               contact_id=contact_id)  # fmt: skip
    return note


def note_edit(note_id: int, *, text: str | None = None, type: str | None = None, principal, request=None) -> Note:
    """Change a note's text or type; raise Note.DoesNotExist, or ValidationError on an empty text or unknown type."""
    _require(principal, "contacts:edit")
    note = Note.objects.get(pk=note_id)
    _check_note(text if text is not None else "x", type or note.type)
    ring = keyring()
    with _atomic():
        if text is not None:
            note.text_enc = ring.data_key(note.contact_id).encrypt_text(NOTE, text)
        if type is not None:
            note.type = type
        note.updated_at = timezone.now()
        note.save()
        _audit("note.updated", principal=principal, request=request, target_type="note", target_id=note.id)
    return note


def note_delete(note_id: int, *, principal, request=None) -> None:
    """Delete a note; raise Note.DoesNotExist."""
    _require(principal, "contacts:edit")
    note = Note.objects.get(pk=note_id)
    with _atomic():
        note.delete()
        _audit("note.deleted", principal=principal, request=request, target_type="note", target_id=note_id)


def _check_note(text: str, type: str) -> None:
    if not (text or "").strip():
        raise ValidationError({"text": "a note needs text"})
    if type not in NoteType.values:
        raise ValidationError({"type": f"choose one of {', '.join(NoteType.values)}"})


def _reencrypt_notes(from_contact_id: int, to_contact_id: int) -> int:
    """Move a contact's notes to another contact, re-encrypting each under the new contact's key."""
    ring = keyring()
    keys = ring.data_keys([from_contact_id, to_contact_id])
    notes = list(Note.objects.filter(contact_id=from_contact_id))
    source, target = keys.get(from_contact_id), keys[to_contact_id]
    for note in notes:
        text = source.decrypt_text(NOTE, note.text_enc) if source else ""
        note.text_enc = target.encrypt_text(NOTE, text)
        note.contact_id = to_contact_id
    Note.objects.bulk_update(notes, ["text_enc", "contact_id"], batch_size=200)
    return len(notes)


# ==============================================================================================
# Do Not Contact


def dnc_add(
    contact_id: int,
    *,
    channel: str = Channel.EMAIL,
    reason: str = DncReason.MANUAL,
    comment: str = "",
    channel_id: int | None = None,
    principal,
    request=None,
) -> DoNotContact:
    """Mark a contact as not to be contacted on channel (updating the reason if already marked); return the row.

    Raise Contact.DoesNotExist for an id not in this workspace, ValidationError on an unknown channel or reason.
    """
    _require(principal, "contacts:edit")
    if channel not in Channel.values:
        raise ValidationError({"channel": f"choose one of {', '.join(Channel.values)}"})
    if reason not in DncReason.values:
        raise ValidationError({"reason": f"choose one of {', '.join(DncReason.values)}"})
    comment = comment or ""
    if len(comment) > DNC_COMMENT_MAX:
        raise ValidationError({"comment": f"longer than {DNC_COMMENT_MAX} characters"})
    ring = keyring()
    with _atomic():
        if not Contact.objects.filter(pk=contact_id).exists():
            raise Contact.DoesNotExist(f"contact {contact_id} does not exist")
        sealed = ring.data_key(contact_id).encrypt_text(_dnc_field(channel), comment) if comment else None
        row, created = DoNotContact.objects.update_or_create(
            contact_id=contact_id,
            channel=channel,
            defaults={"reason": reason, "comment_enc": sealed, "channel_id": channel_id},
            create_defaults={
                "workspace_id": require_workspace().id,
                "reason": reason,
                "comment_enc": sealed,
                "channel_id": channel_id,
            },
        )
        row.comment = comment
        if created:
            ContactEvent.objects.create(
                workspace_id=require_workspace().id,
                contact_id=contact_id,
                type=EventType.DNC_ADDED,
                data={"channel": channel, "reason": reason},
            )
        _audit("contact.dnc_added", principal=principal, request=request, target_type="contact", target_id=contact_id,
               channel=channel, reason=reason)  # fmt: skip
    return row


def _dnc_field(channel: str) -> str:
    """Return the associated-data field of a DNC comment: bound to its channel as well as its contact."""
    return f"dnc:{channel}"


def _reencrypt_dnc_comments(from_contact_id: int, to_contact_id: int) -> int:
    """Move a contact's DNC rows to another contact (merge), re-encrypting comments; the target wins per channel."""
    ring = keyring()
    keys = ring.data_keys([from_contact_id, to_contact_id])
    taken = set(DoNotContact.objects.filter(contact_id=to_contact_id).values_list("channel", flat=True))
    DoNotContact.objects.filter(contact_id=from_contact_id, channel__in=taken).delete()
    rows = list(DoNotContact.objects.filter(contact_id=from_contact_id))
    source, target = keys.get(from_contact_id), keys[to_contact_id]
    for row in rows:
        field = _dnc_field(row.channel)
        text = source.decrypt_text(field, row.comment_enc) if (source and row.comment_enc is not None) else ""
        row.comment_enc = target.encrypt_text(field, text) if text else None
        row.contact_id = to_contact_id
    DoNotContact.objects.bulk_update(rows, ["comment_enc", "contact_id"], batch_size=200)
    return len(rows)


def dnc_remove(contact_id: int, *, channel: str = Channel.EMAIL, principal, request=None) -> bool:
    """Allow contacting a contact on channel again; return whether a record was removed.

    Raise Contact.DoesNotExist for an id not in this workspace.
    """
    _require(principal, "contacts:edit")
    with _atomic():
        if not Contact.objects.filter(pk=contact_id).exists():
            raise Contact.DoesNotExist(f"contact {contact_id} does not exist")
        removed, _ = DoNotContact.objects.filter(contact_id=contact_id, channel=channel).delete()
        if removed:
            ContactEvent.objects.create(
                workspace_id=require_workspace().id,
                contact_id=contact_id,
                type=EventType.DNC_REMOVED,
                data={"channel": channel},
            )
            _audit("contact.dnc_removed", principal=principal, request=request, target_type="contact",
                   target_id=contact_id, channel=channel)  # fmt: skip
    return bool(removed)


# ==============================================================================================
# Companies


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


# ==============================================================================================
# Events


@dataclass(frozen=True)
class EventRow:
    contact_id: int
    type: int
    at: datetime.datetime | None = None
    data: dict | None = None


def events_append(rows: Iterable[EventRow | Mapping[str, Any]], *, batch_size: int = BATCH_SIZE, principal) -> int:
    """Append events to the store in batches (bulk inserts); return how many were written.

    Each row is an EventRow or a dict with contact_id, type (EventType), at (default now) and
    data (small JSON of ids; at most 256 bytes) holding only the keys and value kinds its type's
    schema declares (tidings.contacts.events); IPs are truncated to their network (/24, /48)
    before storage. Contact ids are trusted to belong to the workspace in context
    (callers hold them from a scoped read). Not audited: the event store is itself a record,
    written at tracking rates. Raise ValueError on an unknown type or oversized data, and
    EventDataRejected (a ValueError) on a key outside the type's schema or a value of the
    wrong kind; nothing of the call is written then if it fits in one batch.
    """
    _require(principal, "contacts:edit")
    import json

    from tidings.contacts.events import check_event_data

    workspace_id = require_workspace().id
    now = timezone.now()
    written = 0
    pending: list[tuple] = []
    valid_types = set(EventType.values)

    def flush():
        nonlocal written, pending
        if pending:
            with _atomic():
                _insert(ContactEvent, ["workspace_id", "contact_id", "type", "at", "data"], pending)
            written += len(pending)
            pending = []

    for row in rows:
        if isinstance(row, Mapping):
            row = EventRow(**row)
        if row.type not in valid_types:
            raise ValueError(f"unknown event type {row.type}")
        data = check_event_data(row.type, row.data)
        if len(json.dumps(data, separators=(",", ":"))) > MAX_EVENT_DATA_BYTES:
            raise ValueError(f"event data larger than {MAX_EVENT_DATA_BYTES} bytes")
        pending.append((workspace_id, int(row.contact_id), int(row.type), row.at or now, data))
        if len(pending) >= batch_size:
            flush()
    flush()
    return written


def events_purge_before(cutoff: datetime.datetime, *, batch_size: int = 5000, principal) -> int:
    """Delete the workspace's events older than cutoff in batches (retention); return how many went.

    Each batch is its own short transaction, so purging millions of rows never holds the write
    lock for long. One audit entry records the cutoff and the count.
    """
    _require(principal, "contacts:delete")
    deleted = 0
    while True:
        with _atomic():
            ids = list(ContactEvent.objects.filter(at__lt=cutoff).values_list("id", flat=True)[:batch_size])
            if not ids:
                break
            ContactEvent.objects.filter(id__in=ids).delete()
        deleted += len(ids)
    with _atomic():
        _audit("events.purged", principal=principal, target_type="contact_event", cutoff=cutoff.isoformat(),
               deleted=deleted)  # fmt: skip
    return deleted


# ==============================================================================================
# Points


POINTS_OPERATORS = ("plus", "minus", "times", "divide")


def _points_stay_in_range(operator: str, delta: int) -> Q:
    """Return the condition on a contact's current points under which operator and delta keep them in 32 bits."""
    low, high = INT32_MIN, INT32_MAX
    if operator == "plus":
        return Q(points__gte=low - delta, points__lte=high - delta)
    if operator == "minus":
        return Q(points__gte=low + delta, points__lte=high + delta)
    if operator == "times" and delta > 0:
        return Q(points__gte=-(-low // delta), points__lte=high // delta)
    if operator == "times" and delta < 0:
        return Q(points__gte=-(-high // delta), points__lte=low // delta)
    if operator == "divide" and delta == -1:
        return Q(points__gt=low)
    return Q()


def contact_points_change(contact_id: int, operator: str, delta: int, *, principal, request=None) -> int:
    """Change a contact's points by operator (plus, minus, times, divide) and delta; return the new points.

    The change is made in the database (no lost update between concurrent calls) and recorded
    as a points.changed event. Dividing drops the remainder (rounds toward zero). Raise
    Contact.DoesNotExist for an id not in this workspace, ValidationError on an unknown operator
    or a division by zero.
    """
    _require(principal, "contacts:edit")
    if operator not in POINTS_OPERATORS:
        raise ValidationError({"operator": f"choose one of {', '.join(POINTS_OPERATORS)}"})
    try:
        delta = parse_int(delta, minimum=INT32_MIN, maximum=INT32_MAX)
    except InvalidInput as error:
        raise ValidationError({"delta": [str(error)]}) from error
    if operator == "divide" and delta == 0:
        raise ValidationError({"delta": "cannot divide by zero"})
    from django.db.models import F

    expression = {
        "plus": F("points") + delta,
        "minus": F("points") - delta,
        "times": F("points") * delta,
        "divide": F("points") / delta,
    }[operator]
    with _atomic():
        # Only a row whose result fits the points column is updated; 0 rows is then "no such
        # contact" or "out of range", told apart by one more read.
        in_range = Contact.objects.filter(_points_stay_in_range(operator, delta), pk=contact_id)
        if not in_range.update(points=expression, updated_at=timezone.now()):
            if Contact.objects.filter(pk=contact_id).exists():
                raise ValidationError({"delta": [f"the points would leave the range {INT32_MIN} to {INT32_MAX}"]})
            raise Contact.DoesNotExist(f"contact {contact_id} does not exist")
        points = Contact.objects.filter(pk=contact_id).values_list("points", flat=True).get()
        ContactEvent.objects.create(
            workspace_id=require_workspace().id,
            contact_id=contact_id,
            type=EventType.POINTS_CHANGED,
            data={"op": operator, "delta": delta, "points": points},
        )
        _audit("contact.points_changed", principal=principal, request=request, target_type="contact",
               target_id=contact_id, operator=operator, delta=delta)  # fmt: skip
    return points


# ==============================================================================================
# Settings


def contact_settings_update(*, guard_policy: str, principal, request=None):
    """Choose what imports do with values the sensitive-data guard flags (GuardPolicy); return the settings.

    Raise ValidationError on an unknown policy.
    """
    _require(principal, "settings:manage")
    if guard_policy not in GuardPolicy.values:
        raise ValidationError({"guard_policy": f"choose one of {', '.join(GuardPolicy.values)}"})
    with _atomic():
        row, _ = ContactSettings.objects.update_or_create(
            defaults={"guard_policy": guard_policy, "updated_at": timezone.now()},
            create_defaults={"workspace_id": require_workspace().id, "guard_policy": guard_policy},
        )
        _audit("contact_settings.updated", principal=principal, request=request, target_type="workspace",
               target_id=require_workspace().id, guard_policy=guard_policy)  # fmt: skip
    return row
