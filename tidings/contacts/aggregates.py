"""Selectors that count: the contacts figures of the dashboard, each one bounded set-based query.

Every function reads the workspace in context (NoWorkspaceSet without one), groups in the
database (never a loop over contacts in Python) and returns at most a fixed number of rows:
top N, or one row per day of a bounded period. Indexes that serve them: contacts_c_created_idx
(growth, by day), contacts_ev_created_idx (new contacts by source), contacts_ct_tag_idx (tags),
contacts_dnc_channel_idx (Do-Not-Contact).

Only clear columns can be grouped: country, city and the email's domain are stored in clear
(personal data declared on the model, erased with the contact), names, emails and phones are
encrypted per contact and are never grouped or counted by value.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from tidings.contacts.models import Contact, ContactEvent, ContactImport, ContactTag, DoNotContact, EventType, Tag

TOP_LIMIT = 8
MAX_DAYS = 366


@dataclass(frozen=True)
class Growth:
    """Contacts now and how many were created on each day of the period (days without any are absent)."""

    total: int
    before: int  # contacts created before the period that still exist
    start: datetime.date
    end: datetime.date
    new_by_day: dict[datetime.date, int]

    @property
    def new_in_period(self) -> int:
        return sum(self.new_by_day.values())


def contacts_growth(*, days: int = 90, today: datetime.date | None = None) -> Growth:
    """Return the workspace's contact total and its new contacts per day over the last days (at most 366).

    One query: contacts of the period are grouped by day, older ones fall in one "before"
    bucket, so the total is their sum. Deleted contacts are gone from every bucket, so the
    curve is the history of the contacts that exist now.
    """
    days = max(1, min(int(days), MAX_DAYS))
    end = today or timezone.localdate()
    start = end - datetime.timedelta(days=days - 1)
    since = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    rows = (
        Contact.objects.annotate(
            day=Case(
                When(created_at__lt=since, then=Value(None)), default=TruncDate("created_at"), output_field=DateField()
            )
        )
        .values("day")
        .annotate(n=Count("*"))
        .order_by()
    )
    before, by_day = 0, {}
    for row in rows:
        if row["day"] is None:
            before = row["n"]
        else:
            by_day[row["day"]] = row["n"]
    return Growth(total=before + sum(by_day.values()), before=before, start=start, end=end, new_by_day=by_day)


SOURCES = {"ui": "Created in Tidings", "api": "API", "form": "Forms", "import": "Imports", "system": "Automations"}


def new_contacts_by_source(*, days: int = 30) -> dict[str, int]:
    """Return {source: new contacts} over the last days: ui, api, form and system from the contact.created
    events (their source), import from the imports started in the period (their created count).

    One query (a UNION of two grouped reads). Contacts created before sources were recorded count as "ui".
    """
    days = max(1, min(int(days), MAX_DAYS))
    since = timezone.now() - datetime.timedelta(days=days)
    created = (
        ContactEvent.objects.filter(type=EventType.CONTACT_CREATED, at__gte=since)
        .annotate(source=Coalesce(KT("data__source"), Value("ui"), output_field=CharField()))
        .values("source")
        .annotate(n=Count("*"))
        .order_by()
    )
    imported = (
        ContactImport.objects.filter(created_at__gte=since)
        .annotate(source=Value("import", output_field=CharField()))
        .values("source")
        .annotate(n=Coalesce(Sum("created_count"), 0, output_field=IntegerField()))
        .order_by()
    )
    counts: dict[str, int] = {}
    for row in created.union(imported, all=True):
        counts[row["source"]] = counts.get(row["source"], 0) + int(row["n"] or 0)
    return {source: n for source, n in counts.items() if n}


def top_tags(limit: int = TOP_LIMIT) -> list[tuple[str, int]]:
    """Return [(tag name, contacts)] of the most used tags, most used first, at most limit (one query)."""
    limit = max(1, min(int(limit), 50))
    name = Tag.objects.filter(id=OuterRef("tag_id")).values("name")[:1]
    rows = (
        ContactTag.objects.values("tag_id")
        .annotate(n=Count("*"), name=Subquery(name))
        .order_by("-n", "tag_id")
        .values_list("name", "n")[:limit]
    )
    return [(tag, n) for tag, n in rows if tag is not None]


def top_countries(limit: int = TOP_LIMIT) -> list[tuple[str, int]]:
    """Return [(country, contacts)] of the most frequent countries, most first, "" for contacts without one."""
    limit = max(1, min(int(limit), 50))
    rows = Contact.objects.values("country").annotate(n=Count("*")).order_by("-n", "country")[:limit]
    return [(row["country"], row["n"]) for row in rows]


def dnc_counts() -> list[tuple[str, str, int]]:
    """Return [(channel, reason, contacts)] of the Do-Not-Contact entries, largest first (at most 12 rows)."""
    rows = DoNotContact.objects.values("channel", "reason").annotate(n=Count("*")).order_by("-n", "channel", "reason")
    return [(row["channel"], row["reason"], row["n"]) for row in rows[:12]]


@dataclass(frozen=True)
class Reach:
    total: int
    identified: int
    emailable: int  # identified, with an email, and not on the email Do-Not-Contact list


def contacts_reach() -> Reach:
    """Return how many contacts exist, are identified, and can be emailed (one query)."""
    blocked = DoNotContact.objects.filter(contact_id=OuterRef("id"), channel="email")
    identified = Q(date_identified__isnull=False)
    row = Contact.objects.annotate(blocked=Exists(blocked)).aggregate(
        total=Count("*"),
        identified=Count("id", filter=identified),
        emailable=Count("id", filter=identified & Q(email_bidx__isnull=False, blocked=False)),
    )
    return Reach(total=row["total"], identified=row["identified"], emailable=row["emailable"])
