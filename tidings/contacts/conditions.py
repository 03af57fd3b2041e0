"""Conditions on contacts that other domains compose into one statement (segments, campaigns).

Each method returns a Q on Contact, set-based: an index-backed test on the contact's row, or an
EXISTS on a related table correlated with the contact (the planner turns it into a semi- or
anti-join, where NOT IN (subquery) would hash the whole subquery or rescan it per row). Field
definitions are read once per Conditions, so a segment of twenty filters costs two reads, not twenty.
Values of encrypted fields go to SQL only as keyed blind indexes (capabilities.build_filter).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from tidings.contacts.capabilities import FieldCapability, Operator, build_filter
from tidings.contacts.models import (
    Channel,
    Company,
    Contact,
    ContactCompany,
    ContactField,
    ContactTag,
    DncReason,
    DoNotContact,
    FieldObject,
    Tag,
)
from tidings.contacts.selectors_fields import field_capabilities, fields_by_alias
from tidings.privacy.vault import Keyring, keyring

# The vocabulary of Do-Not-Contact filters.
DNC_CHANNELS = tuple(Channel.values)
DNC_REASONS = tuple(DncReason.values)
# Company-field operators that are NOT of another across the linked companies.
_COMPANY_NEGATIONS: dict[str, Operator] = {
    Operator.NOT_EQUALS: Operator.EQUALS,
    Operator.NOT_IN: Operator.IN,
    Operator.NOT_CONTAINS: Operator.CONTAINS,
    Operator.NOT_REGEX: Operator.REGEX,
    Operator.EMPTY: Operator.NOT_EMPTY,
}


class Conditions:
    """Builds conditions on the contacts of the workspace in context."""

    def __init__(self) -> None:
        self._definitions: dict[str, dict[str, ContactField]] = {}
        self._capabilities: dict[str, dict[str, FieldCapability]] = {}
        self._ring: Keyring | None = None

    def capabilities(self, object: str = FieldObject.CONTACT) -> dict[str, FieldCapability]:
        """Return {alias: capability} of object's fields, archived ones included (their data is kept)."""
        if object not in self._capabilities:
            self._capabilities[object] = field_capabilities(object, include_archived=True)
        return self._capabilities[object]

    def _options(self, object: str, alias: str) -> list | None:
        if object not in self._definitions:
            self._definitions[object] = fields_by_alias(object)
        definition = self._definitions[object].get(alias)
        return None if definition is None else definition.options

    def _keyring(self):
        self._ring = self._ring or keyring()
        return self._ring

    def field(self, cap: FieldCapability, operator: str, value: Any = None) -> Q:
        """Return the contacts whose field (cap) matches; a company field matches through any linked company.

        On a company field a negation is NOT of its positive across the contact's companies, as on
        a contact's own field: "industry not equals Retail" is "no linked company in Retail", and
        "empty" is "no linked company with a value"; both match contacts without a company.
        Raise ValidationError keyed by the alias, never repeating the value (capabilities.build_filter).
        """
        options = self._options(cap.object, cap.alias)
        if cap.object != FieldObject.COMPANY:
            return build_filter(cap, operator, value, options=options, ring=self._keyring)
        positive = _COMPANY_NEGATIONS.get(operator)
        if positive is not None:
            build_filter(cap, operator, value, options=options, ring=self._keyring)  # the operator's own checks
            return ~self._any_company(build_filter(cap, positive, value, options=options, ring=self._keyring))
        return self._any_company(build_filter(cap, operator, value, options=options, ring=self._keyring))

    @staticmethod
    def _any_company(condition: Q) -> Q:
        # From the contact's own links, each to its company by id: EXISTS (a link of the contact, EXISTS (its
        # company, matching)). A link whose company_id is IN (every matching company) SQLite runs by probing
        # each matching company for each contact: contacts x companies.
        matching = Company.objects.filter(condition, id=OuterRef("company_id"))
        return Q(Exists(ContactCompany.objects.filter(Exists(matching), contact_id=OuterRef("pk"))))

    @staticmethod
    def tagged(tag_ids: list[int], *, every: bool = False) -> Q:
        """Return the contacts with any of tag_ids (every=True: with all of them)."""
        if every:
            condition = Q()
            for tag_id in tag_ids:
                condition &= Q(Exists(ContactTag.objects.filter(contact_id=OuterRef("pk"), tag_id=tag_id)))
            return condition
        return Q(Exists(ContactTag.objects.filter(contact_id=OuterRef("pk"), tag_id__in=tag_ids)))

    @staticmethod
    def do_not_contact(channel: str, reason: str = "") -> Q:
        """Return the contacts with a Do-Not-Contact on channel (for that reason only, when given)."""
        rows = DoNotContact.objects.filter(contact_id=OuterRef("pk"), channel=channel)
        if reason:
            rows = rows.filter(reason=reason)
        return Q(Exists(rows))

    @staticmethod
    def with_ids(ids: QuerySet, column: str = "contact_id") -> Q:
        """Return the contacts whose id is in column of a queryset of another domain's rows, as EXISTS."""
        return Q(Exists(ids.filter(**{column: OuterRef("pk")})))


@dataclass(frozen=True)
class Membership:
    """A kind of membership another domain answers for, which segments filter on without importing that domain.

    Campaigns registers "campaign" (an active enrolment) from its AppConfig.ready(); a segment filter
    {"kind": "campaign", "operator": "in" | "not_in", "value": [ids]} then compiles to EXISTS (a member row
    of the contact) through members(ids), in the same statement as the segment's other filters.
    """

    kind: str  # the filter's kind
    label: str  # the builder's name for the filter ("A campaign")
    noun: str  # one of the groups ("campaign"), for errors and pickers
    ids: Callable[[], frozenset[int]]  # the ids of the workspace's groups
    names: Callable[[Iterable[int]], dict[int, str]]  # their names, for the builder
    members: Callable[[list[int]], QuerySet]  # rows with contact_id: the members of any of ids, in the workspace


_MEMBERSHIPS: dict[str, Membership] = {}


def register_membership(membership: Membership) -> None:
    """Let segments filter on membership.kind (idempotent by kind: ready() may run twice in tests)."""
    _MEMBERSHIPS[membership.kind] = membership


def memberships() -> dict[str, Membership]:
    """Return the registered memberships by kind."""
    return dict(_MEMBERSHIPS)


def contacts_where(condition: Q) -> QuerySet:
    """Return the workspace's contacts matching condition (a queryset, for counting, sampling or as a subquery)."""
    return Contact.objects.filter(condition)


def tag_ids() -> frozenset[int]:
    """Return the ids of the workspace's tags."""
    return frozenset(Tag.objects.values_list("id", flat=True))


def contact_ids_changed_since(since: datetime.datetime) -> QuerySet:
    """Return the ids of contacts whose row, or a linked company's, changed at or after since."""
    companies = Company.objects.filter(updated_at__gte=since).values("id")
    linked = ContactCompany.objects.filter(company_id__in=companies).values("contact_id")
    return Contact.objects.filter(Q(updated_at__gte=since) | Q(id__in=linked)).values_list("id", flat=True)


def existing_contact_ids(ids: list[int]) -> list[int]:
    """Return which of ids are contacts of the workspace in context."""
    return list(Contact.objects.filter(id__in=ids).values_list("id", flat=True))
