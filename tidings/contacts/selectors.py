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

The search syntax and the query it builds are in tidings/contacts/search_query.py; the reads of
contact stages are in tidings/contacts/selectors_stages.py, the reads of field definitions in
tidings/contacts/selectors_fields.py.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from tidings.contacts import search_query
from tidings.contacts.fields import (
    BLIND_INDEX_COLUMNS,
    COMPANY_COLUMNS,
    CONTACT_COLUMNS,
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
    ContactSettings,
    ContactTag,
    DoNotContact,
    EventType,
    ListPreference,
    Note,
    SavedView,
    Tag,
)
from tidings.contacts.selectors_fields import fields_by_alias
from tidings.events import descriptions
from tidings.events import selectors as event_selectors
from tidings.events.registry import label as event_label
from tidings.pagination import Page, cursor_salt, decode_cursor, encode_cursor, keyset_page, offset_page, page_of
from tidings.privacy.vault import keyring
from tidings.tenancy.context import require_workspace

DEFAULT_LIMIT = 50
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
    ids = search_query.ids_for_identifier(keyring(), alias, value)
    contact = Contact.objects.filter(id__in=ids).order_by("id").first()
    if contact is None or is_empty(value):
        raise Contact.DoesNotExist(f"no contact with this {alias}")
    return _views([contact], fields)[0]


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

    search uses the syntax in this module's docstring; filters is a dict of search_query.FILTERS keys
    (domain, tag, tag_id, company_id, owner_id, unowned, is_anonymous, country, city, state,
    stage_id, points__gte/lte, last_active__gte/lte, ids, dnc, lawful_basis); order one of
    search_query.ORDERS. Query count is constant (about six) whatever the page size; a name search ordered
    by id adds two for each further window of a word it reads (search_query.by_name_windows), and an
    exact phone or custom identifier one (its ids are resolved first). me is the user id
    "is:mine" means. Raise ValidationError on an unknown filter, order, search command or cursor.
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    if order not in search_query.ORDERS:
        raise ValidationError({"order": f"choose one of {', '.join(search_query.ORDERS)}"})
    column, descending = search_query.ORDERS[order]
    if start is not None:
        ordered = search_query.filtered(search, filters or {}, me=me).order_by(
            *search_query.ordering(column, descending)
        )
        rows = offset_page(ordered, start=start, limit=limit, max_limit=MAX_LIMIT).items
        return Page(items=_views(rows, fields_by_alias()))
    # Ordered by id, name words are matched window by window from the token index (see
    # search_query.by_name_windows); other orders must rank every match anyway, so they filter by subquery.
    names: list[bytes] | None = [] if column == "id" else None
    queryset = search_query.filtered(search, filters or {}, me=me, names=names)
    salt = cursor_salt(Contact, order)
    cursor = decode_cursor(after, salt=salt, length=2) if after else None
    if cursor:
        queryset = queryset.filter(search_query.after(column, descending, cursor))
    queryset = queryset.order_by(*search_query.ordering(column, descending))
    if names:
        contacts = search_query.by_name_windows(queryset, names, descending, cursor[1] if cursor else None, limit + 1)
    else:
        contacts = list(queryset[: limit + 1])
    more = len(contacts) > limit
    contacts = contacts[:limit]
    next_cursor = encode_cursor([getattr(contacts[-1], column), contacts[-1].id], salt=salt) if more else None
    return Page(items=_views(contacts, fields_by_alias()), next_cursor=next_cursor)


def contact_search(query: str, *, limit: int = DEFAULT_LIMIT, after: str | None = None, me: int | None = None) -> Page:
    """Return the contacts matching a search query (module docstring), newest first."""
    return contacts_page(search=query, limit=limit, after=after, me=me)


def contacts_count(*, search: str = "", filters: Mapping[str, Any] | None = None, me: int | None = None) -> int:
    """Return how many contacts match search and filters (for totals; costs a count over the matches)."""
    return search_query.filtered(search, filters or {}, me=me).count()


def contact_ids(*, search: str = "", filters: Mapping[str, Any] | None = None, me: int | None = None):
    """Return a queryset of the ids of matching contacts (for segments, exports and bulk actions)."""
    return search_query.filtered(search, filters or {}, me=me).values_list("id", flat=True)


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
    search_query.check_search_length(search)
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
    search_query.check_search_length(search)
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

EXACT_COUNT_CAP = 10_000  # up to this many matches the list counts exactly; beyond, PostgreSQL estimates


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
    queryset = search_query.filtered(search, filters or {}, me=me)
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
