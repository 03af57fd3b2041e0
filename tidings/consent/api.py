"""The native API of the consent ledger under /api/v1/: a contact's records and state, recording, purposes, notices.

Reading needs privacy:view, recording consent:record (the narrow permission a tracker or a form
integration's token holds). A contact or visitor of another workspace is a 404 exactly like one
that does not exist; invalid values a 422 keyed by field, whose messages never repeat a value.
"""

from __future__ import annotations

import datetime

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tidings.accounts.decorators import require_permission
from tidings.api.errors import NotFound, found
from tidings.api.pagination import paginate_keyset
from tidings.api.types import Id, Int32
from tidings.consent import actions, selectors
from tidings.consent.models import Method, Signal
from tidings.consent.subjects import existing_contacts
from tidings.pagination import DEFAULT_LIMIT, MAX_LIMIT
from tidings.privacy.models import LawfulBasis

router = Router(tags=["consent"])

VIEW, RECORD = "privacy:view", "consent:record"


def _contact(contact_id: int) -> int:
    if contact_id not in existing_contacts([contact_id]):
        raise NotFound("Not found.")
    return contact_id


# ==============================================================================================
# Schemas


class ConsentRecordOut(Schema):
    id: int
    purpose: str = Field(description="The purpose's key.")
    given: bool = Field(description="true: consent given; false: withdrawn (or objected to).")
    contact_id: int | None
    visitor_id: int | None = Field(description="The tracked device that decided, when it was one.")
    recorded_at: datetime.datetime
    method: Method
    source: str
    notice_version: int | None
    ip_network: str = Field(description="The network of the address the decision came from, never the address.")
    signal: Signal | None = Field(description="The browser signal honoured as a refusal (gpc, dnt).")
    wording: str


class ConsentRecordPage(Schema):
    items: list[ConsentRecordOut]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null on the last page.")


class ConsentIn(Schema):
    purpose: str = Field(..., max_length=64, description="The purpose's key (GET /api/v1/purposes).")
    given: bool
    contact_id: Id | None = None
    visitor_id: Id | None = Field(None, description="A tracked device's id, when the decision came from one.")
    method: Method = Method.API
    source: str = Field("", max_length=2000, description="Where: a form id, a site id, a page address...")
    ip: str | None = Field(None, max_length=64, description="Stored truncated to its network.")
    notice_version: Int32 | None = Field(
        None, description="The privacy notice the person saw; absent: the current one; null: none."
    )
    signal: Signal | None = None
    wording: str | None = Field(None, max_length=5000, description="The text the person was shown.")


class DecisionOut(Schema):
    purpose: str
    given: bool
    at: datetime.datetime
    method: Method
    notice_version: int | None
    signal: Signal | None


class ConsentStateOut(Schema):
    contact_id: int
    decisions: list[DecisionOut] = Field(
        description="The latest decision per purpose; a purpose never decided is absent."
    )


class PurposeOut(Schema):
    key: str
    name: str
    description: str
    lawful_basis: LawfulBasis
    active: bool


class NoticeOut(Schema):
    version: int
    title: str
    url: str
    text: str
    published_at: datetime.datetime
    current: bool


# ==============================================================================================
# Endpoints


def _record_out(record, keys: dict[int, str]) -> dict:
    return {
        "id": record.pk,
        "purpose": keys.get(record.purpose_id, ""),
        "given": record.given,
        "contact_id": record.contact_id,
        "visitor_id": record.visitor_id,
        "recorded_at": record.recorded_at,
        "method": record.method,
        "source": record.source,
        "notice_version": record.notice_version,
        "ip_network": record.ip_network,
        "signal": record.signal,
        "wording": record.wording,
    }


@router.get("/consents", response=ConsentRecordPage, summary="List a contact's consent records")
@require_permission(VIEW)
def list_consents(
    request,
    contact_id: Id,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
):
    """List the ledger's records about a contact, newest first (needs privacy:view); 404 for another workspace's.

    The records of the devices identified as the contact are included.
    """
    records = selectors.consent_history(_contact(contact_id))
    page = paginate_keyset(records.order_by(), ordering="-id", limit=limit, cursor=cursor)
    keys = selectors.purpose_keys(r.purpose_id for r in page["items"])
    return {"items": [_record_out(r, keys) for r in page["items"]], "next_cursor": page["next_cursor"]}


@router.post("/consents", response={201: ConsentRecordOut}, summary="Record consent given or withdrawn")
@found
@require_permission(RECORD)
def record_consent(request, payload: ConsentIn):
    """Append a decision to the ledger (needs consent:record); 404 for a contact or visitor not in this workspace.

    422 for an unknown or inactive purpose, a notice version never published, a browser signal with
    given true, or neither contact_id nor visitor_id.
    """
    given_notice = "notice_version" in payload.model_fields_set
    notice_version = payload.notice_version if given_notice else actions.CURRENT_NOTICE
    record = actions.consent_record(
        principal=request.principal,
        request=request,
        purpose=payload.purpose,
        given=payload.given,
        contact_id=payload.contact_id,
        visitor_id=payload.visitor_id,
        method=payload.method,
        source=payload.source,
        ip=payload.ip,
        signal=payload.signal,
        wording=payload.wording,
        notice_version=notice_version,
    )
    return Status(201, _record_out(record, {record.purpose_id: payload.purpose}))


@router.get("/consents/state", response=ConsentStateOut, summary="A contact's current decision per purpose")
@require_permission(VIEW)
def consent_state(request, contact_id: Id):
    """Return the latest decision per purpose, derived from the ledger (needs privacy:view)."""
    state = selectors.consent_state(_contact(contact_id))
    return {
        "contact_id": contact_id,
        "decisions": [
            {
                "purpose": key,
                "given": d.given,
                "at": d.at,
                "method": d.method,
                "notice_version": d.notice_version,
                "signal": d.signal,
            }  # fmt: skip
            for key, d in sorted(state.items())
        ],
    }


@router.get("/purposes", response=list[PurposeOut], summary="List the workspace's purposes")
@require_permission(VIEW)
def list_purposes(request):
    """List the purposes of processing with their lawful basis, the standard ones first (needs privacy:view)."""
    return [
        {
            "key": p.key,
            "name": p.name,
            "description": p.description,
            "lawful_basis": p.lawful_basis,
            "active": p.active,
        }  # fmt: skip
        for p in selectors.purposes()
    ]


@router.get("/notices", response=list[NoticeOut], summary="List the versions of the privacy notice")
@require_permission(VIEW)
def list_notices(request):
    """List the privacy notice's versions, newest (the current one) first (needs privacy:view)."""
    notices = list(selectors.notices()[:500])
    return [
        {
            "version": n.version,
            "title": n.title,
            "url": n.url,
            "text": n.text,
            "published_at": n.published_at,
            "current": index == 0,
        }  # fmt: skip
        for index, n in enumerate(notices)
    ]
