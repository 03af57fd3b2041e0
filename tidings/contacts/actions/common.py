"""Shared plumbing of the contacts actions: the region database, transactions, audit and the permission check."""

from __future__ import annotations

from django.db import transaction

from tidings.accounts.permissions import Principal, require
from tidings.audit.actions import audit_record
from tidings.tenancy.context import require_workspace

BATCH_SIZE = 1000

MAX_TAG_NAME = 100  # Tag.name's length

MAX_LABEL = 120  # ContactField.label's length


IDENTIFYING_ALIASES = ("email", "firstname", "lastname", "phone", "mobile")

MAX_EVENT_DATA_BYTES = 256

DNC_COMMENT_MAX = 255

OWNER = "owner"  # the contact field holding its owner's user id (a member of the workspace)

STAGE = "stage"  # the contact field holding its stage's id (a Stage of the workspace)

_COLUMN_EMPTY = {"owner_id": None, "stage_id": None, "points": 0, "last_active": None, "date_identified": None}


def _db() -> str:
    return require_workspace().db_alias


def _atomic():
    return transaction.atomic(using=_db())


def _audit(action: str, *, principal=None, request=None, target_type: str = "", target_id: object = "", **data):
    audit_record(action, principal=principal, request=request, target_type=target_type, target_id=target_id, data=data)


def _require(principal: Principal, permission: str) -> Principal:
    """Return principal if it acts in the workspace in context and holds permission.

    Raise PermissionDenied otherwise (every surface answers 403), TypeError without a principal,
    NoWorkspaceSet without a workspace. Each action calls it first, before it reads or writes.
    """
    return require(principal, permission, workspace_id=require_workspace().id)


def _member_id(principal: Principal) -> int | None:
    """Return the user id of the member acting (events name them on the timeline), None for API clients and tasks."""
    if principal.is_system or principal.user is None:
        return None
    return getattr(principal.user, "pk", None)
