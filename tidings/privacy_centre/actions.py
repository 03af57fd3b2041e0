"""Every write of the privacy centre: retention rules and their enforcement, recipients, the transfer check.

Each action takes the principal that acts, checks its permission in the workspace in context,
runs in a transaction on the region database and audits with ids, settings and counts only.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from tidings.accounts.permissions import Principal, require
from tidings.audit.actions import audit_record
from tidings.consent import selectors as consent
from tidings.countries import country_code
from tidings.privacy.categories import DataCategory
from tidings.privacy.retention import DataClass, retention_hooks
from tidings.privacy_centre import selectors
from tidings.privacy_centre.models import (
    Recipient,
    RecipientKind,
    RetentionAggregate,
    RetentionRule,
    Safeguard,
    Transfer,
)
from tidings.tenancy.context import require_workspace

__all__ = [
    "recipient_create",
    "recipient_delete",
    "recipient_update",
    "retention_enforce",
    "retention_rule_set",
    "retention_run_request",
    "transfer_contacts",
]

BATCH_SIZE = 5000
MAX_NAME = 120
MAX_DESCRIPTION = 2000
MAX_USE = 64
MAX_LISTED = 50  # purposes or categories on one recipient


def _atomic():
    return transaction.atomic(using=require_workspace().db_alias)


def _require(principal: Principal, permission: str) -> Principal:
    return require(principal, permission, workspace_id=require_workspace().id)


def _user_id(principal: Principal) -> int | None:
    return getattr(principal.user, "pk", None)


# ==============================================================================================
# Retention


def _checked_days(data_class: Any, days: Any) -> tuple[str, int | None]:
    if data_class not in DataClass.values:
        raise ValidationError({"data_class": "Choose one of the data classes."})
    if data_class in selectors.FIXED:
        raise ValidationError({"days": "This class's period cannot be changed."})
    if days is None or days == "":
        return data_class, None
    if isinstance(days, bool) or not isinstance(days, int | str):
        raise ValidationError({"days": "Enter a whole number of days, or leave it empty to keep without limit."})
    text = str(days).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        raise ValidationError({"days": "Enter a whole number of days, or leave it empty to keep without limit."})
    value = int(text)
    if not selectors.MIN_DAYS <= value <= selectors.MAX_DAYS:
        raise ValidationError({"days": f"Enter between {selectors.MIN_DAYS} and {selectors.MAX_DAYS} days."})
    return data_class, value


def retention_rule_set(data_class: Any, days: Any, *, principal: Principal, request=None) -> RetentionRule:
    """Keep data_class for days (None: without limit) in the workspace; return the rule.

    Raise PermissionDenied without privacy:manage; ValidationError for an unknown class, a class
    whose period is fixed (the audit log) or days that are not a whole number in 1..36500.
    """
    _require(principal, "privacy:manage")
    data_class, days = _checked_days(data_class, days)
    with _atomic():
        rule, _created = RetentionRule.objects.select_for_update().get_or_create(data_class=data_class)
        before = rule.days
        rule.days, rule.updated_at, rule.updated_by = days, timezone.now(), _user_id(principal)
        rule.save()
        audit_record("privacy.retention_rule_set", principal=principal, request=request,
                     target_type="retention_rule", target_id=data_class,
                     data={"class": data_class, "days": days, "before": before})  # fmt: skip
    return rule


def _add_aggregates(data_class: str, daily) -> None:
    for (day, kind), count in daily.items():
        kind = str(kind)[:64]
        rows = RetentionAggregate.objects.filter(data_class=data_class, day=day, kind=kind)
        if not rows.update(count=F("count") + count):
            try:
                with _atomic():
                    RetentionAggregate.objects.create(data_class=data_class, day=day, kind=kind, count=count)
            except IntegrityError:  # another run created it meanwhile
                rows.update(count=F("count") + count)


def retention_enforce(
    *, principal: Principal, batch_size: int = BATCH_SIZE, now: datetime.datetime | None = None
) -> dict[str, int]:
    """Purge every data class older than the workspace's period, in batches; return rows deleted per class.

    Each hook's batch is one transaction holding the deletion and the aggregates kept of it
    (tidings.privacy.retention); one audit entry per class names the cutoff, the count and the
    number of batches. Classes kept without limit are skipped. Raise PermissionDenied without
    privacy:manage (the scheduled job acts as the system).
    """
    _require(principal, "privacy:manage")
    now = now or timezone.now()
    done: dict[str, int] = {}
    for rule in selectors.retention_rules():
        if not rule.enforced:
            continue
        assert rule.days is not None
        cutoff = selectors.retention_cutoff(rule.days, now)
        deleted, batches, per_store = 0, 0, {}
        for hook in retention_hooks(rule.data_class):
            count = 0
            for batch in hook.run(cutoff, batch_size=batch_size, principal=principal):
                _add_aggregates(rule.data_class, batch.daily)
                count += batch.deleted
                batches += 1
            per_store[hook.label] = count
            deleted += count
        with _atomic():
            audit_record("privacy.retention_enforced", principal=principal, target_type="retention_rule",
                         target_id=rule.data_class,
                         data={"class": rule.data_class, "days": rule.days, "cutoff": cutoff.isoformat(),
                               "deleted": deleted, "batches": batches, "stores": per_store})  # fmt: skip
        done[rule.data_class] = deleted
    return done


def retention_run_request(*, principal: Principal, request=None) -> None:
    """Queue the retention run of this workspace only, now, instead of waiting for the daily job.

    The run is the daily job's own task (privacy_centre.tasks.enforce_workspace_retention), queued
    after the commit and carried out by the system principal, which audits each class it purges;
    this action audits who asked. Raise PermissionDenied without privacy:manage.
    """
    _require(principal, "privacy:manage")
    workspace_id = require_workspace().id
    with _atomic():
        audit_record("privacy.retention_run_requested", principal=principal, request=request,
                     target_type="retention_rule", target_id="", data={})  # fmt: skip

        def enqueue() -> None:
            from tidings.privacy_centre.tasks import enforce_workspace_retention

            enforce_workspace_retention.enqueue(workspace_id=workspace_id)

        transaction.on_commit(enqueue, using=require_workspace().db_alias)


# ==============================================================================================
# Recipients


def _checked_recipient(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = values.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME or not name.isprintable():
        errors["name"] = f"Enter a name of at most {MAX_NAME} characters."
    if values.get("kind") not in RecipientKind.values:
        errors["kind"] = "Choose a kind of recipient."
    country = country_code(values.get("country")) if isinstance(values.get("country"), str) else None
    if country is None:
        errors["country"] = "Choose a country."
    safeguard = values.get("safeguard") or Safeguard.NONE_NEEDED
    if safeguard not in Safeguard.values:
        errors["safeguard"] = "Choose a safeguard."
    purposes = values.get("purposes") or []
    known = {p.key for p in consent.purposes()}
    if not isinstance(purposes, list | tuple) or len(purposes) > MAX_LISTED or not set(map(str, purposes)) <= known:
        errors["purposes"] = "Choose purposes the workspace has."
    categories = values.get("categories") or []
    valid = set(DataCategory.values) - {""}
    if (
        not isinstance(categories, list | tuple)
        or len(categories) > MAX_LISTED
        or not set(map(str, categories)) <= valid
    ):
        errors["categories"] = "Choose categories of personal data."
    description = values.get("description") or ""
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION or "\x00" in description:
        errors["description"] = f"Enter at most {MAX_DESCRIPTION} characters."
    if errors:
        raise ValidationError(errors)
    return {
        "name": name.strip(),  # type: ignore[union-attr]  # checked above
        "kind": values["kind"],
        "country": country,
        "safeguard": safeguard,
        "purposes": sorted(set(map(str, purposes))),
        "categories": sorted(set(map(str, categories))),
        "description": description,
        "active": bool(values.get("active", True)),
    }


def recipient_create(*, principal: Principal, request=None, **values: Any) -> Recipient:
    """Add a recipient to the register: name, kind, country, safeguard, purposes, categories, description.

    Raise PermissionDenied without privacy:manage; ValidationError keyed by field (an unknown
    purpose or category, a name already in the register).
    """
    _require(principal, "privacy:manage")
    checked = _checked_recipient(values)
    try:
        with _atomic():
            recipient = Recipient.objects.create(**checked)
            audit_record("privacy.recipient_created", principal=principal, request=request, target_type="recipient",
                         target_id=recipient.pk,
                         data={"kind": recipient.kind, "country": recipient.country})  # fmt: skip
    except IntegrityError as error:
        raise ValidationError({"name": "A recipient with this name is in the register already."}) from error
    return recipient


def recipient_update(recipient_id: int, *, principal: Principal, request=None, **values: Any) -> Recipient:
    """Change a recipient (every field is given again); raise Recipient.DoesNotExist, ValidationError."""
    _require(principal, "privacy:manage")
    checked = _checked_recipient(values)
    try:
        with _atomic():
            recipient = Recipient.objects.select_for_update().get(pk=recipient_id)
            for name, value in checked.items():
                setattr(recipient, name, value)
            recipient.updated_at = timezone.now()
            recipient.save()
            audit_record("privacy.recipient_updated", principal=principal, request=request, target_type="recipient",
                         target_id=recipient.pk, data={"fields": sorted(checked)})  # fmt: skip
    except IntegrityError as error:
        raise ValidationError({"name": "A recipient with this name is in the register already."}) from error
    return recipient


def recipient_delete(recipient_id: int, *, principal: Principal, request=None) -> None:
    """Remove a recipient with no logged transfer (one with transfers is deactivated instead: the log names it).

    Raise Recipient.DoesNotExist for one not in this workspace.
    """
    _require(principal, "privacy:manage")
    with _atomic():
        recipient = Recipient.objects.select_for_update().get(pk=recipient_id)
        if Transfer.objects.filter(recipient_id=recipient.pk).exists():
            recipient.active = False
            recipient.save(update_fields=["active"])
            outcome = "deactivated"
        else:
            recipient.delete()
            outcome = "deleted"
        audit_record(f"privacy.recipient_{outcome}", principal=principal, request=request, target_type="recipient",
                     target_id=recipient_id)  # fmt: skip


# ==============================================================================================
# The one door of every transfer


def transfer_contacts(
    recipient_id: int,
    contact_ids: Iterable[int],
    *,
    purpose: str,
    categories: Iterable[str],
    use: str,
    principal: Principal,
) -> set[int]:
    """Return which contact_ids may go to the recipient for purpose, and log the transfer of those.

    Every outbound flow (webhook, integration, export to a third party) calls this before it
    sends, and sends only the ids returned. A contact is allowed when the recipient is active,
    is registered for purpose and for every category sent, and the purpose is allowed for the
    contact (tidings.consent.selectors.contacts_allowed, which logs its refusals). The log row
    counts the contacts sent and refused, never who they are. Raise PermissionDenied without
    contacts:view, Recipient.DoesNotExist for a recipient not in this workspace, Purpose.DoesNotExist
    for an unknown purpose, ValueError for a category that is not a data category or a use that is not printable.
    """
    _require(principal, "contacts:view")
    ids = {int(i) for i in contact_ids}
    sent = sorted({str(c) for c in categories})
    if not set(sent) <= set(DataCategory.values) - {""}:
        raise ValueError("unknown data category")
    use = str(use)[:MAX_USE]
    if not use.isprintable():
        raise ValueError("the use must be printable text")
    consent.purpose_by_key(purpose)  # Purpose.DoesNotExist for a key the workspace does not have
    with _atomic():
        recipient = Recipient.objects.get(pk=recipient_id)
        registered = recipient.active and purpose in recipient.purposes and set(sent) <= set(recipient.categories)
        allowed = consent.contacts_allowed(ids, purpose, use=use) if registered and ids else set()
        Transfer.objects.create(recipient_id=recipient.pk, purpose=purpose, categories=sent, contacts=len(allowed),
                                refused=len(ids) - len(allowed), use=use, actor_type=principal.actor_type,
                                actor_id=principal.actor_id)  # fmt: skip
    return allowed
