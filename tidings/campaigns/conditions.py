"""Condition evaluation of the campaign engine: which contacts meet a condition step, and contacts' local times.

    conditions_passed(step, ids)   points, device and time conditions, set-based (one or two queries a group)
    field_matches(value, step)     a field condition's operator on one contact's value
    zones_of(ids, step)            each contact's time zone (its own when known, else the step's)
    in_window / next_in_window     a step's hours and weekdays in a zone (time conditions, window delays)
    field_time(value, step, now)   a delay relative to a contact's date field (the next anniversary)

Pure reads: the engine (engine._condition, engine._delay) turns what these return into run outcomes.
"""

from __future__ import annotations

import datetime
import functools
import zoneinfo
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Q
from django.utils import timezone

from tidings.contacts import selectors as contacts_selectors
from tidings.contacts import selectors_fields as contacts_fields
from tidings.contacts.conditions import contacts_where
from tidings.events import selectors as event_selectors
from tidings.events.registry import code_for


def zones_of(contact_ids: Iterable[int], step: Mapping) -> dict[int, str]:
    """Return {contact id: the time zone its local times are read in}: its own when set and known, else the step's.

    The workspace has no time zone of its own: the step's (UTC unless the builder set one) stands for it.
    """
    fallback = step.get("timezone") or "UTC"
    ids = sorted(set(contact_ids))
    own = contacts_selectors.contact_timezones(ids) if ids else {}
    return {c: own[c] if own.get(c) in _known_zones() else fallback for c in ids}


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def in_window(now: datetime.datetime, step: Mapping, zone: str) -> bool:
    """Whether now, in zone, falls in the step's hours (start_hour to end_hour) on one of its weekdays."""
    local = now.astimezone(zoneinfo.ZoneInfo(zone))
    if local.weekday() not in set(step["weekdays"]):
        return False
    midnight = datetime.datetime.combine(local.date(), datetime.time(0), local.tzinfo)
    opens = datetime.datetime.combine(local.date(), datetime.time(int(step["start_hour"])), local.tzinfo)
    return opens <= local < midnight + datetime.timedelta(hours=int(step["end_hour"]))


def next_in_window(now: datetime.datetime, step: Mapping, *, zone: str | None = None) -> datetime.datetime:
    """Return now if in the step's window (its hours and weekdays, in zone or the step's), else its next opening."""
    tz = zoneinfo.ZoneInfo(zone or step.get("timezone") or "UTC")
    local = now.astimezone(tz)
    start, end, days = int(step["start_hour"]), int(step["end_hour"]), set(step["weekdays"])
    for offset in range(8):
        day = (local + datetime.timedelta(days=offset)).date()
        if day.weekday() not in days:
            continue
        opens = datetime.datetime.combine(day, datetime.time(start), tz)
        closes = datetime.datetime.combine(day, datetime.time(0), tz) + datetime.timedelta(hours=end)
        if local < opens:
            return opens.astimezone(datetime.UTC)
        if local < closes:
            return now
    return now  # no day at all: never wait forever


def field_time(value: Any, step: Mapping, now: datetime.datetime) -> datetime.datetime | None:
    """Return the time relative to a contact's date field: the next anniversary's day + offset_days at hour."""
    if value in (None, ""):
        return None
    try:
        day = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
    if isinstance(day, datetime.datetime):
        day = day.date()
    zone = zoneinfo.ZoneInfo(step.get("timezone") or "UTC")
    offset = datetime.timedelta(days=int(step.get("offset_days") or 0))
    hour = datetime.time(int(step.get("hour") or 0))
    moment = datetime.datetime.combine(day + offset, hour, zone)
    if moment >= now:
        return moment
    # A date in the past (a birthday): its next anniversary.
    today = now.astimezone(zone).date()
    for year in (today.year, today.year + 1):
        try:
            candidate = datetime.datetime.combine(day.replace(year=year) + offset, hour, zone)
        except ValueError:  # 29 February
            candidate = datetime.datetime.combine(datetime.date(year, 3, 1) + offset, hour, zone)
        if candidate >= now:
            return candidate
    return now


def conditions_passed(step: Mapping, ids: list[int]) -> set[int]:
    """Return which of ids meet a points, device or time condition, in one or two queries for the whole group."""
    test = step["test"]
    if test == "points":
        value = [step["value"], step["value_to"]] if step["operator"] == "between" else step["value"]
        condition = Q(pk__in=ids) & contacts_fields.field_filter("points", step["operator"], value)
        return set(contacts_where(condition).values_list("id", flat=True))
    if test == "device":
        # The device and OS of the contact's newest page hit (tracking's "device|os|browser|country" label).
        seen = event_selectors.last_event_data(code_for("page.hit"), ids, key="ctx")
        passed = set()
        for contact_id, ctx in seen.items():
            device, os = ([*str(ctx or "").split("|"), "", ""])[:2]
            if step.get("device") and device.casefold() != step["device"]:
                continue
            if step.get("os") and os.casefold() != str(step["os"]).casefold():
                continue
            passed.add(contact_id)
        return passed
    now = timezone.now()
    zones = zones_of(ids, step)
    inside = {zone: in_window(now, step, zone) for zone in set(zones.values())}
    return {c for c in ids if inside[zones[c]]}


def field_matches(value: Any, step: Mapping) -> bool:
    """Whether a contact's field value meets the condition step's operator and value (text compared ignoring case)."""
    operator, wanted = step["operator"], step.get("value")
    empty = value is None or value == "" or value == []
    if operator == "empty":
        return empty
    if operator == "not_empty":
        return not empty
    if empty:
        return operator == "not_equals"
    if operator in ("gt", "lt"):
        try:
            left, right = float(value), float(wanted)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            left, right = str(value), str(wanted)  # type: ignore[assignment]  # dates in ISO order compare as text
        return left > right if operator == "gt" else left < right
    text, other = str(value).casefold(), str(wanted).casefold()
    if isinstance(value, bool):
        text = "1" if value else "0"
        other = "1" if other in ("1", "true", "yes") else "0"
    if operator == "contains":
        return other in text
    return (text == other) == (operator == "equals")
