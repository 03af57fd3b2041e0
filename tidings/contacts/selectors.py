"""Every read of contacts, companies, fields, tags, notes and the timeline that other apps may use.

All functions read the workspace in context (NoWorkspaceSet without one); an id of another
workspace raises the model's DoesNotExist, exactly like an id that does not exist.

What can be searched, and what cannot (by design, because identifying values are encrypted):

- email, phone, mobile and custom unique identifiers: EXACT match only, through keyed blind
  indexes on the normalised value (email lowercased; phone digits only). No prefix, suffix or
  substring search, no "contains", no sorting by them.
- first and last names: whole-word match through a token table ("ada" finds "Ada Quillfeather",
  "lov" does not); accents and case are ignored. Several words must all match.
- the email's domain, company, position, city, state, postcode, country, owner, stage, points,
  last active, tags, companies and clear custom fields: ordinary filters, indexed where lists
  sort or filter by them (domain, owner, points, last active).

Other domains that filter contacts or companies by field (a segment builder) ask
field_capabilities() what each field supports and build conditions with field_filter(); see
tidings/contacts/capabilities.py.

Search syntax (contact_search / contacts_page(search=...)), Mautic-style commands:
    ada quillfeather          name words          ada@example.example  exact email
    email:ADDRESS         exact email         phone:NUMBER         exact phone or mobile
    domain:example.example                    tag:NAME             company:NAME (exact, case-insensitive)
    owner:USER_ID         is:anonymous  is:identified  is:unowned   ids:1,2,3
    import:IMPORT_ID      the contacts an import created or updated
    name:WORD             uid:ALIAS=VALUE (exact custom unique identifier)
"""

from __future__ import annotations

import datetime
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tidings.contacts.capabilities import FieldCapability, build_filter, capability, sort_expression
from tidings.contacts.fields import (
    BLIND_INDEX_COLUMNS,
    COMPANY_COLUMNS,
    CONTACT_COLUMNS,
    CORE_COMPANY_FIELDS,
    CORE_CONTACT_FIELDS,
    NOTE,
    PROFILE,
    dnc_comment_aad,
    from_json,
    is_empty,
    normalise_company_name,
    to_json,
)
from tidings.contacts.models import (
    Company,
    Contact,
    ContactCompany,
    ContactField,
    ContactImport,
    ContactSearchToken,
    ContactSettings,
    ContactTag,
    DoNotContact,
    EventType,
    FieldObject,
    ListPreference,
    Note,
    SavedView,
    Tag,
)
from tidings.countries import country_code, country_spellings
from tidings.events import descriptions
from tidings.events import selectors as event_selectors
from tidings.events.registry import label as event_label
from tidings.inputs import InvalidInput, parse_int
from tidings.pagination import Page, cursor_salt, decode_cursor, encode_cursor, keyset_page, offset_page, page_of
from tidings.privacy.vault import Keyring, keyring, normalise_email, normalise_phone, normalise_text, words
from tidings.tenancy.context import require_workspace

DEFAULT_LIMIT = 50
MAX_SEARCH_LENGTH = 1000
MAX_LIMIT = 500


# ==============================================================================================
# Views


@dataclass(frozen=True)
class ContactView:
    """A contact as people and APIs see it: every field decrypted, by alias."""

    id: int
    fields: dict[str, Any]
    tags: tuple[str, ...]
    is_anonymous: bool
    email_domain: str
    lawful_basis: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    shredded: bool = False

    def get(self, alias: str, default=None):
        value = self.fields.get(alias)
        return default if value is None else value

    @property
    def email(self) -> str | None:
        return self.fields.get("email")

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.fields.get("firstname"), self.fields.get("lastname")) if p)


@dataclass(frozen=True)
class NoteView:
    id: int
    contact_id: int
    type: str
    text: str
    author_id: int | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


def _note_view(note: Note, key) -> NoteView:
    """Return note decrypted under its contact's key; a shredded key leaves the text empty."""
    return NoteView(
        id=note.id,
        contact_id=note.contact_id,
        type=note.type,
        text=key.decrypt_text(NOTE, note.text_enc) if key else "",
        author_id=note.author_id,
        created_at=note.created_at,
        updated_at=note.updated_at,
    )


@dataclass(frozen=True)
class TimelineEvent:
    id: int
    contact_id: int
    type: str
    code: int
    at: datetime.datetime
    data: dict
    text: str = ""  # the sentence and icon of the contact page (timeline(describe=True)), else empty
    icon: str = ""


@dataclass(frozen=True)
class CompanyLink:
    company: Company
    is_primary: bool


def _views(contacts: list[Contact], fields: dict[str, ContactField], *, with_tags: bool = True) -> list[ContactView]:
    """Decrypt a list of contacts in bulk: one query for keys, one or two for tags, none per contact."""
    if not contacts:
        return []
    ids = [c.id for c in contacts]
    ring = keyring()
    keys = ring.data_keys(ids)
    tags_of = _tags_of(ids) if with_tags else {}
    live = {alias: f for alias, f in fields.items() if f.archived_at is None}
    views = []
    for contact in contacts:
        key = keys.get(contact.id)
        profile = key.decrypt_json(PROFILE, contact.profile_enc) if key and contact.profile_enc else {}
        values: dict[str, Any] = {}
        for alias, definition in live.items():
            column = CONTACT_COLUMNS.get(alias)
            if column:
                values[alias] = getattr(contact, column)
                if values[alias] == "":
                    values[alias] = None
            else:
                store = profile if definition.is_encrypted else contact.custom
                values[alias] = from_json(definition.type, store.get(alias))
        views.append(
            ContactView(
                id=contact.id,
                fields=values,
                tags=tuple(tags_of.get(contact.id, ())),
                is_anonymous=contact.date_identified is None,
                email_domain=contact.email_domain,
                lawful_basis=contact.lawful_basis,
                created_at=contact.created_at,
                updated_at=contact.updated_at,
                shredded=key is None,
            )
        )
    return views


def _tags_of(contact_ids: list[int]) -> dict[int, list[str]]:
    links = list(ContactTag.objects.filter(contact_id__in=contact_ids).values_list("contact_id", "tag_id"))
    names = dict(Tag.objects.filter(id__in={t for _, t in links}).values_list("id", "name")) if links else {}
    result: dict[int, list[str]] = defaultdict(list)
    for contact_id, tag_id in links:
        result[contact_id].append(names[tag_id])
    return {k: sorted(v) for k, v in result.items()}


# ==============================================================================================
# Fields


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


# ==============================================================================================
# Contacts


def contact_get(contact_id: int) -> ContactView:
    """Return a contact with its values decrypted; raise Contact.DoesNotExist for an id not in this workspace."""
    contact = Contact.objects.get(pk=contact_id)
    return _views([contact], fields_by_alias())[0]


def contacts_get(contact_ids: Iterable[int]) -> dict[int, ContactView]:
    """Return {id: ContactView} for the ids found in this workspace (others are left out), in bulk."""
    contacts = list(Contact.objects.filter(pk__in=list(contact_ids)))
    return {v.id: v for v in _views(contacts, fields_by_alias())}


def contact_by_unique_identifier(alias: str, value: Any) -> ContactView:
    """Return the contact whose unique identifier alias (email, phone, a custom one) equals value exactly.

    Raise Contact.DoesNotExist when none has it, ValidationError when alias is not a unique
    identifier of this workspace.
    """
    fields = fields_by_alias()
    definition = fields.get(alias)
    if definition is None or not (definition.is_unique_identifier or alias in BLIND_INDEX_COLUMNS):
        raise ValidationError({alias: ["not a unique identifier"]})
    ids = _ids_for_identifier(keyring(), alias, value)
    contact = Contact.objects.filter(id__in=ids).order_by("id").first()
    if contact is None or is_empty(value):
        raise Contact.DoesNotExist(f"no contact with this {alias}")
    return _views([contact], fields)[0]


def _ids_for_identifier(ring: Keyring, alias: str, value: Any):
    """Return a subquery of contact ids whose alias equals value (blind index)."""
    if alias == "email":
        return Contact.objects.filter(email_bidx=ring.blind_index("email", normalise_email(str(value)))).values("id")
    if alias in ("phone", "mobile"):
        index = ring.blind_index("phone", normalise_phone(str(value)))
        column = Q(phone_bidx=index) | Q(mobile_bidx=index) if alias == "phone" else Q(mobile_bidx=index)
        return Contact.objects.filter(column).values("id")
    token = ring.blind_index(f"uid:{alias}", normalise_text(str(to_json(value))))
    return ContactSearchToken.objects.filter(token=token).values("contact_id")


ORDERS = {
    "id": ("id", False),
    "-id": ("id", True),
    "last_active": ("last_active", False),
    "-last_active": ("last_active", True),
    "points": ("points", False),
    "-points": ("points", True),
    "email_domain": ("email_domain", False),
    "-email_domain": ("email_domain", True),
    "company_name": ("company_name", False),
    "-company_name": ("company_name", True),
    "country": ("country", False),
    "-country": ("country", True),
}

_FILTERS = {
    "domain",
    "tag",
    "tag_id",
    "company_id",
    "owner_id",
    "unowned",
    "is_anonymous",
    "country",
    "city",
    "state",
    "stage_id",
    "points__gte",
    "points__lte",
    "last_active__gte",
    "last_active__lte",
    "ids",
    "dnc",
    "lawful_basis",
}


def contacts_page(
    *,
    search: str = "",
    filters: Mapping[str, Any] | None = None,
    order: str = "-id",
    after: str | None = None,
    start: int | None = None,
    limit: int = DEFAULT_LIMIT,
    me: int | None = None,
) -> Page:
    """Return one page of contacts (decrypted) and the cursor of the next, by keyset pagination.

    With start (Mautic's offset clients), return contacts start..start+limit instead, no cursor:
    an offset reads and skips start rows, so keyset pages are the rule where the client allows.

    search uses the syntax in this module's docstring; filters is a dict of _FILTERS keys
    (domain, tag, tag_id, company_id, owner_id, unowned, is_anonymous, country, city, state,
    stage_id, points__gte/lte, last_active__gte/lte, ids, dnc, lawful_basis); order one of
    ORDERS. Query count is constant (about six) whatever the page size; a name search ordered
    by id adds two for each further window of a word it reads (_by_name_windows), and an
    exact phone or custom identifier one (its ids are resolved first). me is the user id
    "is:mine" means. Raise ValidationError on an unknown filter, order, search command or cursor.
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    if order not in ORDERS:
        raise ValidationError({"order": f"choose one of {', '.join(ORDERS)}"})
    column, descending = ORDERS[order]
    if start is not None:
        ordered = _filtered(search, filters or {}, me=me).order_by(*_ordering(column, descending))
        rows = offset_page(ordered, start=start, limit=limit, max_limit=MAX_LIMIT).items
        return Page(items=_views(rows, fields_by_alias()))
    # Ordered by id, name words are matched window by window from the token index (see
    # _by_name_windows); other orders must rank every match anyway, so they filter by subquery.
    names: list[bytes] | None = [] if column == "id" else None
    queryset = _filtered(search, filters or {}, me=me, names=names)
    salt = cursor_salt(Contact, order)
    cursor = decode_cursor(after, salt=salt, length=2) if after else None
    if cursor:
        queryset = queryset.filter(_after(column, descending, cursor))
    queryset = queryset.order_by(*_ordering(column, descending))
    if names:
        contacts = _by_name_windows(queryset, names, descending, cursor[1] if cursor else None, limit + 1)
    else:
        contacts = list(queryset[: limit + 1])
    more = len(contacts) > limit
    contacts = contacts[:limit]
    next_cursor = encode_cursor([getattr(contacts[-1], column), contacts[-1].id], salt=salt) if more else None
    return Page(items=_views(contacts, fields_by_alias()), next_cursor=next_cursor)


def _ordering(column: str, descending: bool) -> list:
    """Return the ORDER BY of a contact list, in the order its index is stored.

    Only last_active can be NULL: never-active contacts come last when descending, first when
    ascending. That is SQLite's native NULL order for the (workspace_id, last_active, id) index,
    and on PostgreSQL the order of contacts_c_active_nl_idx (migration 0003), so both engines
    walk an index instead of sorting the workspace. The other columns are NOT NULL, and a NULLS
    clause on them would keep PostgreSQL from using their plain indexes.
    """
    tie = "-id" if descending else "id"
    if column == "id":
        return [tie]
    if column in NULLABLE_ORDER_COLUMNS:
        return [F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_first=True), tie]
    return [f"-{column}" if descending else column, tie]


NULLABLE_ORDER_COLUMNS = {"last_active"}
NAME_WINDOW = 256  # the first window of token rows a name search reads; each further window is 4 times larger
NAME_RARITY_CAP = 1000  # how many token rows per word are counted to choose the word that drives a search


def _by_name_windows(queryset, tokens: list[bytes], descending: bool, after_id: int | None, wanted: int) -> list:
    """Return the first wanted contacts of queryset (ordered by id) that have every name token.

    Reading every token row of a common word before sorting cost 250 ms at 1M contacts for a
    word 1 in 12 contacts share. Instead the rarest word drives: its newest contact ids are
    read from the (workspace_id, token, contact_id) index one window at a time, each window is
    filtered by the other words (EXISTS probes of the same index) and every other condition,
    and windows stop as soon as wanted rows are found. Windows are consecutive ranges of ids,
    so the result and keyset pages are exactly those of filtering by all words at once.
    """
    driver = tokens[0] if len(tokens) == 1 else _rarest(tokens)
    for token in tokens:
        if token != driver:
            probe = ContactSearchToken.objects.filter(token=token, contact_id=OuterRef("id"))
            queryset = queryset.filter(Exists(probe))
    direction = "-contact_id" if descending else "contact_id"
    bound, window = after_id, NAME_WINDOW
    rows: list[Contact] = []
    while True:
        candidates = ContactSearchToken.objects.filter(token=driver)
        if bound is not None:
            candidates = candidates.filter(**{"contact_id__lt" if descending else "contact_id__gt": bound})
        candidates = candidates.order_by(direction).values_list("contact_id", flat=True)
        rows.extend(queryset.filter(id__in=candidates[:window])[: wanted - len(rows)])
        if len(rows) >= wanted:
            return rows
        edge = list(candidates[window - 1 : window])  # the window's last id, if the window was full
        if not edge:
            return rows
        bound, window = edge[0], window * 4


def _rarest(tokens: list[bytes]) -> bytes:
    """Return the token with the fewest rows (each counted up to NAME_RARITY_CAP, one query each)."""
    counts = {token: ContactSearchToken.objects.filter(token=token)[:NAME_RARITY_CAP].count() for token in tokens}
    return min(tokens, key=lambda token: counts[token])


def contact_search(query: str, *, limit: int = DEFAULT_LIMIT, after: str | None = None, me: int | None = None) -> Page:
    """Return the contacts matching a search query (module docstring), newest first."""
    return contacts_page(search=query, limit=limit, after=after, me=me)


def contacts_count(*, search: str = "", filters: Mapping[str, Any] | None = None, me: int | None = None) -> int:
    """Return how many contacts match search and filters (for totals; costs a count over the matches)."""
    return _filtered(search, filters or {}, me=me).count()


def contact_ids(*, search: str = "", filters: Mapping[str, Any] | None = None, me: int | None = None):
    """Return a queryset of the ids of matching contacts (for segments, exports and bulk actions)."""
    return _filtered(search, filters or {}, me=me).values_list("id", flat=True)


def _check_search_length(search: str | None) -> None:
    if len(search or "") > MAX_SEARCH_LENGTH:
        raise ValidationError({"search": [f"at most {MAX_SEARCH_LENGTH} characters"]})


def _filtered(search: str, filters: Mapping[str, Any], *, me: int | None, names: list[bytes] | None = None):
    """Return the contacts matching search and filters; with names (a list), name-word tokens go there unapplied."""
    _check_search_length(search)  # each word is a subquery: a long text is unbounded work
    unknown = set(filters) - _FILTERS
    if unknown:
        raise ValidationError({"filters": [f"unknown filter {name}" for name in sorted(unknown)]})
    queryset = Contact.objects.all()
    ring = None

    def lazy_ring():
        nonlocal ring
        ring = ring or keyring()
        return ring

    for key, value in filters.items():
        queryset = _apply_filter(queryset, key, value)
    for command, value in _with_company_split(parse_search(search)):
        if command == "text":
            alternatives = _text_alternatives(value)
            if alternatives is None:  # no company or city reads so: a name search, as fast as name:
                command = "name"
            else:
                name_match = _apply_command(Contact.objects.all(), "name", value, lazy_ring, me)
                queryset = queryset.filter(Q(id__in=name_match.values("id")) | alternatives)
                continue
        if command == "name" and names is not None:
            names.extend(lazy_ring().blind_index("name", word) for word in words(value))
            continue
        queryset = _apply_command(queryset, command, value, lazy_ring, me)
    return queryset


def _with_company_split(parts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Return parts with each several-word company: value split into the company it names and plain text."""
    result = []
    for command, value in parts:
        if command == "company" and " " in value.strip():
            company, rest = _company_and_text(value)
            result.append(("company", company))
            if rest:
                result.append(("text", rest))
        else:
            result.append((command, value))
    return result


def _company_and_text(value: str) -> tuple[str, str]:
    """Return (the longest leading words of value naming a company, the words after it), in one query.

    `company:Lumen Studios ada` is the company "Lumen Studios" and the name "ada"; when no
    leading part names a company, the whole value is the company (and finds nobody).
    """
    parts = value.split()
    prefixes = [" ".join(parts[:n]) for n in range(len(parts), 0, -1)]
    named = Q(pk__in=[])
    for prefix in prefixes:
        named |= Q(name__iexact=prefix)
    found = {name.casefold() for name in Company.objects.filter(named).values_list("name", flat=True)[:100]}
    for n, prefix in zip(range(len(parts), 0, -1), prefixes, strict=True):
        if prefix.casefold() in found:
            return prefix, " ".join(parts[n:])
    return " ".join(parts), ""


def _apply_filter(queryset, key: str, value):
    if key == "domain":
        return queryset.filter(email_domain=str(value).strip().lower())
    if key == "tag":
        tag_ids = Tag.objects.filter(name=str(value)).values("id")
        return queryset.filter(id__in=ContactTag.objects.filter(tag_id__in=tag_ids).values("contact_id"))
    if key == "tag_id":
        return queryset.filter(id__in=ContactTag.objects.filter(tag_id=value).values("contact_id"))
    if key == "company_id":
        return queryset.filter(id__in=ContactCompany.objects.filter(company_id=value).values("contact_id"))
    if key == "unowned":
        return queryset.filter(owner_id__isnull=bool(value))
    if key == "is_anonymous":
        return queryset.filter(date_identified__isnull=bool(value))
    if key == "ids":
        if isinstance(value, QuerySet):  # a subquery of ids (a segment's members): stays in SQL
            return queryset.filter(id__in=value)
        return queryset.filter(id__in=[int(v) for v in value])
    if key == "dnc":
        return queryset.filter(id__in=DoNotContact.objects.filter(channel=value).values("contact_id"))
    if key == "country" and country_code(str(value)):  # "DE" also finds rows stored as "Germany" or "de"
        return queryset.filter(country__in=country_spellings(country_code(str(value)) or ""))
    return queryset.filter(**{key: value})


def parse_search(query: str) -> list[tuple[str, str]]:
    """Split a search string into (command, value) pairs.

    A run of bare words becomes ("text", the words): name words, or a company or city (see
    _text_alternatives); a bare address ("email", address). company: takes the words that
    follow up to the next command, so `company:Lumen Studios` needs no quotes; the longest
    leading part that names a company is the company, the rest plain text (_company_and_text).
    """
    parts: list[tuple[str, str]] = []
    text: list[str] = []
    open_value = False  # the last command was company: or tag:, still taking words

    def flush():
        if text:
            parts.append(("text", " ".join(text)))
            text.clear()

    for token in re.findall(r'(\w+:"[^"]*"|\S+)', query or ""):
        command, sep, value = token.partition(":")
        if sep and command.lower() in _COMMANDS and value:
            flush()
            quoted = value.startswith('"')
            parts.append((command.lower(), value.strip('"')))
            open_value = command.lower() in _MULTIWORD_COMMANDS and not quoted
        elif "@" in token:
            flush()
            parts.append(("email", token))
            open_value = False
        elif open_value:
            command, value = parts[-1]
            parts[-1] = (command, f"{value} {token}")
        elif words(token):
            text.append(token)
    flush()
    return parts


def _apply_command(queryset, command: str, value: str, ring, me):
    # An exact identifier matches one contact or a handful, so it must drive the query whatever
    # the order. As `id IN (subquery)` it let the planner walk the list's order index instead
    # (the UI's default -last_active: 72 ms at 1M contacts against 3.8 ms by -id): email is
    # compared on the row itself, where the unique blind index wins, and the others are
    # resolved to their few ids first (one query through their index).
    if command == "email":
        return queryset.filter(email_bidx=ring().blind_index("email", normalise_email(value)))
    if command in ("phone", "mobile"):
        return queryset.filter(id__in=_resolved(_ids_for_identifier(ring(), command, value)))
    if command == "name":
        for word in words(value):
            token = ring().blind_index("name", word)
            queryset = queryset.filter(id__in=ContactSearchToken.objects.filter(token=token).values("contact_id"))
        return queryset
    if command == "uid":
        alias, _, raw = value.partition("=")
        return queryset.filter(id__in=_resolved(_ids_for_identifier(ring(), alias, raw)))
    if command == "domain":
        return _apply_filter(queryset, "domain", value)
    if command == "tag":
        return _apply_filter(queryset, "tag", value)
    if command == "company":
        company_ids = Company.objects.filter(name__iexact=value).values("id")
        return queryset.filter(id__in=ContactCompany.objects.filter(company_id__in=company_ids).values("contact_id"))
    if command == "owner":
        return queryset.filter(owner_id=_search_id("owner", value, minimum=0))
    if command == "import":
        return queryset.filter(id__in=_imported_by(_search_id("import", value)))
    if command == "ids":
        return queryset.filter(id__in=[_search_id("ids", v) for v in value.split(",") if v.strip()])
    if command == "is":
        flag = value.lower()
        if flag == "anonymous":
            return queryset.filter(date_identified__isnull=True)
        if flag == "identified":
            return queryset.filter(date_identified__isnull=False)
        if flag == "unowned":
            return queryset.filter(owner_id__isnull=True)
        if flag == "mine":
            return queryset.filter(owner_id=me) if me is not None else queryset.none()
        raise ValidationError({"search": [f"unknown flag is:{flag}"]})
    raise ValidationError({"search": [f"unknown command {command}:"]})


def _imported_by(import_id: int):
    """Return the ids of the contacts an import wrote (its contact.imported events), as a subquery.

    The events are looked for between the import's start and end, so the (workspace, at) index
    narrows the read; an unknown import finds nothing.
    """
    job = ContactImport.objects.filter(pk=import_id).values("started_at", "finished_at").first()
    if job is None or job["started_at"] is None:
        return Contact.objects.none().values_list("id", flat=True)
    # until is exclusive: a microsecond past the end keeps the last row's event in.
    until = job["finished_at"] + datetime.timedelta(microseconds=1) if job["finished_at"] else None
    return event_selectors.contact_ids_with_event(
        EventType.CONTACT_IMPORTED, since=job["started_at"], until=until, data={"import": import_id}
    )


def _search_id(command: str, value: str, *, minimum: int = 1) -> int:
    """Return an id of a search command (ASCII digits, 64-bit); raise ValidationError naming the command."""
    try:
        return parse_int(value, minimum=minimum)
    except InvalidInput as error:
        raise ValidationError({"search": [f"{command}: takes ids (whole numbers from 1 to 2^63-1)"]}) from error


def _resolved(ids_queryset) -> list[int]:
    """Return the ids a blind-index subquery (one column) finds, read now."""
    return [next(iter(row.values())) for row in ids_queryset]


_COMMANDS = {
    "email",
    "phone",
    "mobile",
    "name",
    "uid",
    "domain",
    "tag",
    "company",
    "owner",
    "ids",
    "is",
    "text",
    "import",
}
_MULTIWORD_COMMANDS = {"company"}


def _after(column: str, descending: bool, cursor: list) -> Q:
    value, last_id = cursor
    if column == "id":
        return Q(id__lt=last_id) if descending else Q(id__gt=last_id)
    if column in ("last_active",) and value is not None:
        value = _cursor_datetime(value)
    elif value is not None and not isinstance(value, int if column == "points" else str):
        raise ValidationError({"after": ["not a valid cursor"]})
    if descending:  # non-null values descending, then nulls, ids descending within equal values
        if value is None:
            return Q(**{f"{column}__isnull": True, "id__lt": last_id})
        return (
            Q(**{f"{column}__lt": value}) | Q(**{column: value, "id__lt": last_id}) | Q(**{f"{column}__isnull": True})
        )
    if value is None:  # nulls first ascending, then values
        return Q(**{f"{column}__isnull": True, "id__gt": last_id}) | Q(**{f"{column}__isnull": False})
    return Q(**{f"{column}__gt": value}) | Q(**{column: value, "id__gt": last_id})


def _cursor_datetime(value) -> datetime.datetime:
    """Return the moment a cursor carries; raise ValidationError when it is not an ISO 8601 date and time."""
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise ValidationError({"after": ["not a valid cursor"]})
    return moment


def export_contact_profile(model, contact_id: int) -> list[dict]:
    """Return the decrypted profile of a contact for an access (export) package (registry hook)."""
    contact = model.objects.filter(pk=contact_id).first()
    if contact is None:
        return []
    view = _views([contact], fields_by_alias(), with_tags=True)[0]
    return [
        {
            "id": view.id,
            "fields": {k: to_json(v) for k, v in view.fields.items() if v is not None},
            "tags": list(view.tags),
            "lawful_basis": view.lawful_basis,
            "created_at": view.created_at.isoformat(),
            "updated_at": view.updated_at.isoformat(),
        }
    ]


# ==============================================================================================
# Contact details: notes, companies, Do Not Contact, tags, timeline


def _require_contact(contact_id: int) -> None:
    if not Contact.objects.filter(pk=contact_id).exists():
        raise Contact.DoesNotExist(f"contact {contact_id} does not exist")


def contact_notes(contact_id: int) -> list[NoteView]:
    """Return a contact's notes, newest first, decrypted; a shredded contact's notes read as ""."""
    notes = list(Note.objects.filter(contact_id=contact_id).order_by("-created_at", "-id"))
    if not notes:
        return []
    key = keyring().data_keys([contact_id]).get(contact_id)
    return [_note_view(n, key) for n in notes]


def note_get(note_id: int) -> NoteView:
    """Return one note decrypted; raise Note.DoesNotExist for an id not in this workspace."""
    note = Note.objects.get(pk=note_id)
    return next(n for n in contact_notes(note.contact_id) if n.id == note_id)


def contact_companies(contact_id: int) -> list[CompanyLink]:
    """Return a contact's companies, the primary one first (two queries)."""
    links = list(ContactCompany.objects.filter(contact_id=contact_id).order_by("-is_primary", "id"))
    companies = Company.objects.in_bulk([link.company_id for link in links])
    return [CompanyLink(companies[link.company_id], link.is_primary) for link in links if link.company_id in companies]


def contact_dnc(contact_id: int) -> list[DoNotContact]:
    """Return a contact's Do-Not-Contact records, one per channel, their comments decrypted."""
    return _with_dnc_comments(list(DoNotContact.objects.filter(contact_id=contact_id).order_by("channel")))


def _with_dnc_comments(rows: list[DoNotContact]) -> list[DoNotContact]:
    """Decrypt each row's comment into row.comment (one key query; "" once the contact's key is shredded)."""
    sealed = [row for row in rows if row.comment_enc is not None]
    keys = keyring().data_keys({row.contact_id for row in sealed}) if sealed else {}
    for row in rows:
        key = keys.get(row.contact_id)
        if row.comment_enc is None or key is None:
            row.comment = ""
        else:
            row.comment = key.decrypt_text(dnc_comment_aad(row.channel), row.comment_enc)
    return rows


def contact_tags(contact_id: int) -> list[str]:
    """Return the names of a contact's tags, sorted."""
    return _tags_of([contact_id]).get(contact_id, [])


def timeline(
    contact_id: int, *, before: str | None = None, limit: int = DEFAULT_LIMIT, types=None, describe: bool = False
) -> Page:
    """Return a contact's events newest first, one page at a time (before: the cursor of the previous page).

    types optionally restricts to event type codes; describe adds each event's sentence and icon
    (tidings.events.descriptions: one query per kind of name the page refers to). Raise
    Contact.DoesNotExist for an id not in this workspace, ValidationError on a malformed cursor.
    """
    _require_contact(contact_id)
    queryset = event_selectors.contact_events(contact_id, types or None)
    page = keyset_page(queryset, ordering="-at", after=before, limit=limit, max_limit=MAX_LIMIT)
    datas = [{"type": r.type, "data": dict(r.data)} for r in page.items]
    event_selectors.resolve_strings(datas)  # a URL's dictionary id back to the URL
    described = descriptions.describe((d["type"], d["data"]) for d in datas) if describe else []
    items = [
        TimelineEvent(id=r.id, contact_id=contact_id, type=event_label(r.type), code=r.type, at=r.at, data=d["data"],
                      text=described[i].text if describe else "", icon=described[i].icon if describe else "")
        for i, (r, d) in enumerate(zip(page.items, datas, strict=True))
    ]  # fmt: skip
    return Page(items=items, next_cursor=page.next_cursor)


# The contact page's engagement summary: (label, event types counted together), in display order.
ENGAGEMENT_KINDS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("Page visits", (EventType.PAGE_HIT,)),
    ("Form submissions", (EventType.FORM_SUBMITTED,)),
    ("Emails sent", (EventType.EMAIL_SENT,)),
    ("Emails opened", (EventType.EMAIL_OPENED,)),
    ("Emails clicked", (EventType.EMAIL_CLICKED,)),
)
ENGAGEMENT_DAYS = 30


@dataclass(frozen=True)
class EngagementCount:
    label: str
    recent: int  # in the last ENGAGEMENT_DAYS days
    total: int


@dataclass(frozen=True)
class Engagement:
    """A contact's engagement: counts by kind (last 30 days and ever) and the time of its last event."""

    counts: list[EngagementCount]
    last_activity: datetime.datetime | None

    @property
    def empty(self) -> bool:
        return not any(c.total for c in self.counts)


def contact_engagement(contact_id: int, *, now: datetime.datetime | None = None) -> Engagement:
    """Return a contact's engagement summary from its events (one grouped query).

    last_activity is the time of its latest event of any type. Raise Contact.DoesNotExist for an
    id not in this workspace.
    """
    _require_contact(contact_id)
    since = (now or timezone.now()) - datetime.timedelta(days=ENGAGEMENT_DAYS)
    by_type = event_selectors.contact_event_counts(contact_id, since=since)
    counts = [
        EngagementCount(label, sum(by_type.get(c, (0, 0, None))[0] for c in codes),
                        sum(by_type.get(c, (0, 0, None))[1] for c in codes))
        for label, codes in ENGAGEMENT_KINDS
    ]  # fmt: skip
    last = max((row[2] for row in by_type.values()), default=None)
    return Engagement(counts, last)


def tag_names(ids: set[int]) -> dict[int, str]:
    """Return {tag id: name} of those of ids in this workspace (one query)."""
    return dict(Tag.objects.filter(id__in=list(ids)).values_list("id", "name"))


def company_names(ids: set[int]) -> dict[int, str]:
    """Return {company id: name} of those of ids in this workspace (one query)."""
    return dict(Company.objects.filter(id__in=list(ids)).values_list("id", "name"))


def member_names(ids: set[int]) -> dict[int, str]:
    """Return {user id: display name} of those of ids who are members of this workspace (one query)."""
    from tidings.accounts.selectors import members_by_id

    users = members_by_id(require_workspace(), ids)
    return {pk: user.get_full_name() or user.email for pk, user in users.items()}


# ==============================================================================================
# Companies and tags


def company_get(company_id: int) -> Company:
    """Return a company; raise Company.DoesNotExist for an id not in this workspace."""
    return Company.objects.get(pk=company_id)


def companies_by_normalised_name() -> dict[str, int]:
    """Return {normalised name: company id} of the workspace's companies (the oldest wins a shared name)."""
    known: dict[str, int] = {}
    for company_id, name in Company.objects.order_by("id").values_list("id", "name"):
        known.setdefault(normalise_company_name(name), company_id)
    return known


def company_values(company: Company) -> dict[str, Any]:
    """Return a company's values by field alias (core columns and custom fields)."""
    values = {alias: getattr(company, column) for alias, column in COMPANY_COLUMNS.items()}
    values.update(company.custom)
    return values


# Each order: the column it sorts by ("-" for descending); "contacts" is the linked-contacts count.
COMPANY_ORDERS = {
    "name": "name",
    "-name": "-name",
    "id": "id",
    "-id": "-id",
    "contacts": "contact_count",
    "-contacts": "-contact_count",
    "created": "created_at",
    "-created": "-created_at",
}


def companies_page(
    *,
    search: str = "",
    order: str = "name",
    after: str | None = None,
    start: int | None = None,
    limit: int = DEFAULT_LIMIT,
    count: bool = False,
) -> Page:
    """Return a page of companies, each with contact_count (its linked contacts), keyset-paginated.

    search matches the start of any word of the name, case-insensitively ("stu" finds "Lumen
    Studios"); several words must all match. order is one of COMPANY_ORDERS (name, contacts,
    created, id; "-" for descending). One query per page, the counts included (a grouped
    subquery). With start (Mautic's offset clients), return companies start..start+limit, and
    with count their total. Raise ValidationError on an unknown order, a search too long, or a
    cursor this list did not issue.
    """
    _check_search_length(search)
    if order not in COMPANY_ORDERS:
        raise ValidationError({"order": f"choose one of {', '.join(COMPANY_ORDERS)}"})
    counts = (
        ContactCompany.objects.filter(company_id=OuterRef("id"))
        .order_by()
        .values("company_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    queryset = Company.objects.annotate(contact_count=Coalesce(Subquery(counts), 0))
    for word in (search or "").split():
        queryset = queryset.filter(Q(name__istartswith=word) | Q(name__icontains=f" {word}"))
    ordering = COMPANY_ORDERS[order]
    return page_of(queryset, ordering=ordering, after=after, start=start, limit=limit, max_limit=MAX_LIMIT, count=count)


def companies_named_like(name: str, *, exclude_id: int | None = None) -> list[Company]:
    """Return the companies whose name is the same as name once case and spacing are ignored (oldest first)."""
    key = normalise_company_name(name)
    if not key:
        return []
    candidates = Company.objects.filter(name__icontains=key.split()[0]).order_by("id")
    if exclude_id is not None:
        candidates = candidates.exclude(id=exclude_id)
    return [company for company in candidates[:200] if normalise_company_name(company.name) == key]


def tags(*, search: str = "", limit: int = MAX_LIMIT) -> list[Tag]:
    """Return the workspace's tags by name (search: name prefix)."""
    _check_search_length(search)
    queryset = Tag.objects.all()
    if search:
        queryset = queryset.filter(name__istartswith=search.strip())
    return list(queryset.order_by("name")[: max(1, int(limit))])


def tag_get(tag_id: int) -> Tag:
    """Return a tag; raise Tag.DoesNotExist for an id not in this workspace."""
    return Tag.objects.get(pk=tag_id)


# ==============================================================================================
# Reads for the APIs: offset slices (Mautic's start/limit), and related rows of many contacts at once


def tags_by_name(names: Iterable[str]) -> dict[str, Tag]:
    """Return {name: Tag} for the names that exist in this workspace (one query)."""
    names = list(set(names))
    return {t.name: t for t in Tag.objects.filter(name__in=names)} if names else {}


def contacts_dnc(contact_ids: Iterable[int]) -> dict[int, list[DoNotContact]]:
    """Return {contact id: its Do-Not-Contact rows by channel} for many contacts (one query)."""
    result: dict[int, list[DoNotContact]] = defaultdict(list)
    rows = list(DoNotContact.objects.filter(contact_id__in=list(contact_ids)).order_by("contact_id", "channel"))
    for row in _with_dnc_comments(rows):
        result[row.contact_id].append(row)
    return dict(result)


def notes_page(
    *, contact_id: int | None = None, start: int = 0, limit: int = DEFAULT_LIMIT, oldest_first: bool = False
) -> Page:
    """Return notes newest first, decrypted, start..start+limit, with their total, of a contact or the workspace.

    Keys of the notes' contacts are loaded in one query; a shredded contact's notes read as "".
    oldest_first reverses the order. Offsets only: Mautic's clients are the only ones paging notes.
    """
    queryset = Note.objects.all() if contact_id is None else Note.objects.filter(contact_id=contact_id)
    ordering = "created_at" if oldest_first else "-created_at"
    page = offset_page(queryset, ordering=ordering, start=start, limit=limit, max_limit=MAX_LIMIT, count=True)
    notes = page.items
    keys = keyring().data_keys({n.contact_id for n in notes}) if notes else {}
    return Page(items=[_note_view(n, keys.get(n.contact_id)) for n in notes], total=page.total)


def timeline_count(contact_id: int, *, types=None) -> int:
    """Return how many events a contact has (optionally of event type codes types), its visitors' included."""
    return event_selectors.contact_events(contact_id, types or None).count()


# ==============================================================================================
# Settings and imports


def contact_settings() -> ContactSettings:
    """Return the workspace's contact settings (an unsaved row with the defaults when none is stored)."""
    return ContactSettings.objects.filter().first() or ContactSettings(workspace_id=require_workspace().id)


def import_get(import_id: int) -> ContactImport:
    """Return one import; raise ContactImport.DoesNotExist for an id not in this workspace."""
    return ContactImport.objects.get(pk=import_id)


def imports_recent(limit: int = 50) -> list[ContactImport]:
    """Return the workspace's latest imports, newest first."""
    return list(ContactImport.objects.order_by("-created_at", "-id")[:limit])


TAG_ORDERS = ("name", "-name", "id", "-id")


def tags_page(*, search: str = "", order: str = "name", start: int = 0, limit: int = DEFAULT_LIMIT) -> Page:
    """Return tags start..start+limit in order, with how many match, for offset-paginated clients (Mautic's API).

    search is a name prefix; order one of TAG_ORDERS (by name, the default, or id; "-" for
    descending). Raise ValidationError on another order.
    """
    if order not in TAG_ORDERS:
        raise ValidationError({"order": f"choose one of {', '.join(TAG_ORDERS)}"})
    queryset = Tag.objects.all()
    if search:
        queryset = queryset.filter(name__istartswith=search.strip())
    return offset_page(queryset, ordering=order, start=start, limit=limit, max_limit=MAX_LIMIT, count=True)


def company_by_name(name: str) -> Company:
    """Return the oldest company named name (case-insensitive); raise Company.DoesNotExist when none is."""
    company = Company.objects.filter(name__iexact=(name or "").strip()).order_by("id").first()
    if company is None:
        raise Company.DoesNotExist(f"no company named {name!r}")
    return company


# ==============================================================================================
# The erasure registry's exports (named by dotted path on the models: tidings.privacy.registry)


def export_notes(model, contact_id: int) -> list[dict]:
    """Return a contact's notes, decrypted, for its data export."""
    return [
        {"id": n.id, "type": n.type, "text": n.text, "created_at": n.created_at.isoformat()}
        for n in contact_notes(contact_id)
    ]


def export_dnc(model, contact_id: int) -> list[dict]:
    """Return a contact's Do-Not-Contact records, comments decrypted, for its data export."""
    return [
        {"channel": r.channel, "reason": r.reason, "comment": r.comment, "created_at": r.created_at.isoformat()}
        for r in contact_dnc(contact_id)
    ]


# ==============================================================================================
# The contacts list: plain-text alternatives, totals, search hints, list preferences, saved views

TEXT_COMPANY_CAP = 50  # companies a plain-text search may match by part of their name
EXACT_COUNT_CAP = 10_000  # up to this many matches the list counts exactly; beyond, PostgreSQL estimates


def _text_alternatives(phrase: str) -> Q | None:
    """Return the contacts plain text finds besides names: by company or city; None when nothing could match.

    Companies are matched by any part of their name in the (small) companies table, then their
    contacts through the links and the contact's own company column; a city by its whole name
    as typed, in lower, upper or title case. Equality keeps the (workspace_id, city) index usable
    under PostgreSQL's row-level security, which an UPPER() expression did not (80 ms a probe at
    100,000 contacts). Names and email are encrypted and cannot be read so. None lets the
    caller run the plain name search, which has a faster path.
    """
    phrase = " ".join(phrase.split())
    if not phrase:
        return None
    companies = list(Company.objects.filter(name__icontains=phrase).values_list("id", "name")[:TEXT_COMPANY_CAP])
    spellings = sorted({phrase, phrase.lower(), phrase.upper(), phrase.title(), phrase.capitalize()})
    city = Contact.objects.filter(city__in=spellings)
    in_city = city.exists()
    if not companies and not in_city:
        return None
    found = Q(pk__in=[])
    if companies:
        links = ContactCompany.objects.filter(company_id__in=[c for c, _ in companies]).values("contact_id")
        found |= Q(id__in=links) | Q(company_name__in=sorted({n for _, n in companies} | {phrase}))
    if in_city:
        found |= Q(id__in=city.values("id"))
    return found


@dataclass(frozen=True)
class Total:
    """How many contacts match: exact, an estimate ("about N"), or at least value ("over N", a capped count)."""

    value: int
    exact: bool
    at_least: bool = False


def contacts_total(*, search: str = "", filters: Mapping[str, Any] | None = None, me: int | None = None) -> Total:
    """Return how many contacts match, exactly up to EXACT_COUNT_CAP (one capped count), else estimated.

    Beyond the cap PostgreSQL's planner estimates the rows of the same query (EXPLAIN, no
    scan); SQLite has no estimate, so the answer is "over EXACT_COUNT_CAP" (a full count of a
    100,000-contact search cost 70 ms there). Raise ValidationError as contacts_page does.
    """
    queryset = _filtered(search, filters or {}, me=me)
    capped = queryset.order_by()[: EXACT_COUNT_CAP + 1].count()
    if capped <= EXACT_COUNT_CAP:
        return Total(capped, True)
    if connections[queryset.db].vendor == "postgresql":
        estimate = _planner_rows(queryset.order_by())
        return Total(max(estimate, capped), False)
    return Total(EXACT_COUNT_CAP, False, at_least=True)


def _planner_rows(queryset) -> int:
    """Return PostgreSQL's estimate of the rows queryset returns (EXPLAIN, nothing read)."""
    plan = queryset.values("id").explain(format="json")
    return int(json.loads(plan)[0]["Plan"]["Plan Rows"])


def contacts_exist() -> bool:
    """Return whether the workspace has any contact (an empty list then says how to add some)."""
    return Contact.objects.exists()


_HINT_COMMANDS = "email:, phone:, name:, company:, tag:, domain:, owner:, is:, ids:, uid:"


def search_hints(query: str) -> list[str]:
    """Return why a search may find nothing: unknown commands, parts of encrypted values, whole-word names.

    Worded for the person who typed the search (it may repeat a command word, never a value).
    """
    hints: list[str] = []
    tokens = re.findall(r'(\w+:"[^"]*"|\S+)', query or "")
    for token in tokens:
        command, sep, value = token.partition(":")
        if sep and value and re.fullmatch(r"[A-Za-z_]{1,20}", command) and command.lower() not in _COMMANDS:
            hints.append(
                f"“{command}:” is not a search command, so it was read as words of a name. Commands: {_HINT_COMMANDS}."
            )
    parts = parse_search(query)
    commands = {command for command, _ in parts}
    emails = [value for command, value in parts if command == "email"]
    if any(not _is_whole_address(value) for value in emails):
        hints.append(
            "Email addresses are encrypted and match exactly: type the whole address, "
            "or domain:example.example for everyone at a domain."
        )
    if commands & {"phone", "mobile"}:
        hints.append("Phone numbers are encrypted and match the whole number only.")
    if commands & {"text", "name"}:
        hints.append(
            "Names are encrypted: they match whole words (“lovelace”, not “love”), ignoring case and accents; "
            "email matches exactly or by domain. Plain text also finds a company by part of its name and a city "
            "by its whole name."
        )
    if "company" in commands:
        hints.append("company: matches a company's whole name, ignoring case (“company:Lumen Studios”).")
    return hints


def _is_whole_address(value: str) -> bool:
    local, _, domain = value.partition("@")
    return bool(local) and "." in domain.strip(".") and not domain.startswith(".")


def list_preference(table: str, user_id: int | None) -> ListPreference | None:
    """Return a member's saved columns and density for table, or None when they chose nothing yet."""
    if user_id is None:
        return None
    return ListPreference.objects.filter(table=table, user_id=user_id).first()


def saved_views(table: str, user_id: int | None) -> list[SavedView]:
    """Return the views of table a member may open: their own and those shared with the workspace, by name."""
    mine = Q(owner_user_id=user_id) if user_id is not None else Q(pk__in=[])
    return list(SavedView.objects.filter(Q(table=table) & (mine | Q(shared=True))).order_by("name", "id"))


def saved_view_get(view_id: int, table: str, user_id: int | None) -> SavedView:
    """Return one view the member may open; raise SavedView.DoesNotExist for another's unshared view or workspace."""
    mine = Q(owner_user_id=user_id) if user_id is not None else Q(pk__in=[])
    return SavedView.objects.get(Q(pk=view_id, table=table) & (mine | Q(shared=True)))


def contact_timezones(contact_ids: Iterable[int]) -> dict[int, str]:
    """Return {id: IANA time zone} of those of contact_ids with one set (one query; campaigns' local times)."""
    rows = Contact.objects.filter(pk__in=list(contact_ids)).exclude(timezone="").values_list("id", "timezone")
    return dict(rows)
