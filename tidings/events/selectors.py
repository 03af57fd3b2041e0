"""Reads of the event store: set-based selectors that compose into SQL, the timeline and the export.

The contact of an event is COALESCE(event.contact_id, visitor.contact_id): an anonymous
visitor's events count for the contact it was later identified as, without rewriting them.
Selectors return querysets (ids or a Subquery), never Python lists, so a segment filters a
million contacts in one statement:

    Contact.objects.filter(id__in=contact_ids_with_event(EMAIL_OPENED, since=week_ago, min_count=3))
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import BigIntegerField, Count, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import In

from tidings.events.models import Event, EventString, Visitor
from tidings.events.registry import DICTIONARY_KINDS, LABEL, URL, event_type, label
from tidings.events.store import _digest
from tidings.tenancy.bulk import id_in

_STRING_LOOKUPS = ("", "contains", "startswith")  # equality by digest; the others ignore case
# A part of a LABEL made of parts joined by "|" (tracking's utm "source|medium|campaign", ctx
# "device|os|browser|country"; a part never holds "|"): KEY__N (equals), KEY__N__in (a list),
# KEY__N__contains, KEY__N__startswith, KEY__N__set (not empty, value True). N counts from 0.
_PART_LOOKUP = re.compile(r"^([0-9])(?:__(in|contains|startswith|set))?$")
MAX_PART_VALUES = 50


def label_part_pattern(index: int, comparison: str, value: Any) -> str:
    """Return the regular expression (Python's and PostgreSQL's alike) a label's part `index` meets for comparison.

    Parts are counted by their "|" separators, so the pattern holds whatever the label's length:
    "^([^|]*\\|){index}" skips the parts before. Values are read literally and may not hold "|"
    (the writer turns it into "/", and so does this). Matched ignoring case, as a regex on both engines.
    """
    skip = "^" + r"[^|]*\|" * index

    def literal(text: Any) -> str:
        return re.escape(str(text).replace("|", "/"))

    if comparison == "":
        return skip + literal(value) + r"(\||$)"
    if comparison == "in":
        return skip + "(" + "|".join(literal(v) for v in value) + r")(\||$)"
    if comparison == "contains":
        return skip + "[^|]*" + literal(value)
    if comparison == "startswith":
        return skip + literal(value)
    if comparison == "set":
        return skip + "[^|]"
    raise ValueError(f"unsupported comparison {comparison} on a label part")


def _label_part_strings(kind_code: int, operator: str, value: Any) -> QuerySet | None:
    """Return the dictionary strings whose part meets a KEY__N[__op] lookup, None when operator is not one."""
    match = _PART_LOOKUP.match(operator)
    if match is None:
        return None
    comparison = match[2] or ""
    if comparison == "in" and (not isinstance(value, list | tuple) or not 0 < len(value) <= MAX_PART_VALUES):
        raise ValueError(f"a label part's in takes 1 to {MAX_PART_VALUES} values")
    if comparison == "set" and value is not True:
        raise ValueError("a label part's set takes True")
    if comparison not in ("in", "set") and (not isinstance(value, str) or not value):
        raise ValueError("a label part is compared with a text")
    pattern = label_part_pattern(int(match[1]), comparison, value)
    return EventString.objects.filter(kind=kind_code, value__iregex=pattern)


def _codes(types: int | Iterable[int]) -> list[int]:
    codes = [int(types)] if isinstance(types, int) else [int(t) for t in types]
    for code in codes:
        event_type(code)  # UnknownEventType for a code no domain registered
    return codes


def _data_filter(codes: list[int], data: Mapping[str, Any]) -> Q:
    """Return the condition on data: {"email_id": 3}, {"url": "https://..."}, {"url__contains": "/pricing"},
    {"utm__0": "newsletter"} (a part of a label, see _PART_LOOKUP).

    A dictionary-kind key (URL) is matched through the string dictionary: equality by the
    value's digest (its unique index), contains/startswith on the value, ignoring case; the events' condition
    is then an IN (subquery) on the stored ids. Raise ValueError for a key no type of codes declares.
    """
    condition = Q()
    for lookup, value in data.items():
        key, _, operator = lookup.partition("__")
        kinds = {event_type(code).keys.get(key) for code in codes} - {None}
        if not kinds:
            raise ValueError(f"no event type asked for declares the data key {key}")
        kind = kinds.pop()
        parts = _label_part_strings(DICTIONARY_KINDS[LABEL], operator, value) if kind == LABEL else None
        if parts is not None:
            stored = Cast(KeyTextTransform(key, "data"), BigIntegerField())
            condition &= Q(In(stored, parts.values("id")))
        elif kind in DICTIONARY_KINDS:
            if operator not in _STRING_LOOKUPS:
                raise ValueError(f"unsupported lookup {operator} on {key}")
            if kind == URL and not operator:
                from tidings.events.registry import strip_url

                value = strip_url(value)
            strings = EventString.objects.filter(kind=DICTIONARY_KINDS[kind])
            if not operator:
                strings = strings.filter(digest=_digest(value))
            elif (
                value.isascii()
            ):  # case-insensitive on both engines (Django's contains is LIKE: SQLite folds, PostgreSQL not)
                strings = strings.filter(**{f"value__i{operator}": value})
            else:  # SQLite's LIKE folds ASCII only; a regular expression folds Unicode on both
                anchor = "^" if operator == "startswith" else ""
                strings = strings.filter(value__iregex=anchor + re.escape(value))
            # The stored id read as a number: jsonb cannot be compared with the subquery's bigint.
            stored = Cast(KeyTextTransform(key, "data"), BigIntegerField())
            condition &= Q(In(stored, strings.values("id")))
        else:
            if operator not in ("", "gt", "gte", "lt", "lte"):
                raise ValueError(f"unsupported lookup {operator} on {key}")
            condition &= Q(**{f"data__{lookup}": value})
    return condition


def events_matching(
    types: int | Iterable[int],
    *,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    data: Mapping[str, Any] | None = None,
    contact_ids: Iterable[int] | None = None,
) -> QuerySet:
    """Return the workspace's events of types in [since, until) matching data, annotated with `who` (the contact).

    contact_ids, when given (a few contacts), keeps the events whose `who` is one of them: their
    own, and their identified visitors', each read through its own index (contact, visitor)
    rather than a scan of the type. The visitors of contact_ids are looked up at once, as a list.
    """
    codes = _codes(types)
    events = Event.objects.filter(type__in=codes) if len(codes) > 1 else Event.objects.filter(type=codes[0])
    if contact_ids is not None:
        ids = list(contact_ids)
        # Both sides as lists of values, so that each is an index condition (PostgreSQL: a BitmapOr of the
        # timeline and visitor indexes). Against a subquery of visitors, PostgreSQL can only filter: it
        # read every anonymous event of the window, or the type's, to test each against a hashed set.
        visitors = visitor_ids_of(ids)
        own = id_in("contact_id", ids)
        # who = COALESCE(contact_id, visitor's contact): a visitor's event counts only when contact_id is empty.
        events = events.filter(own | (Q(contact_id__isnull=True) & id_in("visitor_id", visitors)) if visitors else own)
    if since is not None:
        events = events.filter(at__gte=since)
    if until is not None:
        events = events.filter(at__lt=until)
    if data:
        events = events.filter(_data_filter(codes, data))
    return events.annotate(who=Coalesce(F("contact_id"), F("visitor__contact_id")))


def visitor_ids_of(contact_ids: Iterable[int]) -> list[int]:
    """Return the ids of the visitors identified as one of contact_ids."""
    return list(Visitor.objects.filter(id_in("contact_id", list(contact_ids))).values_list("id", flat=True))


def events_after(last_id: int, *, limit: int) -> list[tuple[int, int, datetime.datetime, int | None]]:
    """Return (id, type, at, contact id) of the workspace's first `limit` events with an id above last_id, by id.

    The event store read as a change log (segments' incremental refresh keeps its place by event
    id). The contact is resolved through an identified visitor; an anonymous visitor's event
    gives None.
    """
    rows = Event.objects.filter(id__gt=last_id).order_by("id")
    rows = rows.annotate(who=Coalesce(F("contact_id"), F("visitor__contact_id")))
    return list(rows.values_list("id", "type", "at", "who")[:limit])


def last_event_id() -> int:
    """Return the id of the workspace's newest event, 0 without any."""
    return Event.objects.aggregate(last=Max("id"))["last"] or 0


def contact_ids_with_event(
    types: int | Iterable[int],
    *,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    min_count: int = 1,
    max_count: int | None = None,
    data: Mapping[str, Any] | None = None,
) -> QuerySet:
    """Return a queryset of the ids of contacts with between min_count and max_count events of types.

    Counted in [since, until), on events whose data matches `data` (see _data_filter), including
    the events of visitors identified as the contact. Use it inside a filter, where it becomes a
    subquery of the same statement: Contact.objects.filter(id__in=contact_ids_with_event(...)).
    Contacts with no such event are never in the set: for "fewer than N, none included", exclude
    contact_ids_with_event(..., min_count=N). Raise UnknownEventType for an unregistered type.
    """
    if min_count < 1 or (max_count is not None and max_count < min_count):
        raise ValueError("counts are 1 <= min_count <= max_count")
    events = events_matching(types, since=since, until=until, data=data).filter(who__isnull=False)
    if min_count == 1 and max_count is None:
        return events.values_list("who", flat=True).distinct()
    grouped = events.values("who").annotate(n=Count("id")).filter(n__gte=min_count)
    if max_count is not None:
        grouped = grouped.filter(n__lte=max_count)
    return grouped.values_list("who", flat=True)


def last_event_at(types: int | Iterable[int], *, contact: Any = None) -> Subquery:
    """Return a Subquery of the time of the contact's last event of types (NULL without one).

    contact defaults to OuterRef("pk"), for Contact.objects.annotate(last_open=last_event_at(EMAIL_OPENED)).
    """
    contact = OuterRef("pk") if contact is None else contact
    codes = _codes(types)
    events = Event.objects.filter(type__in=codes).filter(_of_contact(contact))
    return Subquery(events.order_by().values("workspace_id").annotate(last=Max("at")).values("last")[:1])


def _of_contact(contact: Any) -> Q:
    # An IN on the visitor ids rather than a join: each side keeps its own index (timeline, visitor).
    return Q(contact_id=contact) | Q(visitor_id__in=Visitor.objects.filter(contact_id=contact).values("id"))


def contact_events(contact_id: int, types: Iterable[int] | None = None) -> QuerySet:
    """Return the events of contact_id, those of its identified visitors included, newest first."""
    events = Event.objects.filter(_of_contact(contact_id))
    if types is not None:
        events = events.filter(type__in=list(types))
    return events.order_by("-at", "-id")


def contact_event_counts(contact_id: int, *, since: datetime.datetime) -> dict[int, tuple[int, int, Any]]:
    """Return {type code: (events since `since`, events ever, time of the last)} of contact_id, in one grouped query.

    Counts the events of the contact's identified visitors too; types it has none of are left out.
    """
    rows = (
        Event.objects.filter(_of_contact(contact_id))
        .order_by()
        .values("type")
        .annotate(recent=Count("id", filter=Q(at__gte=since)), total=Count("id"), last=Max("at"))
    )
    return {row["type"]: (row["recent"], row["total"], row["last"]) for row in rows}


def visitor_get(visitor_id: int) -> Visitor | None:
    """Return the workspace's visitor visitor_id (its contact_id says whom it was identified as), or None."""
    return Visitor.objects.filter(pk=visitor_id).first()


def events_page_query(
    *,
    contact_id: int | None = None,
    visitor_ids: Iterable[int] | None = None,
    data: Mapping[str, Any] | None = None,
    types: Iterable[int] | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> QuerySet:
    """Return the workspace's events of a contact (its identified visitors' included) or matching data, for paging.

    contact_id: the contact's timeline (timeline index); data: a data filter as events_matching takes
    ({"site": 3}), which needs types declaring its keys. types: codes to keep; [since, until): the time
    range. Order it by "-id" or "id" (a keyset cursor on the id: the events' insertion order).
    Raise UnknownEventType for an unregistered code, ValueError for a data key no type declares.
    """
    events = Event.objects.all()
    if contact_id is not None:
        events = events.filter(_of_contact(contact_id))
    if visitor_ids is not None:
        events = events.filter(visitor_id__in=list(visitor_ids))
    codes = _codes(types) if types is not None else None
    if codes is not None:
        events = events.filter(type__in=codes)
    if data:
        if not codes:
            raise ValueError("a data filter needs the event types that declare its keys")
        events = events.filter(_data_filter(codes, data))
    if since is not None:
        events = events.filter(at__gte=since)
    if until is not None:
        events = events.filter(at__lt=until)
    return events.annotate(who=Coalesce(F("contact_id"), F("visitor__contact_id")))


def last_event_data(types: int | Iterable[int], contact_ids: Iterable[int], *, key: str) -> dict[int, Any]:
    """Return {contact id: data[key] of its newest event of types} for a few contacts (a batch), strings resolved.

    Newest is the highest id (the order the store received them). Three queries whatever the number of
    contacts: the newest event id per contact (grouped), those events' data, the dictionary strings.
    Contacts without such an event are left out.
    """
    ids = sorted({int(c) for c in contact_ids})
    if not ids:
        return {}
    newest = dict(
        events_matching(types, contact_ids=ids).filter(who__isnull=False).order_by().values("who")
        .annotate(last=Max("id")).values_list("who", "last")
    )  # fmt: skip
    rows = list(Event.objects.filter(id__in=list(newest.values())).values("id", "type", "data"))
    resolve_strings(rows)
    data = {row["id"]: row["data"] for row in rows}
    return {who: (data.get(event_id) or {}).get(key) for who, event_id in newest.items()}


def resolve_strings(rows: list[dict]) -> None:
    """Replace, in place, the dictionary ids in rows' data (each with "type" and "data") by their strings."""
    wanted: set[int] = set()
    for row in rows:
        for key in _dictionary_keys(row["type"]):
            if key in row["data"]:
                wanted.add(row["data"][key])
    if not wanted:
        return
    values = dict(EventString.objects.filter(id__in=wanted).values_list("id", "value"))
    for row in rows:
        for key in _dictionary_keys(row["type"]):
            if key in row["data"]:
                row["data"][key] = values.get(row["data"][key], "")


def _dictionary_keys(code: int) -> list[str]:
    try:
        return list(event_type(code).dictionary_keys)
    except ValueError:
        return []


def export_events(model, contact_id: int) -> list[dict]:
    """Return the contact's events (its visitors' included) for its data export: type name, time, data resolved."""
    rows = list(contact_events(contact_id).order_by("at", "id").values("id", "type", "at", "data"))
    resolve_strings(rows)
    return [{"id": r["id"], "type": label(r["type"]), "at": r["at"].isoformat(), "data": r["data"]} for r in rows]
