"""The native API of the privacy centre under /api/v1/privacy/: retention rules, records of processing,
the register of recipients and the transfer log (with the check every outbound flow makes).

Reading needs privacy:view, changing privacy:manage; asking for a transfer contacts:view (a flow
that sends contacts' data can see them). A recipient of another workspace is a 404 exactly like
one that does not exist; invalid values a 422 keyed by field, whose messages never repeat a value.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tidings.accounts.decorators import require_permission
from tidings.api.errors import Unprocessable, found
from tidings.api.pagination import paginate_keyset
from tidings.api.types import Id
from tidings.pagination import DEFAULT_LIMIT, MAX_LIMIT
from tidings.privacy.retention import DataClass
from tidings.privacy_centre import actions, selectors
from tidings.privacy_centre.models import RecipientKind, Safeguard

router = Router(tags=["privacy centre"])

VIEW, MANAGE = "privacy:view", "privacy:manage"
MAX_TRANSFER = 10_000  # contact ids in one transfer check


class RetentionRuleOut(Schema):
    data_class: DataClass
    name: str
    days: int | None = Field(description="Days kept; null: without limit.")
    default_days: int | None
    is_default: bool
    enforced: bool = Field(description="Whether the daily job deletes rows of this class.")
    kept_beyond: list[str] = Field(description="What is kept of deleted rows, per store.")
    fixed_reason: str = Field(description="Why the period cannot be changed, when it cannot.")


class RetentionRuleIn(Schema):
    days: int | None = Field(None, ge=1, le=36_500, description="Days to keep; null: without limit.")


def _rule_out(rule) -> dict:
    return {"data_class": rule.data_class, "name": rule.label, "days": rule.days, "default_days": rule.default_days,
            "is_default": rule.is_default, "enforced": rule.enforced, "kept_beyond": list(rule.aggregates),
            "fixed_reason": rule.fixed_reason}  # fmt: skip


@router.get("/privacy/retention", response=list[RetentionRuleOut], summary="List the retention rules")
@require_permission(VIEW)
def list_retention_rules(request):
    """List every data class's retention period, defaults included (needs privacy:view)."""
    return [_rule_out(rule) for rule in selectors.retention_rules()]


@router.put("/privacy/retention/{data_class}", response=RetentionRuleOut, summary="Set a retention period")
@require_permission(MANAGE)
def set_retention_rule(request, data_class: DataClass, payload: RetentionRuleIn):
    """Set how many days a class is kept (needs privacy:manage); 422 for the audit log, whose period is fixed."""
    try:
        actions.retention_rule_set(data_class, payload.days, principal=request.principal, request=request)
    except ValidationError as error:
        raise Unprocessable.of(error) from error
    return next(_rule_out(r) for r in selectors.retention_rules() if r.data_class == data_class)


@router.get("/privacy/records", summary="The records of processing (GDPR art. 30)")
@require_permission(VIEW)
def records_of_processing(request) -> dict:
    """Return the workspace's purposes, categories of data, recipients, retention and transfers (privacy:view)."""
    return selectors.records_of_processing()


class RecipientIn(Schema):
    name: str = Field(max_length=120)
    kind: RecipientKind
    country: str = Field(max_length=60, description="ISO 3166-1 alpha-2 code (or the country's English name).")
    safeguard: Safeguard = Safeguard.NONE_NEEDED
    purposes: list[str] = Field(default_factory=list, max_length=50, description="Purpose keys.")
    categories: list[str] = Field(default_factory=list, max_length=50, description="Data categories.")
    description: str = Field("", max_length=2000)
    active: bool = True


class RecipientOut(Schema):
    id: int
    name: str
    kind: RecipientKind
    country: str
    safeguard: Safeguard
    purposes: list[str]
    categories: list[str]
    description: str
    active: bool
    created_at: datetime.datetime


def _recipient_out(r) -> dict:
    return {"id": r.pk, "name": r.name, "kind": r.kind, "country": r.country, "safeguard": r.safeguard,
            "purposes": list(r.purposes), "categories": list(r.categories), "description": r.description,
            "active": r.active, "created_at": r.created_at}  # fmt: skip


@router.get("/privacy/recipients", response=list[RecipientOut], summary="List the register of recipients")
@require_permission(VIEW)
def list_recipients(request):
    return [_recipient_out(r) for r in selectors.recipients()[:1000]]


@router.post("/privacy/recipients", response={201: RecipientOut}, summary="Add a recipient")
@require_permission(MANAGE)
def create_recipient(request, payload: RecipientIn):
    """Add a sub-processor, integration or webhook to the register (needs privacy:manage); 422 on bad values."""
    try:
        recipient = actions.recipient_create(principal=request.principal, request=request, **payload.dict())
    except ValidationError as error:
        raise Unprocessable.of(error) from error
    return Status(201, _recipient_out(recipient))


@router.get("/privacy/recipients/{recipient_id}", response=RecipientOut, summary="A recipient")
@found
@require_permission(VIEW)
def get_recipient(request, recipient_id: Id):
    return _recipient_out(selectors.recipient_get(recipient_id))


@router.put("/privacy/recipients/{recipient_id}", response=RecipientOut, summary="Change a recipient")
@found
@require_permission(MANAGE)
def update_recipient(request, recipient_id: Id, payload: RecipientIn):
    try:
        recipient = actions.recipient_update(recipient_id, principal=request.principal, request=request,
                                             **payload.dict())  # fmt: skip
    except ValidationError as error:
        raise Unprocessable.of(error) from error
    return _recipient_out(recipient)


@router.delete("/privacy/recipients/{recipient_id}", response={204: None}, summary="Remove a recipient")
@found
@require_permission(MANAGE)
def delete_recipient(request, recipient_id: Id):
    """Remove a recipient; one that logged transfers name stays, inactive (needs privacy:manage)."""
    actions.recipient_delete(recipient_id, principal=request.principal, request=request)
    return Status(204, None)


class TransferOut(Schema):
    id: int
    recipient_id: int
    purpose: str
    categories: list[str]
    contacts: int = Field(description="How many contacts were sent.")
    refused: int = Field(description="How many were left out: the purpose is not allowed for them.")
    use: str
    at: datetime.datetime
    actor_type: str
    actor_id: int | None


class TransferPage(Schema):
    items: list[TransferOut]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null on the last page.")


def _transfer_out(t) -> dict:
    return {"id": t.pk, "recipient_id": t.recipient_id, "purpose": t.purpose, "categories": list(t.categories),
            "contacts": t.contacts, "refused": t.refused, "use": t.use, "at": t.at, "actor_type": t.actor_type,
            "actor_id": t.actor_id}  # fmt: skip


@router.get("/privacy/transfers", response=TransferPage, summary="List the transfer log")
@require_permission(VIEW)
def list_transfers(
    request,
    recipient_id: Id | None = None,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
):
    """List transfers, newest first (needs privacy:view); counts only, never who was sent."""
    rows = selectors.transfers(recipient_id=recipient_id).order_by()
    page = paginate_keyset(rows, ordering="-id", limit=limit, cursor=cursor)
    return {"items": [_transfer_out(t) for t in page["items"]], "next_cursor": page["next_cursor"]}


class TransferIn(Schema):
    recipient_id: Id
    contact_ids: list[Id] = Field(max_length=MAX_TRANSFER)
    purpose: str = Field(max_length=64)
    categories: list[str] = Field(max_length=50)
    use: str = Field("api", max_length=64, description='The flow asking, for the log ("integration:crm").')


class TransferAllowedOut(Schema):
    allowed: list[int] = Field(description="The contact ids that may be sent; send only these.")
    refused: int


@router.post("/privacy/transfers", response={201: TransferAllowedOut}, summary="Ask for and log a transfer")
@found
@require_permission("contacts:view")
def create_transfer(request, payload: TransferIn):
    """Return which contacts may go to the recipient for the purpose, and log the transfer (counts only).

    404 for a recipient or purpose not in this workspace; 422 for a category that is not one.
    Contacts the purpose does not allow (or all, when the recipient is inactive or not registered
    for the purpose or categories) are refused and counted.
    """
    try:
        allowed = actions.transfer_contacts(payload.recipient_id, payload.contact_ids, purpose=payload.purpose,
                                            categories=payload.categories, use=payload.use,
                                            principal=request.principal)  # fmt: skip
    except ValueError as error:
        raise Unprocessable("The request is not valid.", details={"fields": {"request": [str(error)]}}) from error
    return Status(201, {"allowed": sorted(allowed), "refused": len(set(payload.contact_ids)) - len(allowed)})
