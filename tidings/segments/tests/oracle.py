"""A plain-Python evaluation of segment definitions: what the SQL of tidings.segments.compiler must return.

It reads the workspace's contacts once (values decrypted through tidings.contacts.selectors,
tags, Do-Not-Contact rows, linked companies, events, memberships of segments, enrolments in
campaigns) into a Snapshot, then evaluates a checked definition contact by contact with the
semantics definition.py documents, written here independently of the compiler (no SQL, no
capabilities.build_filter, no compiler.relative_range): a disagreement is a bug in one of the two.

Operands are normalised as the field's type coerces input (tidings.contacts.fields.coerce):
that is input parsing, not matching.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tidings.contacts.capabilities import FieldCapability, Storage
from tidings.contacts.fields import coerce, from_json, is_empty, to_json
from tidings.contacts.models import FieldObject
from tidings.privacy.vault import normalise_email, normalise_phone, normalise_text, words
from tidings.segments.definition import Lookups, field_capability

UTC = datetime.UTC
NEGATIONS = {"not_equals": "equals", "not_in": "in", "not_contains": "contains", "not_regex": "regex"}
DAY = datetime.timedelta(days=1)


@dataclass
class Facts:
    """One contact as the oracle sees it."""

    id: int
    values: dict[str, Any]
    tags: set[int] = field(default_factory=set)
    dnc: set[tuple[str, str]] = field(default_factory=set)
    companies: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[int, datetime.datetime, dict]] = field(default_factory=list)
    enrolments: dict[int, str] = field(default_factory=dict)  # campaign id -> the enrolment's status


@dataclass
class Snapshot:
    contacts: dict[int, Facts]
    segments: dict[int, set[int]]  # segment id -> member ids (filter matches and manual adds)
    lookups: Lookups
    options: dict[tuple[str, str], list | None]
    # Consent: purpose key -> (under consent (not another lawful basis), active); each contact's latest
    # decision per purpose key, its identified visitors' records included.
    purposes: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    decisions: dict[int, dict[str, bool]] = field(default_factory=dict)


def snapshot(lookups: Lookups) -> Snapshot:
    """Read every contact of the workspace in context, with what filters can ask about them."""
    from tidings.campaigns.models import Enrolment
    from tidings.contacts.models import Company, Contact, ContactCompany, ContactField, ContactTag, DoNotContact
    from tidings.contacts.selectors import company_values, contacts_get
    from tidings.events.models import Event, Visitor
    from tidings.events.selectors import resolve_strings
    from tidings.segments.models import MEMBER_STATUSES, SegmentMembership

    ids = list(Contact.objects.values_list("id", flat=True))
    views = contacts_get(ids)
    created = dict(Contact.objects.values_list("id", "created_at"))
    contacts = {pk: Facts(id=pk, values={**view.fields, "date_added": created[pk]}) for pk, view in views.items()}
    for contact_id, tag_id in ContactTag.objects.values_list("contact_id", "tag_id"):
        contacts[contact_id].tags.add(tag_id)
    for contact_id, channel, reason in DoNotContact.objects.values_list("contact_id", "channel", "reason"):
        contacts[contact_id].dnc.add((channel, reason))
    company_types = {alias: cap.type for alias, cap in lookups.company_fields.items()}
    companies = {}
    for company in Company.objects.all():
        raw = company_values(company)
        companies[company.pk] = {
            alias: None if value in ("", None) else from_json(company_types.get(alias, ""), value)
            for alias, value in raw.items()
        }
    for contact_id, company_id in ContactCompany.objects.values_list("contact_id", "company_id"):
        contacts[contact_id].companies.append(companies[company_id])
    owners = dict(Visitor.objects.exclude(contact_id=None).values_list("id", "contact_id"))
    rows = list(Event.objects.values("contact_id", "visitor_id", "type", "at", "data"))
    resolve_strings(rows)
    for row in rows:
        who = row["contact_id"] or owners.get(row["visitor_id"])
        if who in contacts:
            contacts[who].events.append((row["type"], row["at"], row["data"] or {}))
    for contact_id, campaign_id, status in Enrolment.objects.values_list("contact_id", "campaign_id", "status"):
        contacts[contact_id].enrolments[campaign_id] = status
    segments: dict[int, set[int]] = defaultdict(set)
    for segment_id, contact_id in SegmentMembership.objects.filter(status__in=MEMBER_STATUSES).values_list(
        "segment_id", "contact_id"
    ):
        segments[segment_id].add(contact_id)
    options = {(row.object, row.alias): row.options for row in ContactField.objects.all()}
    purposes, decisions = _consent(owners)
    return Snapshot(contacts=contacts, segments=dict(segments), lookups=lookups, options=options,
                    purposes=purposes, decisions=decisions)  # fmt: skip


def _consent(owners: Mapping[int, int]) -> tuple[dict[str, tuple[bool, bool]], dict[int, dict[str, bool]]]:
    """Return the purposes' rules and every contact's latest decision per purpose, folded here from the ledger."""
    from tidings.consent.models import ConsentRecord
    from tidings.consent.selectors import purposes
    from tidings.privacy.models import LawfulBasis

    rules = {p.key: (p.lawful_basis == LawfulBasis.CONSENT, p.active) for p in purposes()}
    keys = {p.pk: p.key for p in purposes() if p.pk is not None}
    decisions: dict[int, dict[str, bool]] = defaultdict(dict)
    rows = ConsentRecord.objects.values_list("contact_id", "visitor_id", "purpose_id", "given", "recorded_at", "id")
    for contact_id, visitor_id, purpose_id, given, _at, _id in sorted(rows, key=lambda r: (r[4], r[5])):
        subject = contact_id if contact_id is not None else owners.get(visitor_id)
        if subject is not None:
            decisions[subject][keys[purpose_id]] = given
    return rules, dict(decisions)


class Oracle:
    """Evaluates checked definitions (values in clear) against a Snapshot at a frozen now."""

    def __init__(self, snap: Snapshot, now: datetime.datetime):
        self.snap = snap
        self.now = now
        self.today = now.astimezone(UTC).date()

    def members(self, definition: Mapping) -> set[int]:
        return {pk for pk, facts in self.snap.contacts.items() if self.group(definition, facts)}

    def group(self, group: Mapping, facts: Facts) -> bool:
        results = [self.node(node, facts) for node in group.get("filters", [])]
        if not results:  # an empty group matches nobody, wherever it sits
            return False
        return any(results) if group.get("match") == "any" else all(results)

    def node(self, node: Mapping, facts: Facts) -> bool:
        kind = node["kind"]
        if kind == "group":
            return self.group(node, facts)
        if kind == "field":
            return self.field(node, facts)
        if kind == "tag":
            wanted = set(node["value"])
            found = wanted <= facts.tags if node["operator"] == "all" else bool(wanted & facts.tags)
            return not found if node["operator"] == "not_in" else found
        if kind == "segment":
            found = any(facts.id in self.snap.segments.get(s, ()) for s in node["value"])
            return not found if node["operator"] == "not_in" else found
        if kind == "dnc":
            found = any(c == node["channel"] and (not node["reason"] or r == node["reason"]) for c, r in facts.dnc)
            return not found if node["operator"] == "is_not" else found
        if kind == "event":
            return self.event(node, facts)
        if kind == "traffic":
            return self.traffic(node, facts)
        if kind == "consent":
            return self.consent(node, facts)
        if kind == "campaign":
            # An active member: enrolled, and neither walked to the end nor left (definition.py).
            found = any(
                c in facts.enrolments and facts.enrolments[c] not in ("finished", "exited") for c in node["value"]
            )
            return not found if node["operator"] == "not_in" else found
        raise AssertionError(kind)

    def consent(self, node: Mapping, facts: Facts) -> bool:
        under_consent, active = self.snap.purposes[node["purpose"]]
        decision = self.snap.decisions.get(facts.id, {}).get(node["purpose"])
        allowed = active and (decision is True if under_consent else decision is not False)
        return not allowed if node["operator"] == "has_not" else allowed

    # ------------------------------------------------------------------ fields

    def field(self, node: Mapping, facts: Facts) -> bool:
        cap = field_capability(self.snap.lookups, node["object"], node["field"])
        assert cap is not None
        operator, operand = node["operator"], node.get("value")
        if node["object"] == FieldObject.COMPANY:
            # Any linked company matching; negations (and empty, the negation of not_empty) are
            # NOT of that, so a contact without a company matches them.
            positive = NEGATIONS.get(operator, "not_empty" if operator == "empty" else None)
            if positive:
                return not any(self.value_matches(cap, positive, operand, c.get(cap.alias)) for c in facts.companies)
            return any(self.value_matches(cap, operator, operand, c.get(cap.alias)) for c in facts.companies)
        if cap.storage == Storage.TOKENS:
            names = set(words(facts.values.get("firstname") or "")) | set(words(facts.values.get("lastname") or ""))
            return set(words(str(operand).strip())) <= names
        return self.value_matches(cap, operator, operand, facts.values.get(cap.alias))

    def value_matches(self, cap: FieldCapability, operator: str, operand: Any, value: Any) -> bool:
        if operator in NEGATIONS:
            return not self.value_matches(cap, NEGATIONS[operator], operand, value)
        present = not is_empty(value)
        if operator == "empty":
            return not present
        if operator == "not_empty":
            return present
        if not present:
            return False
        if operator in ("today", "yesterday", "in_last_days", "more_than_days_ago", "in_next_days"):
            return self.relative(operator, operand, value)
        if operator == "anniversary":
            day = value.astimezone(UTC).date() if isinstance(value, datetime.datetime) else value
            wanted = operand or f"{self.today.month:02d}-{self.today.day:02d}"
            if day.strftime("%m-%d") == wanted:
                return True
            # Today's anniversaries: February 29th is celebrated on the 28th in years without one.
            return (
                operand is None
                and wanted == "02-28"
                and day.strftime("%m-%d") == "02-29"
                and not _leap(self.today.year)
            )
        if operator in ("contains", "starts_with", "ends_with"):
            text, needle = str(value).lower(), operand.strip().lower()
            return {"contains": needle in text, "starts_with": text.startswith(needle)}.get(
                operator, text.endswith(needle)
            )
        if operator == "regex":
            return re.search(operand.strip(), str(value), re.IGNORECASE) is not None
        operands = operand if operator in ("in", "between") else [operand]
        options = self.snap.options.get((cap.object, cap.alias))
        wanted = [coerce(cap.type, v, options, field=cap.alias) for v in operands]
        if cap.storage == Storage.BLIND_INDEX:
            norm = _blind_normaliser(cap)
            return operator in ("equals", "in") and norm(value) in {norm(w) for w in wanted}
        if operator == "equals":
            return value == wanted[0]
        if operator == "in":
            return value in wanted
        if operator == "between":
            return wanted[0] <= value <= wanted[1]
        return {
            "gt": value > wanted[0],
            "gte": value >= wanted[0],
            "lt": value < wanted[0],
            "lte": value <= wanted[0],
        }[operator]

    def relative(self, operator: str, days: Any, value: Any) -> bool:
        """Relative dates count whole UTC days, for dates and instants alike."""
        day = value.astimezone(UTC).date() if isinstance(value, datetime.datetime) else value
        today, n = self.today, datetime.timedelta(days=days or 0)
        return {
            "today": day == today,
            "yesterday": day == today - DAY,
            "in_last_days": today - n <= day <= today,
            "more_than_days_ago": day < today - n,
            "in_next_days": today <= day <= today + n,
        }[operator]

    # ------------------------------------------------------------------ events

    def event(self, node: Mapping, facts: Facts) -> bool:
        from tidings.events.registry import code_for, event_type, strip_url

        code = code_for(node["event"])
        keys = event_type(code).keys
        return self.counted(
            node,
            facts,
            code,
            lambda data: all(
                _data_matches(keys, lookup, wanted, data, strip_url) for lookup, wanted in node["data"].items()
            ),
        )

    def traffic(self, node: Mapping, facts: Facts) -> bool:
        """Page hits whose "a|b|c" label has the attribute's part compare, ignoring case."""
        from tidings.events.registry import code_for

        key, index = {"utm_source": ("utm", 0), "utm_medium": ("utm", 1), "utm_campaign": ("utm", 2),
                      "device": ("ctx", 0), "os": ("ctx", 1), "browser": ("ctx", 2)}[node["attribute"]]  # fmt: skip
        comparison, wanted = node["comparison"], node.get("value") or ""

        def matches(data: Mapping) -> bool:
            parts = str(data.get(key) or "").split("|")
            part = (parts[index] if index < len(parts) else "").lower()
            if comparison == "not_empty":
                return part != ""
            if comparison == "in":
                return part in {w.lower() for w in wanted}
            needle = wanted.lower()
            return {"equals": part == needle, "contains": needle in part, "starts_with": part.startswith(needle)}[
                comparison
            ]

        return self.counted(node, facts, code_for("page.hit"), matches)

    def counted(self, node: Mapping, facts: Facts, code: int, matches) -> bool:
        since = datetime.datetime.fromisoformat(node["since"]) if node.get("since") else None
        until = datetime.datetime.fromisoformat(node["until"]) if node.get("until") else None
        if node.get("within_days") is not None:
            window = self.now - datetime.timedelta(days=node["within_days"])
            since = max(since, window) if since else window
        count = 0
        for type, at, data in facts.events:
            if type != code or (since and at < since) or (until and at >= until):
                continue
            if matches(data):
                count += 1
        found = node["min_count"] <= count and (node.get("max_count") is None or count <= node["max_count"])
        return not found if node["operator"] == "has_not" else found


def _data_matches(keys, lookup: str, wanted: Any, data: Mapping, strip_url) -> bool:
    key, _, suffix = lookup.partition("__")
    if key not in data:
        return False
    stored = data[key]
    if keys[key] == "url":
        text = str(stored)
        if not suffix:
            return text == strip_url(wanted)
        needle = wanted.lower()
        return needle in text.lower() if suffix == "contains" else text.lower().startswith(needle)
    if keys[key] == "int":
        return {"": stored == wanted, "gt": stored > wanted, "gte": stored >= wanted, "lt": stored < wanted,
                "lte": stored <= wanted}[suffix]  # fmt: skip
    return stored == wanted


def _blind_normaliser(cap: FieldCapability):
    if cap.alias == "email":
        return lambda v: normalise_email(str(v))
    if cap.alias in ("phone", "mobile"):
        return lambda v: normalise_phone(str(v))
    return lambda v: normalise_text(str(to_json(v)))


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
