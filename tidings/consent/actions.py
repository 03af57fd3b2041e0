"""Every write of the consent ledger: purposes, privacy notices, and decisions recorded one or many at a time.

Each action takes the principal that acts, checks its permission in the workspace in context
(privacy:manage for purposes and notices, consent:record for decisions), runs in one transaction
on the region database and writes an audit entry holding ids and counts only. A decision is
appended, never changed: the current state is derived from the ledger (selectors.py).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from tidings.accounts.permissions import Principal, require
from tidings.audit.actions import audit_record, truncate_ip
from tidings.consent.event_types import CONSENT_GIVEN, CONSENT_WITHDRAWN
from tidings.consent.models import (
    STANDARD_PURPOSES,
    ConsentRecord,
    Method,
    PrivacyNotice,
    Purpose,
    Signal,
)
from tidings.consent.subjects import existing_contacts
from tidings.events import store
from tidings.events.models import Visitor
from tidings.events.registry import strip_url
from tidings.events.store import EventRow
from tidings.privacy.models import LawfulBasis
from tidings.tenancy.context import require_workspace

__all__ = [
    "CURRENT_NOTICE",
    "ConsentInput",
    "Method",
    "Signal",
    "SubjectNotFound",
    "consent_record",
    "consent_record_many",
    "notice_publish",
    "purpose_create",
    "purpose_update",
    "purposes_ensure_standard",
]

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_NAME = 120
MAX_DESCRIPTION = 2000
MAX_TITLE = 200
MAX_URL = 500
MAX_NOTICE_TEXT = 100_000
MAX_SOURCE = 200
MAX_WORDING = 5000
MAX_BATCH = 10_000  # decisions in one consent_record_many call
FUTURE_SLACK = datetime.timedelta(minutes=5)  # clocks of callers that say when a decision was made


class SubjectNotFound(ObjectDoesNotExist):
    """The contact or visitor a decision names is not in this workspace (or does not exist): a 404 everywhere."""


def _atomic():
    return transaction.atomic(using=require_workspace().db_alias)


def _require(principal: Principal, permission: str) -> Principal:
    return require(principal, permission, workspace_id=require_workspace().id)


def _user_id(principal: Principal) -> int | None:
    return None if principal.is_system else getattr(principal.user, "pk", None)


# ==============================================================================================
# Purposes


def _ensure_standard() -> list[str]:
    """Create the standard purposes the workspace lacks (idempotent, races ignored); return the keys created."""
    have = set(Purpose.objects.filter(key__in=list(STANDARD_PURPOSES)).values_list("key", flat=True))
    missing = [key for key in STANDARD_PURPOSES if key not in have]
    if missing:
        Purpose.objects.bulk_create(
            [
                Purpose(
                    key=key,
                    name=STANDARD_PURPOSES[key][0],
                    description=STANDARD_PURPOSES[key][1],
                    lawful_basis=LawfulBasis.CONSENT,
                )  # fmt: skip
                for key in missing
            ],
            ignore_conflicts=True,
        )
    return missing


def purposes_ensure_standard(*, principal: Principal, request=None) -> list[str]:
    """Give the workspace the standard purposes it lacks (marketing email, tracking, profiling, sharing).

    Idempotent: return the keys created, [] when all exist. Called when a workspace is created;
    the recording actions call it too, so an older workspace gets them on first use.
    """
    _require(principal, "privacy:manage")
    with _atomic():
        created = _ensure_standard()
        if created:
            audit_record("consent.purposes_created", principal=principal, request=request, target_type="purpose",
                         data={"keys": created})  # fmt: skip
    return created


def _checked_purpose(name: Any, description: Any, lawful_basis: Any) -> dict:
    errors: dict[str, list[str]] = {}
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME:
        errors["name"] = [f"a name of 1 to {MAX_NAME} characters"]
    description = description.strip() if isinstance(description, str) else ""
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = [f"at most {MAX_DESCRIPTION} characters"]
    if lawful_basis not in LawfulBasis.values:
        errors["lawful_basis"] = [f"one of {', '.join(LawfulBasis.values)}"]
    if errors:
        raise ValidationError(errors, code="invalid")
    return {"name": name, "description": description, "lawful_basis": lawful_basis}


def purpose_create(
    *,
    principal: Principal,
    key: Any,
    name: Any,
    lawful_basis: Any = LawfulBasis.CONSENT,
    description: Any = "",
    active: bool = True,
    request=None,
) -> Purpose:
    """Create a purpose of the workspace; raise ValidationError keyed by field (a taken or malformed key included).

    The key (lowercase letters, digits and _, starting with a letter) never changes: forms,
    the tracker and outbound uses name the purpose by it.
    """
    _require(principal, "privacy:manage")
    fields = _checked_purpose(name, description, lawful_basis)
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise ValidationError({"key": ["lowercase letters, digits and _ (at most 64), starting with a letter"]})
    with _atomic():
        _ensure_standard()
        if Purpose.objects.filter(key=key).exists():
            raise ValidationError({"key": ["another purpose has this key"]})
        purpose = Purpose.objects.create(key=key, active=bool(active), **fields)
        audit_record("consent.purpose_created", principal=principal, request=request, target_type="purpose",
                     target_id=purpose.pk, data={"key": key, "lawful_basis": purpose.lawful_basis})  # fmt: skip
    return purpose


def purpose_update(purpose_id: int, *, principal: Principal, request=None, **changes: Any) -> Purpose:
    """Change a purpose's name, description, lawful basis or whether it is active (its key never changes).

    Raise Purpose.DoesNotExist for an id not in this workspace, ValidationError for bad values or
    an attribute that cannot change. An inactive purpose allows nothing (selectors.purpose_allowed).
    """
    _require(principal, "privacy:manage")
    unknown = set(changes) - {"name", "description", "lawful_basis", "active"}
    if unknown:
        raise ValidationError({"purpose": [f"{name} cannot be changed" for name in sorted(unknown)[:5]]})
    with _atomic():
        purpose = Purpose.objects.select_for_update().get(pk=purpose_id)
        fields = _checked_purpose(
            changes.get("name", purpose.name),
            changes.get("description", purpose.description),
            changes.get("lawful_basis", purpose.lawful_basis),
        )
        for attribute, value in fields.items():
            setattr(purpose, attribute, value)
        if "active" in changes:
            purpose.active = bool(changes["active"])
        purpose.updated_at = timezone.now()
        purpose.save()
        audit_record("consent.purpose_updated", principal=principal, request=request, target_type="purpose",
                     target_id=purpose.pk, data={"changed": sorted(changes), "lawful_basis": purpose.lawful_basis,
                                                 "active": purpose.active})  # fmt: skip
    return purpose


# ==============================================================================================
# Privacy notices


def notice_publish(*, principal: Principal, title: Any, url: Any = "", text: Any = "", request=None) -> PrivacyNotice:
    """Publish the next version of the workspace's privacy notice (a web address, a text, or both).

    The new version becomes the current one: decisions recorded from now on default to it.
    Raise ValidationError keyed by field (no title, neither address nor text, an address that is not http(s)).
    """
    _require(principal, "privacy:manage")
    errors: dict[str, list[str]] = {}
    title = title.strip() if isinstance(title, str) else ""
    if not title or len(title) > MAX_TITLE:
        errors["title"] = [f"a title of 1 to {MAX_TITLE} characters"]
    url = url.strip() if isinstance(url, str) else ""
    if url and (not url.startswith(("https://", "http://")) or len(url) > MAX_URL or any(c.isspace() for c in url)):
        errors["url"] = [f"an http(s) address of at most {MAX_URL} characters"]
    text = text.strip() if isinstance(text, str) else ""
    if len(text) > MAX_NOTICE_TEXT:
        errors["text"] = [f"at most {MAX_NOTICE_TEXT} characters"]
    if not url and not text and "url" not in errors:
        errors["url"] = ["give the notice's address or its text"]
    if errors:
        raise ValidationError(errors, code="invalid")
    try:
        with _atomic():
            latest = PrivacyNotice.objects.aggregate(latest=Max("version"))["latest"] or 0
            notice = PrivacyNotice.objects.create(
                version=latest + 1, title=title, url=url, text=text, published_by=_user_id(principal)
            )
            audit_record(
                "consent.notice_published",
                principal=principal,
                request=request,
                target_type="privacy_notice",
                target_id=notice.pk,
                data={"version": notice.version},
            )
    except IntegrityError as error:  # two publications at once: the unique version refused the second
        raise ValidationError({"title": ["another version was published at the same moment; try again"]}) from error
    return notice


# ==============================================================================================
# Decisions


class _CurrentNotice:
    def __repr__(self) -> str:
        return "CURRENT_NOTICE"


# The default of notice_version: the notice current when the decision is recorded (None is "no notice").
CURRENT_NOTICE: Any = _CurrentNotice()


@dataclass(frozen=True, kw_only=True)
class ConsentInput:
    """One decision to record (consent_record_many); the fields mean what consent_record's arguments do."""

    purpose: str
    given: bool
    method: str
    source: str = ""
    contact_id: int | None = None
    visitor_id: int | None = None
    ip: str | None = None
    notice_version: int | None = CURRENT_NOTICE
    signal: str | None = None
    wording: str | None = None
    recorded_at: datetime.datetime | None = None


def _clean_source(source: Any) -> str:
    source = source.strip() if isinstance(source, str) else ""
    if source.startswith(("https://", "http://")):
        source = strip_url(source)  # a page's query string and fragment may carry personal values
    return source[:MAX_SOURCE]


def _checked(item: ConsentInput, purposes: Mapping[str, Purpose], notices: set[int], current: int | None,
             now: datetime.datetime) -> dict:  # fmt: skip
    """Return the row of one decision, its values checked; raise ValidationError keyed by argument."""
    errors: dict[str, list[str]] = {}
    purpose = purposes.get(item.purpose) if isinstance(item.purpose, str) else None
    if purpose is None:
        errors["purpose"] = ["no purpose of this workspace has this key"]
    elif not purpose.active:
        errors["purpose"] = ["this purpose is not active"]
    if not isinstance(item.given, bool):
        errors["given"] = ["true (given) or false (withdrawn)"]
    if item.method not in Method.values:
        errors["method"] = [f"one of {', '.join(Method.values)}"]
    if item.signal is not None:
        if item.signal not in Signal.values:
            errors["signal"] = [f"one of {', '.join(Signal.values)}"]
        elif item.given is True:
            errors["signal"] = ["a browser signal is a refusal: record it with given false"]
    if item.contact_id is None and item.visitor_id is None:
        errors["contact_id"] = ["a decision is about a contact or a visitor"]
    notice_version = current if item.notice_version is CURRENT_NOTICE else item.notice_version
    if notice_version is not None and notice_version not in notices:
        errors["notice_version"] = ["no privacy notice of this workspace has this version"]
    wording = item.wording if isinstance(item.wording, str) else ""
    if len(wording) > MAX_WORDING:
        errors["wording"] = [f"at most {MAX_WORDING} characters"]
    at = item.recorded_at or now
    if at > now + FUTURE_SLACK:
        errors["recorded_at"] = ["a decision cannot be recorded in the future"]
    if errors:
        raise ValidationError(errors, code="invalid")
    return {
        "purpose_id": purpose.pk,  # type: ignore[union-attr]  # checked above
        "purpose_key": purpose.key,  # type: ignore[union-attr]
        "given": item.given,
        "contact_id": item.contact_id,
        "visitor_id": item.visitor_id,
        "notice_version": notice_version,
        "recorded_at": at,
        "method": item.method,
        "source": _clean_source(item.source),
        "ip_network": truncate_ip(item.ip) if isinstance(item.ip, str) else "",
        "signal": item.signal,
        "wording": wording,
    }


def _check_subjects(items: list[ConsentInput]) -> None:
    """Raise SubjectNotFound when a decision names a contact or visitor the workspace does not have."""
    contacts = {int(i.contact_id) for i in items if i.contact_id is not None}
    visitors = {int(i.visitor_id) for i in items if i.visitor_id is not None}
    if contacts - existing_contacts(contacts):
        raise SubjectNotFound("No such contact.")
    if visitors and len(set(Visitor.objects.filter(pk__in=list(visitors)).values_list("pk", flat=True))) != len(
        visitors
    ):
        raise SubjectNotFound("No such visitor.")


def _write(items: list[ConsentInput]) -> list[ConsentRecord]:
    """Check, append and write the events of items in the current transaction; return the records."""
    wanted = {i.purpose for i in items if isinstance(i.purpose, str)}
    purposes = {p.key: p for p in Purpose.objects.filter(key__in=wanted)}
    if (wanted & set(STANDARD_PURPOSES)) - set(purposes) and _ensure_standard():  # an older workspace's first use
        purposes = {p.key: p for p in Purpose.objects.filter(key__in=wanted)}
    notices = set(PrivacyNotice.objects.values_list("version", flat=True))
    current = max(notices) if notices else None
    now = timezone.now()
    rows = []
    for index, item in enumerate(items):
        try:
            rows.append(_checked(item, purposes, notices, current, now))
        except ValidationError as error:
            if len(items) == 1:
                raise
            raise ValidationError(
                {f"{index}.{field}": messages for field, messages in error.message_dict.items()}
            ) from error
    _check_subjects(items)
    keys = [row.pop("purpose_key") for row in rows]
    records = ConsentRecord.objects.bulk_create([ConsentRecord(**row) for row in rows])
    store.write(
        EventRow(
            type=CONSENT_GIVEN if record.given else CONSENT_WITHDRAWN,
            contact_id=record.contact_id,
            visitor_id=record.visitor_id,
            at=record.recorded_at,
            data={
                "purpose": key,
                "notice_version": record.notice_version,
                "method": record.method,
                "record_id": record.pk,
            },  # fmt: skip
        )
        for record, key in zip(records, keys, strict=True)
    )
    return records


def consent_record(
    *,
    purpose: str,
    given: bool,
    method: str,
    principal: Principal,
    source: str = "",
    contact_id: int | None = None,
    visitor_id: int | None = None,
    ip: str | None = None,
    notice_version: int | None = CURRENT_NOTICE,
    signal: str | None = None,
    wording: str | None = None,
    recorded_at: datetime.datetime | None = None,
    request=None,
) -> ConsentRecord:
    """Append one decision to the ledger and write its consent.given / consent.withdrawn event; return the record.

    purpose is the purpose's key; given False records a withdrawal (or an objection, for a
    purpose under legitimate interest); the subject is contact_id, visitor_id (an anonymous
    device, counted for its contact once identified) or both. notice_version defaults to the
    current notice (None when none is published; pass None to record none). source says where
    (a form id, a site id, a page address, stripped of its query string); ip is truncated to
    its network before storage; signal names the browser signal honoured (gpc, dnt) and only
    goes with given False; wording is the text the person was shown.

    Needs consent:record. Raise SubjectNotFound (an ObjectDoesNotExist) for a contact or visitor
    not in this workspace, ValidationError keyed by argument otherwise.
    """
    _require(principal, "consent:record")
    item = ConsentInput(purpose=purpose, given=given, method=method, source=source, contact_id=contact_id,
                        visitor_id=visitor_id, ip=ip, notice_version=notice_version, signal=signal, wording=wording,
                        recorded_at=recorded_at)  # fmt: skip
    with _atomic():
        (record,) = _write([item])
        audit_record(
            "consent.recorded",
            principal=principal,
            request=request,
            target_type="contact" if record.contact_id is not None else "visitor",
            target_id=record.contact_id if record.contact_id is not None else record.visitor_id,
            data={
                "record": record.pk,
                "purpose": purpose,
                "given": record.given,
                "method": record.method,
                "signal": record.signal or "",
            },  # fmt: skip
        )
    return record


def consent_record_many(items: Iterable[ConsentInput | Mapping[str, Any]], *, principal: Principal,
                        request=None) -> list[ConsentRecord]:  # fmt: skip
    """Append many decisions at once (imports, batches from the tracker): all or none; return the records.

    Each item is a ConsentInput or a dict of its fields. One audit entry counts them. Raise
    ValidationError keyed by "<index>.<argument>" for the first item that does not check (nothing is
    written), SubjectNotFound when one names a contact or visitor not in this workspace, and
    ValidationError for more than MAX_BATCH items.
    """
    _require(principal, "consent:record")
    checked: list[ConsentInput] = []
    for item in items:
        if len(checked) >= MAX_BATCH:
            raise ValidationError({"items": [f"at most {MAX_BATCH} decisions in one call"]})
        checked.append(item if isinstance(item, ConsentInput) else _input(item, len(checked)))
    if not checked:
        return []
    with _atomic():
        records = _write(checked)
        audit_record(
            "consent.recorded_many",
            principal=principal,
            request=request,
            target_type="purpose",
            data={
                "given": sum(1 for r in records if r.given),
                "withdrawn": sum(1 for r in records if not r.given),
                "methods": sorted({r.method for r in records}),
            },
        )
    return records


def _input(item: Mapping[str, Any], index: int) -> ConsentInput:
    try:
        return ConsentInput(**item)
    except TypeError as error:
        raise ValidationError({f"{index}": ["unknown or missing arguments"]}) from error
