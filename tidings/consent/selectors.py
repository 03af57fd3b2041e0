"""Reads of the consent ledger: purposes, notices, the state derived from the ledger, and the one question
every outbound use asks.

The state of a subject for a purpose is its latest record (by recorded_at, then id). A record's
subject is COALESCE(contact_id, visitor.contact_id): what a device decided through the tracker
counts for the contact it is later identified as (decision 0012), without rewriting the ledger.

    purpose_allowed(contact_id, "marketing_email", use="email:42")      # one contact
    Contact.objects.filter(allowed_condition("marketing_email"))      # a million, in one statement

Consent purposes need a current "given" record; purposes under another lawful basis (legitimate
interest, contract...) are allowed unless the latest record is a withdrawal (an objection). An
inactive purpose allows nothing. Every "no" of purpose_allowed is logged with ids only.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connections
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce

from tidings.consent.models import STANDARD_PURPOSES, ConsentRecord, PrivacyNotice, Purpose
from tidings.events.models import Visitor
from tidings.privacy.models import LawfulBasis
from tidings.tenancy.context import require_workspace

logger = logging.getLogger("tidings.consent")

CHUNK = 5000  # contact ids per query of contacts_allowed


@dataclass(frozen=True)
class Decision:
    """A subject's current decision for a purpose: the latest record of the ledger."""

    given: bool
    at: datetime.datetime
    method: str
    notice_version: int | None
    signal: str | None = None
    source: str = ""


# ==============================================================================================
# Purposes and notices


def _standard(key: str) -> Purpose:
    name, description = STANDARD_PURPOSES[key]
    return Purpose(key=key, name=name, description=description, lawful_basis=LawfulBasis.CONSENT, active=True)


def purposes() -> list[Purpose]:
    """Return the workspace's purposes: the standard ones first (their defaults until stored), then by key."""
    stored = {p.key: p for p in Purpose.objects.order_by("key")}
    standard = [stored.pop(key, None) or _standard(key) for key in STANDARD_PURPOSES]
    return standard + list(stored.values())


def purpose_by_key(key: str) -> Purpose:
    """Return the purpose with key (a standard one's defaults when not stored yet); raise Purpose.DoesNotExist."""
    found = Purpose.objects.filter(key=key).first() if isinstance(key, str) else None
    if found is not None:
        return found
    if key in STANDARD_PURPOSES:
        return _standard(key)
    raise Purpose.DoesNotExist("No such purpose.")


def purpose_get(purpose_id: int) -> Purpose:
    """Return the stored purpose purpose_id of this workspace; raise Purpose.DoesNotExist."""
    return Purpose.objects.get(pk=purpose_id)


def purpose_keys(purpose_ids: Iterable[int]) -> dict[int, str]:
    """Return {id: key} of the given purposes (one query)."""
    return dict(Purpose.objects.filter(pk__in=set(purpose_ids)).values_list("pk", "key"))


def notices() -> QuerySet[PrivacyNotice]:
    """Return the workspace's privacy notices, newest version first."""
    return PrivacyNotice.objects.order_by("-version")


def current_notice() -> PrivacyNotice | None:
    """Return the current privacy notice (the highest published version), or None before the first."""
    return notices().first()


# ==============================================================================================
# The state of one subject


def _of_contact(contact_id: int) -> Q:
    # Its devices by id (an IN on the visitors' index), not through the join: an OR across it scans the ledger.
    devices = Visitor.objects.filter(contact_id=contact_id).values("id")
    return Q(contact_id=contact_id) | Q(contact_id__isnull=True, visitor_id__isnull=False, visitor_id__in=devices)


def _fold(records) -> dict[int, Decision]:
    """Return the latest decision per purpose id of records ordered oldest first."""
    state: dict[int, Decision] = {}
    for r in records:
        state[r.purpose_id] = Decision(r.given, r.recorded_at, r.method, r.notice_version, r.signal, r.source)
    return state


def _keyed(state: dict[int, Decision]) -> dict[str, Decision]:
    keys = purpose_keys(state)
    return {keys[pk]: decision for pk, decision in state.items() if pk in keys}


def _records_of(contact_id: int, purpose_id: int | None = None, *, latest_only: bool = False) -> list[ConsentRecord]:
    """Return the contact's records (its devices' included), oldest first: two index-served queries, merged here.

    One query with an OR across "own or its devices'" lets the planners walk the purpose's records in
    time order instead (a second per call at 200k records on SQLite). latest_only: one row per query.
    """
    own = ConsentRecord.objects.filter(contact_id=contact_id)
    # The devices' ids first (most contacts have none): a literal list keeps the planner on the visitor index.
    device_ids = list(Visitor.objects.filter(contact_id=contact_id).values_list("id", flat=True))
    queries = [own]
    if device_ids:
        queries.append(ConsentRecord.objects.filter(contact_id__isnull=True, visitor_id__in=device_ids))
    found: list[ConsentRecord] = []
    for records in queries:
        if purpose_id is not None:
            records = records.filter(purpose_id=purpose_id)
        if latest_only:
            found.extend(records.order_by("-recorded_at", "-id")[:1])
        else:
            found.extend(records)
    return sorted(found, key=lambda r: (r.recorded_at, r.pk))


def consent_state(contact_id: int) -> dict[str, Decision]:
    """Return the contact's current decision per purpose key, its identified visitors' records included.

    A purpose with no record is absent: no consent given (and, under legitimate interest, no objection).
    """
    return _keyed(_fold(_records_of(contact_id)))


def visitor_consents(visitor_id: int) -> dict[str, Decision]:
    """Return the current decisions that apply to a tracked device, per purpose key.

    Once the visitor is identified, those of its contact (which include the device's own);
    before, the device's own records. A visitor of another workspace (or none) has none: {}.
    """
    contact_id = Visitor.objects.filter(pk=visitor_id).values_list("contact_id", flat=True).first()
    if contact_id is not None:
        return consent_state(contact_id)
    records = ConsentRecord.objects.filter(visitor_id=visitor_id).order_by("recorded_at", "id")
    return _keyed(_fold(records))


# The tracker asks visitor_decision for most page views: the same question as visitor_consents, as
# plain statements prepared once (the ORM's compilation cost ~1 ms a call, four times the rest of a hit).
_RECORDS = ConsentRecord._meta.db_table
_VISITORS = Visitor._meta.db_table
_PURPOSES = Purpose._meta.db_table
_PURPOSE_ID_SQL = f"SELECT id FROM {_PURPOSES} WHERE workspace_id = %s AND key = %s"  # noqa: S608 (our tables)
_CONTACT_OF_VISITOR_SQL = f"SELECT contact_id FROM {_VISITORS} WHERE workspace_id = %s AND id = %s"  # noqa: S608
_LATEST_OF_VISITOR_SQL = (
    f"SELECT given FROM {_RECORDS} WHERE workspace_id = %s AND visitor_id = %s AND purpose_id = %s "  # noqa: S608
    "ORDER BY recorded_at DESC, id DESC LIMIT 1"
)
# Own records and its devices' unidentified ones, each side on its index, the later of the two winning.
# Table names are ours; every value is a parameter.
_LATEST_OF_CONTACT_SQL = (
    "SELECT given FROM ("  # noqa: S608
    f"SELECT * FROM (SELECT given, recorded_at, id FROM {_RECORDS} WHERE workspace_id = %s AND contact_id = %s "
    "AND purpose_id = %s ORDER BY recorded_at DESC, id DESC LIMIT 1) AS own UNION ALL "
    f"SELECT * FROM (SELECT given, recorded_at, id FROM {_RECORDS} WHERE workspace_id = %s AND contact_id IS NULL "
    f"AND purpose_id = %s AND visitor_id IN (SELECT id FROM {_VISITORS} WHERE workspace_id = %s AND contact_id = %s) "
    "ORDER BY recorded_at DESC, id DESC LIMIT 1) AS devices"
    ") AS latest ORDER BY recorded_at DESC, id DESC LIMIT 1"
)
PURPOSE_ID_CACHE_SECONDS = 60.0
_purpose_ids: dict[tuple[int, str], tuple[float, int | None]] = {}


def _purpose_id(cursor, workspace_id: int, key: str) -> int | None:
    """Return the stored purpose's id (cached a minute per process: keys never change, ids never move)."""
    now = time.monotonic()
    found = _purpose_ids.get((workspace_id, key))
    if found is not None and found[0] > now:
        return found[1]
    cursor.execute(_PURPOSE_ID_SQL, [workspace_id, key])
    row = cursor.fetchone()
    if len(_purpose_ids) > 10_000:
        _purpose_ids.clear()
    _purpose_ids[(workspace_id, key)] = (now + PURPOSE_ID_CACHE_SECONDS, row[0] if row else None)
    return row[0] if row else None


def visitor_decision(visitor_id: int, purpose_key: str) -> bool | None:
    """Return visitor_consents(visitor_id)[purpose_key].given, None when no record decides: in 2-3 indexed reads.

    Raw statements on the region database of the workspace in context, each filtered on its id.
    """
    workspace = require_workspace()
    with connections[workspace.db_alias].cursor() as cursor:
        purpose_id = _purpose_id(cursor, workspace.id, purpose_key)
        if purpose_id is None:
            return None  # a standard purpose never stored has no records
        cursor.execute(_CONTACT_OF_VISITOR_SQL, [workspace.id, visitor_id])
        row = cursor.fetchone()
        contact_id = row[0] if row else None
        if contact_id is None:
            cursor.execute(_LATEST_OF_VISITOR_SQL, [workspace.id, visitor_id, purpose_id])
        else:
            cursor.execute(
                _LATEST_OF_CONTACT_SQL,
                [workspace.id, contact_id, purpose_id, workspace.id, purpose_id, workspace.id, contact_id],
            )
        row = cursor.fetchone()
    return None if row is None else bool(row[0])


def consent_history(contact_id: int) -> QuerySet[ConsentRecord]:
    """Return the contact's records (its identified visitors' included), newest first."""
    return ConsentRecord.objects.filter(_of_contact(contact_id)).order_by("-recorded_at", "-id")


# ==============================================================================================
# The question every outbound use asks


def _allowed_by(purpose: Purpose, decision: Decision | None) -> tuple[bool, str]:
    if not purpose.active:
        return False, "purpose_inactive"
    if purpose.lawful_basis == LawfulBasis.CONSENT:
        if decision is None:
            return False, "no_consent"
        return (True, "") if decision.given else (False, "withdrawn")
    if decision is not None and not decision.given:
        return False, "objected"
    return True, ""


def _log_refusal(contact_id: object, purpose_key: str, use: str, reason: str, *, count: int = 1) -> None:
    # Ids and codes only: no value of the person (decision 0018).
    workspace_id = require_workspace().id
    logger.info(
        "purpose refused: workspace=%s contact=%s purpose=%s use=%s reason=%s count=%s",
        workspace_id, contact_id, purpose_key, use, reason, count,
        extra={"workspace_id": workspace_id, "contact_id": contact_id, "purpose": purpose_key, "use": use,
               "reason": reason, "count": count},
    )  # fmt: skip


def purpose_allowed(contact_id: int, purpose_key: str, *, use: str) -> bool:
    """Return whether the contact may be processed for the purpose; log the refusal when not.

    use names the outbound use asking ("email:42", "webhook:7", "tracking:profile", "export"),
    for the log. Consent purposes need a current "given" record (a device's counts once it is
    identified as the contact); other lawful bases are allowed unless the contact objected
    (latest record withdrawn). An inactive purpose allows nothing. Raise Purpose.DoesNotExist
    for a key the workspace does not have.
    """
    purpose = purpose_by_key(purpose_key)
    latest = None
    if purpose.pk is not None:
        latest = next(reversed(_records_of(contact_id, purpose.pk, latest_only=True)), None)
    decision = (
        None
        if latest is None
        else Decision(latest.given, latest.recorded_at, latest.method, latest.notice_version, latest.signal)
    )
    allowed, reason = _allowed_by(purpose, decision)
    if not allowed:
        _log_refusal(contact_id, purpose.key, use, reason)
    return allowed


def visitor_allowed(visitor_id: int, purpose_key: str, *, use: str) -> bool:
    """Return whether a tracked device may be processed for the purpose (the tracker asks before profiling).

    The same rules as purpose_allowed, over visitor_consents(visitor_id); refusals are logged with
    the visitor id in place of a contact's.
    """
    purpose = purpose_by_key(purpose_key)
    allowed, reason = _allowed_by(purpose, visitor_consents(visitor_id).get(purpose.key))
    if not allowed:
        _log_refusal(f"visitor:{visitor_id}", purpose.key, use, reason)
    return allowed


# ==============================================================================================
# The same question for a million contacts at once


def _latest_records(purpose_id: int, among: list[int] | None = None) -> QuerySet[ConsentRecord]:
    """Return the purpose's records that no later record of the same subject supersedes, annotated with subject.

    among limits them to the records about those contacts (by either column, so the indexes serve).
    """
    # "A later record of the same subject", as two index-served probes: its own records, and those of the
    # devices identified as it. One OR across the visitor join would scan the purpose's records per row.
    after = Q(recorded_at__gt=OuterRef("recorded_at")) | Q(recorded_at=OuterRef("recorded_at"), id__gt=OuterRef("id"))
    of_purpose = ConsentRecord.objects.filter(purpose_id=purpose_id)
    later_own = of_purpose.filter(after, contact_id=OuterRef("subject"))
    # From the subject's devices (visitors' contact index) to their records (visitor_id = each one, the
    # ledger's visitor index): equalities both, so no engine ranges over the purpose's records per row.
    outer_after = Q(recorded_at__gt=OuterRef(OuterRef("recorded_at"))) | Q(
        recorded_at=OuterRef(OuterRef("recorded_at")), id__gt=OuterRef(OuterRef("id"))
    )
    device_later = of_purpose.filter(outer_after, contact_id__isnull=True, visitor_id=OuterRef("id"))
    later_device = Visitor.objects.filter(contact_id=OuterRef("subject")).filter(Exists(device_later))
    records = of_purpose
    if among is not None:
        devices = Visitor.objects.filter(contact_id__in=among).values("id")
        records = records.filter(
            Q(contact_id__in=among) | Q(contact_id__isnull=True, visitor_id__isnull=False, visitor_id__in=devices)
        )
    return (
        records.annotate(subject=Coalesce(F("contact_id"), F("visitor__contact_id")))
        .filter(subject__isnull=False)
        .filter(~Exists(later_own), ~Exists(later_device))
    )


def subjects_deciding(purpose_key: str, *, given: bool, among: list[int] | None = None) -> QuerySet:
    """Return a values queryset of the contact ids whose current decision for the purpose is given (or withdrawn).

    For a subquery: Contact.objects.filter(id__in=subjects_deciding("tracking", given=True)).
    among limits the answer to those contact ids. Raise Purpose.DoesNotExist for a key the
    workspace does not have.
    """
    purpose = purpose_by_key(purpose_key)
    if purpose.pk is None:
        return ConsentRecord.objects.none().values("contact_id")
    return _latest_records(purpose.pk, among).filter(given=given).values("subject")  # type: ignore[misc]  # the annotation


def allowed_condition(purpose_key: str, *, field: str = "id", among: list[int] | None = None) -> Q:
    """Return the condition, on a queryset whose `field` holds contact ids, that the purpose is allowed.

    Contact.objects.filter(allowed_condition("marketing_email")) keeps, in one statement, the
    contacts purpose_allowed would allow; SegmentMembership.objects.filter(allowed_condition(...,
    field="contact_id")) the members. Not logged per contact: the caller logs its own count.
    among: the condition will only be asked about those contact ids (a segment's incremental
    refresh), so only their records are read. Raise Purpose.DoesNotExist for a key the workspace
    does not have.
    """
    purpose = purpose_by_key(purpose_key)
    if not purpose.active:
        return Q(pk__in=[])
    if purpose.lawful_basis == LawfulBasis.CONSENT:
        return Q(**{f"{field}__in": subjects_deciding(purpose_key, given=True, among=among)})
    return ~Q(**{f"{field}__in": subjects_deciding(purpose_key, given=False, among=among)})


def contacts_allowed(contact_ids: Iterable[int], purpose_key: str, *, use: str) -> set[int]:
    """Return which of contact_ids the purpose allows (in chunks); log one line with how many were refused."""
    ids = sorted({int(i) for i in contact_ids})
    purpose = purpose_by_key(purpose_key)
    allowed: set[int] = set()
    if purpose.active:
        consent = purpose.lawful_basis == LawfulBasis.CONSENT
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            subjects = subjects_deciding(purpose_key, given=consent, among=chunk)
            deciding = {int(s) for s in subjects.values_list("subject", flat=True)}
            allowed.update(deciding if consent else set(chunk) - deciding)
    refused = len(ids) - len(allowed)
    if refused:
        _log_refusal("many", purpose.key, use, "not_allowed", count=refused)
    return allowed
