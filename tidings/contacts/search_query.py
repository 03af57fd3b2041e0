"""The contacts list's search: the Mautic-style syntax, read into (command, value) pairs, and the filtered,
ordered queryset it stands for. tidings.contacts.selectors (contacts_page, contacts_count, contact_ids,
contacts_total) is the way in for other apps; what can be searched at all is said there.

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
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils.dateparse import parse_datetime

from tidings.contacts.fields import to_json
from tidings.contacts.models import (
    Company,
    Contact,
    ContactCompany,
    ContactImport,
    ContactSearchToken,
    ContactTag,
    DoNotContact,
    EventType,
    Tag,
)
from tidings.countries import country_code, country_spellings
from tidings.events import selectors as event_selectors
from tidings.inputs import InvalidInput, parse_int
from tidings.privacy.vault import Keyring, keyring, normalise_email, normalise_phone, normalise_text, words

MAX_SEARCH_LENGTH = 1000


def ids_for_identifier(ring: Keyring, alias: str, value: Any):
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


FILTERS = {
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


def ordering(column: str, descending: bool) -> list:
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


def by_name_windows(queryset, tokens: list[bytes], descending: bool, after_id: int | None, wanted: int) -> list:
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


def check_search_length(search: str | None) -> None:
    if len(search or "") > MAX_SEARCH_LENGTH:
        raise ValidationError({"search": [f"at most {MAX_SEARCH_LENGTH} characters"]})


def filtered(search: str, filters: Mapping[str, Any], *, me: int | None, names: list[bytes] | None = None):
    """Return the contacts matching search and filters; with names (a list), name-word tokens go there unapplied."""
    check_search_length(search)  # each word is a subquery: a long text is unbounded work
    unknown = set(filters) - FILTERS
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
            alternatives = text_alternatives(value)
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
    text_alternatives); a bare address ("email", address). company: takes the words that
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
        if sep and command.lower() in COMMANDS and value:
            flush()
            quoted = value.startswith('"')
            parts.append((command.lower(), value.strip('"')))
            open_value = command.lower() in MULTIWORD_COMMANDS and not quoted
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
        return queryset.filter(id__in=_resolved(ids_for_identifier(ring(), command, value)))
    if command == "name":
        for word in words(value):
            token = ring().blind_index("name", word)
            queryset = queryset.filter(id__in=ContactSearchToken.objects.filter(token=token).values("contact_id"))
        return queryset
    if command == "uid":
        alias, _, raw = value.partition("=")
        return queryset.filter(id__in=_resolved(ids_for_identifier(ring(), alias, raw)))
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


COMMANDS = {
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


MULTIWORD_COMMANDS = {"company"}


def after(column: str, descending: bool, cursor: list) -> Q:
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


TEXT_COMPANY_CAP = 50  # companies a plain-text search may match by part of their name


def text_alternatives(phrase: str) -> Q | None:
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


HINT_COMMANDS = "email:, phone:, name:, company:, tag:, domain:, owner:, is:, ids:, uid:"


def search_hints(query: str) -> list[str]:
    """Return why a search may find nothing: unknown commands, parts of encrypted values, whole-word names.

    Worded for the person who typed the search (it may repeat a command word, never a value).
    """
    hints: list[str] = []
    tokens = re.findall(r'(\w+:"[^"]*"|\S+)', query or "")
    for token in tokens:
        command, sep, value = token.partition(":")
        if sep and value and re.fullmatch(r"[A-Za-z_]{1,20}", command) and command.lower() not in COMMANDS:
            hints.append(
                f"“{command}:” is not a search command, so it was read as words of a name. Commands: {HINT_COMMANDS}."
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
