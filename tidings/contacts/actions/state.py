"""Contact values on their way to the database: prepared, checked, sealed under the contact's key and indexed."""

from __future__ import annotations

import datetime
import functools
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from tidings.accounts.selectors import member_user_ids
from tidings.contacts.actions.common import _COLUMN_EMPTY, BATCH_SIZE, IDENTIFYING_ALIASES, OWNER, STAGE
from tidings.contacts.fields import (
    BLIND_INDEX_COLUMNS,
    CONTACT_COLUMNS,
    NAME_FIELDS,
    PROFILE,
    coerce,
    coercer,
    is_empty,
    to_json,
)
from tidings.contacts.models import (
    Contact,
    ContactField,
    ContactSearchToken,
    FieldObject,
    Stage,
)
from tidings.privacy.models import ContactKey, LawfulBasis
from tidings.privacy.vault import (
    DataKey,
    Keyring,
    keyring,
    normalise_email,
    normalise_phone,
    normalise_text,
    words,
)
from tidings.tenancy import bulk
from tidings.tenancy.context import require_workspace


@dataclass
class _State:
    """A contact being written, with its decrypted profile and data key."""

    contact: Contact | _NewContact  # _NewContact: a light row an import is about to insert
    profile: dict
    key: DataKey | None  # None for tag-only writes, which never seal
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

    # The columns the write path sets or reads (the others come from _CONTACT_DEFAULTS too).
    profile_enc: bytes | None
    email_bidx: bytes | None
    email_domain: str
    phone_bidx: bytes | None
    mobile_bidx: bytes | None
    lawful_basis: str
    points: int
    last_active: datetime.datetime | None
    date_identified: datetime.datetime | None

    def __init__(self, id: int, workspace_id: int, now: datetime.datetime):
        self.__dict__.update(_CONTACT_DEFAULTS)
        self.id, self.workspace_id = id, workspace_id
        self.custom: dict[str, Any] = {}
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
        return member_user_ids(require_workspace())

    @functools.cached_property
    def stage_ids(self) -> set[int]:
        """Return the ids of the workspace's stages, the values a contact's stage may hold."""
        return set(Stage.objects.values_list("id", flat=True))

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
    staff's, nobody's) is refused here, so the UI, both APIs and imports agree. Its stage must
    be one of the workspace's stages, the same way.
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
        if alias == STAGE and value is not None and not _may_stage(value, fields[alias], plan):
            errors[alias] = ["choose one of the workspace's stages"]
            continue
        if value is not None or overwrite_with_blank:  # coerce() gives None for an empty value, only for one
            changes[alias] = value
    return changes, errors


def _may_own(value, definition: ContactField, plan: _Plan) -> bool:
    """Return whether value may be stored in definition when it is a contact's owner (a member's id)."""
    if definition.object != FieldObject.CONTACT:
        return True  # a company's field aliased "owner" is plain data
    return isinstance(value, int) and value in plan.member_ids


def _may_stage(value, definition: ContactField, plan: _Plan) -> bool:
    """Return whether value may be stored in definition when it is a contact's stage (a Stage's id)."""
    if definition.object != FieldObject.CONTACT:
        return True  # a company's field aliased "stage" is plain data
    return isinstance(value, int) and value in plan.stage_ids


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
    assert state.key is not None, "only tag-only writes have no key, and they never seal"
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
        for word in words(state.profile.get(alias) or ""):
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


def _new_states(count: int, ring: Keyring, *, light: bool = False) -> tuple[list[_State], list[tuple]]:
    """Return (count new states with fresh ids and data keys, their key rows to insert).

    Key rows are (workspace_id, contact_id, key_version, wrapped_dek) tuples for _save_states.
    light states hold a _NewContact instead of a Contact (imports: nothing is handed back).
    """
    if not count:
        return [], []
    workspace_id = require_workspace().id
    now = timezone.now()
    ids = bulk.allocate_ids(Contact, count)
    states, keys = [], []
    version = ring.active_version
    for contact_id, (wrapped, key) in zip(ids, ring.new_data_keys(ids), strict=True):
        contact: Contact | _NewContact
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
            profile: dict[str, Any] = {}
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
    bulk.insert(ContactSearchToken, ["workspace_id", "contact_id", "token"], rows)


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
        # A conflict on the email's unique index (a concurrent writer committed the same email
        # after our match) skips the row instead of aborting the transaction: PostgreSQL would
        # refuse every later statement, the savepoint rollback included. The skipped row is
        # found by reading the new ids back, and reported as EmailTaken before anything else
        # (keys, tokens) is written for it.
        bulk.insert(
            Contact, _CONTACT_INSERT_FIELDS, [_contact_insert_row(s.contact) for s in new], ignore_conflicts=True
        )
        used = {s.contact.id for s in new}
        if len(used) != Contact.objects.filter(id__in=list(used)).count():
            raise EmailTaken("another contact already has one of these emails")
        key_columns = ["workspace_id", "contact_id", "key_version", "wrapped_dek"]
        bulk.insert(ContactKey, key_columns, [row for row in key_rows if row[1] in used])
        _write_tokens(new, ring, fields, replace=False, plan=plan)
    if old:
        bulk.update(Contact, _CONTACT_UPDATE_FIELDS, [_contact_update_row(s.contact) for s in old])
        reindex = [s for s in old if s.changed & _token_aliases(fields)]
        if reindex:
            _write_tokens(reindex, ring, fields, replace=True, plan=plan)


def _token_aliases(fields) -> set[str]:
    return set(NAME_FIELDS) | {a for a, f in fields.items() if f.is_unique_identifier and a not in BLIND_INDEX_COLUMNS}


def _check_lawful_basis(lawful_basis: str, *, required: bool) -> None:
    if (required or lawful_basis) and lawful_basis not in LawfulBasis.values:
        raise ValidationError({"lawful_basis": f"choose one of {', '.join(LawfulBasis.values)}"})


def _duplicate_error(alias: str) -> ValidationError:
    return ValidationError({alias: [f"another contact already has this {alias}"]})


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
        bulk.update(Contact, _CONTACT_UPDATE_FIELDS, [_contact_update_row(s.contact) for s in changed])
        if reindex:
            _write_tokens(states, ring, fields, replace=True)
        touched += len(changed)
        last_id = ids[-1]
