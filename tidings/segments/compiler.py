"""Turn a checked segment definition into one condition on contacts: the whole segment is one SQL statement.

Fields become index-friendly tests through contacts' capabilities; tags, Do-Not-Contact, other
segments and events become EXISTS subqueries correlated with the contact (semi- and anti-joins).
Relative dates are resolved to ranges at the moment the condition is built (UTC days), so a
rebuild tomorrow sees tomorrow's "last 7 days".

Values of filters on encrypted fields are stored sealed (seal_value) and opened only here, in
memory, to compute their blind index: the SQL, and so the query log, carries the index, never the value.
"""

from __future__ import annotations

import base64
import calendar
import datetime
import json
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import BooleanField, Count, Exists, OuterRef, Q, Value
from django.utils import timezone

from tidings.consent.selectors import allowed_condition, purpose_by_key
from tidings.contacts.capabilities import FieldCapability, Operator
from tidings.contacts.conditions import Conditions, contacts_where, memberships
from tidings.events.registry import code_for
from tidings.events.selectors import events_matching
from tidings.privacy.vault import DecryptionFailed, keyring
from tidings.segments.definition import (
    IN_LAST_DAYS,
    IN_NEXT_DAYS,
    MORE_THAN_DAYS_AGO,
    RELATIVE,
    TODAY,
    TRAFFIC_ATTRIBUTES,
    TRAFFIC_EVENT,
    YESTERDAY,
    Lookups,
    field_capability,
)
from tidings.segments.models import MEMBER_STATUSES, SegmentMembership

# A condition that is false in SQL: Q(pk__in=[]) would make Django drop the whole WHERE as an
# EmptyResultSet, which the INSERT ... SELECT of a rebuild cannot turn into a statement.
NOBODY = Q(Value(False, output_field=BooleanField()))
_SEAL_NAME = "segment-filter-value"
# A traffic filter's comparison as the events selectors' label-part lookup (KEY__N[__lookup]).
TRAFFIC_LOOKUPS = {"equals": "", "in": "in", "contains": "contains", "starts_with": "startswith", "not_empty": "set"}


def seal_value(value: Any) -> str:
    """Return value sealed under the workspace key, as text for the definition's JSON."""
    version, wrapped, aead = keyring().new_file_key(_SEAL_NAME)
    from tidings.privacy.vault import seal

    blob = seal(aead, json.dumps(value).encode(), _SEAL_NAME.encode())
    return f"{version}.{base64.b64encode(wrapped).decode()}.{base64.b64encode(blob).decode()}"


def open_value(sealed: str) -> Any:
    """Return the value seal_value sealed; raise ValidationError when it does not open here."""
    from tidings.privacy.vault import unseal

    try:
        version, wrapped, blob = sealed.split(".")
        aead = keyring().open_file_key(int(version), base64.b64decode(wrapped), _SEAL_NAME)
        return json.loads(unseal(aead, base64.b64decode(blob), _SEAL_NAME.encode()))
    except (ValueError, DecryptionFailed):
        raise ValidationError({"value": ["a sealed filter value does not open in this workspace"]}) from None


def reseal_value(sealed: str, ring) -> str:
    """Return sealed with its file key re-wrapped under ring's active workspace key (the value is not opened)."""
    version, wrapped, blob = sealed.split(".")
    if int(version) == ring.active_version:
        return sealed
    new_version, rewrapped = ring.rewrap_file_key(int(version), base64.b64decode(wrapped), _SEAL_NAME)
    return f"{new_version}.{base64.b64encode(rewrapped).decode()}.{blob}"


class Compiler:
    """Compiles checked definitions of the workspace in context (reads field definitions once)."""

    def __init__(self, lookups: Lookups, *, now: datetime.datetime | None = None, contact_ids: list[int] | None = None):
        self.lookups = lookups
        self.now = now or timezone.now()
        self.conditions = Conditions()
        # The incremental refresh asks about a few contacts: event subqueries then read only theirs.
        self.contact_ids = contact_ids

    def compile(self, group: Mapping) -> Q:
        """Return the condition of a checked group; an empty group matches nobody."""
        parts = [self.node(node) for node in group.get("filters", [])]
        if not parts:
            return NOBODY
        condition = parts[0]
        for part in parts[1:]:
            condition = condition | part if group.get("match") == "any" else condition & part
        return condition

    def node(self, node: Mapping) -> Q:
        kind = node["kind"]
        if kind == "group":
            return self.compile(node)
        if kind == "field":
            return self.field(node)
        if kind == "tag":
            condition = Conditions.tagged(node["value"], every=node["operator"] == "all")
            return ~condition if node["operator"] == "not_in" else condition
        if kind == "segment":
            members = SegmentMembership.objects.filter(segment_id__in=node["value"], status__in=MEMBER_STATUSES)
            condition = Q(Exists(members.filter(contact_id=OuterRef("pk"))))
            return ~condition if node["operator"] == "not_in" else condition
        if kind == "dnc":
            condition = Conditions.do_not_contact(node["channel"], node["reason"])
            return ~condition if node["operator"] == "is_not" else condition
        if kind == "event":
            return self.event(node)
        if kind == "traffic":
            return self.traffic(node)
        if kind == "consent":
            return self.consent(node)
        membership = memberships().get(kind)
        if membership is not None:  # a campaign (another domain's, registered): EXISTS (a member row of the contact)
            condition = Conditions.with_ids(membership.members(list(node["value"])))
            return ~condition if node["operator"] == "not_in" else condition
        raise ValueError(f"unknown filter kind {kind}")  # a checked definition never has one

    def field(self, node: Mapping) -> Q:
        cap = field_capability(self.lookups, node["object"], node["field"])
        if cap is None:  # the field was deleted since the segment was saved
            raise ValidationError({"field": ["unknown field"]}, code="invalid")
        value = open_value(node["value_sealed"]) if "value_sealed" in node else node.get("value")
        operator = node["operator"]
        if operator in RELATIVE:
            low, high = relative_range(cap, operator, value, self.now)
            condition = Q()
            if low is not None:
                condition &= self.conditions.field(cap, Operator.GTE, low)
            if high is not None:
                condition &= self.conditions.field(cap, Operator.LT, high)
            return condition
        if operator == Operator.ANNIVERSARY and value is None:
            return self.anniversary_today(cap)
        return self.conditions.field(cap, operator, value)

    def anniversary_today(self, cap: FieldCapability) -> Q:
        """Return the contacts whose date falls on today's month and day (UTC).

        February 29th is celebrated on the 28th in years without one.
        """
        today = self.now.astimezone(datetime.UTC).date()
        condition = self.conditions.field(cap, Operator.ANNIVERSARY, today.strftime("%m-%d"))
        if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
            condition |= self.conditions.field(cap, Operator.ANNIVERSARY, "02-29")
        return condition

    def event(self, node: Mapping) -> Q:
        return self.counted(node, code_for(node["event"]), node.get("data") or None)

    def traffic(self, node: Mapping) -> Q:
        """Page hits whose UTM or device label's part compares (events.selectors' KEY__N lookups), counted."""
        key, index = TRAFFIC_ATTRIBUTES[node["attribute"]]
        comparison = TRAFFIC_LOOKUPS[node["comparison"]]
        lookup = f"{key}__{index}" + (f"__{comparison}" if comparison else "")
        value = True if node["comparison"] == "not_empty" else node["value"]
        return self.counted(node, code_for(TRAFFIC_EVENT), {lookup: value})

    def consent(self, node: Mapping) -> Q:
        """Contacts the purpose allows now (consent.selectors.allowed_condition), or (has_not) the others."""
        try:
            active = purpose_by_key(node["purpose"]).active
        except ObjectDoesNotExist:  # deleted since the segment was saved
            raise ValidationError({"purpose": ["unknown purpose"]}, code="invalid") from None
        # An inactive purpose allows nobody; said here as NOBODY, which an INSERT ... SELECT can run.
        allowed = allowed_condition(node["purpose"], among=self.contact_ids) if active else NOBODY
        return ~allowed if node["operator"] == "has_not" else allowed

    def counted(self, node: Mapping, code: int, data: Mapping | None) -> Q:
        since = datetime.datetime.fromisoformat(node["since"]) if node.get("since") else None
        until = datetime.datetime.fromisoformat(node["until"]) if node.get("until") else None
        if node.get("within_days") is not None:
            window = self.now - datetime.timedelta(days=node["within_days"])
            since = max(since, window) if since else window
        events = events_matching(code, since=since, until=until, data=data, contact_ids=self.contact_ids)
        # The set of contacts with such events, uncorrelated: `who` is COALESCE(contact_id, the visitor's
        # contact), which no index serves, so a subquery correlated with each contact (EXISTS ... who = id)
        # scans the type's events once per contact on SQLite, and a counted one (GROUP BY ... HAVING) does
        # so on PostgreSQL too. Computed once, the set is a hashed semi-join (PostgreSQL) or a list
        # materialised once (SQLite).
        who = events.filter(who__isnull=False).order_by()
        if node["min_count"] == 1 and node.get("max_count") is None:
            ids = who.values("who")
        else:
            counted = who.values("who").annotate(n=Count("id")).filter(n__gte=node["min_count"])
            if node.get("max_count") is not None:
                counted = counted.filter(n__lte=node["max_count"])
            ids = counted.values("who")
        if node["operator"] != "has_not":
            return Q(pk__in=ids)
        if self.contact_ids is not None:  # a set of at most these few contacts: NOT IN hashes it
            return ~Q(pk__in=ids)
        # Not NOT IN (subquery): PostgreSQL hashes it only if it fits in work_mem, else rescans it per
        # contact. NOT EXISTS (this contact, if in the set) is an anti-join there and a key lookup on SQLite.
        return ~Q(Exists(contacts_where(Q(pk=OuterRef("pk")) & Q(pk__in=ids))))


def relative_range(cap: FieldCapability, operator: str, days: Any, now: datetime.datetime) -> tuple[Any, Any]:
    """Return [low, high) of a relative date on cap's field at now: whole UTC days, for dates and instants alike.

    "in the last 7 days" is today and the 7 days before it, "more than 30 days ago" is before the
    day 30 days ago, "in the next 7 days" is today and the 7 days after it. An instant counts by
    its UTC day, so a date_added and a custom date of the same day always agree, and a value in
    the future is never "in the last N days". Bounds are ISO dates for date fields, instants otherwise.
    """
    today = now.astimezone(datetime.UTC).date()
    day = datetime.timedelta(days=1)
    n = day * (days or 0)
    low, high = {
        TODAY: (today, today + day),
        YESTERDAY: (today - day, today),
        IN_LAST_DAYS: (today - n, today + day),
        MORE_THAN_DAYS_AGO: (None, today - n),
        IN_NEXT_DAYS: (today, today + n + day),
    }[operator]
    if cap.type == "date":
        return (None if low is None else low.isoformat(), high.isoformat())
    return (None if low is None else _midnight(low), _midnight(high))


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
