"""Reads of the privacy centre: retention rules, aggregates, recipients, transfers, records of processing.

Every read is scoped to the workspace in context (NoWorkspaceSet without one).
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from tidings.consent import selectors as consent
from tidings.countries import country_name
from tidings.privacy.categories import DataCategory
from tidings.privacy.registry import other_stores, store_label, stores
from tidings.privacy.retention import DataClass, retention_hooks
from tidings.privacy_centre.models import Recipient, RetentionAggregate, RetentionRule, Safeguard, Transfer
from tidings.tenancy.context import require_workspace
from tidings.tenancy.selectors import workspace_by_id

# Days each class is kept when the workspace has set nothing; None: without limit.
DEFAULT_DAYS: dict[str, int | None] = {
    # 13 months: the CNIL's bound for audience measurement, enough for year-on-year comparisons.
    DataClass.TRACKING_EVENTS: 396,
    DataClass.ANONYMOUS_VISITORS: 396,
    DataClass.EMAIL_EVENTS: 730,
    DataClass.FORM_SUBMISSIONS: 1095,
    # Deleting whole contacts is the workspace's decision: off until it sets a period (3 years is the
    # CNIL's guidance for prospects who stopped responding).
    DataClass.INACTIVE_CONTACTS: None,
    DataClass.AUDIT_LOG: None,
}
SUGGESTED_DAYS: dict[str, int] = {DataClass.INACTIVE_CONTACTS: 1095}

# Classes whose period cannot be changed, and why.
FIXED: dict[str, str] = {
    DataClass.AUDIT_LOG: (
        "Kept without limit: the audit log is one hash chain per workspace that verifies from its first "
        "entry, and signed checkpoints name entries by number. Deleting its oldest entries would make "
        "every later entry fail verification until the audit app can anchor a trimmed chain "
        "(docs/decisions/0026-privacy-centre.md)."
    ),
}
MIN_DAYS = 1
MAX_DAYS = 36_500

# The European Economic Area: no transfer abroad for an EU workspace's recipient based there.
EEA = frozenset(
    # fmt: off
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
    ]
    # fmt: on
)


@dataclass(frozen=True)
class RuleView:
    data_class: str
    label: str
    days: int | None
    default_days: int | None
    is_default: bool
    fixed_reason: str
    stores: tuple[str, ...]
    aggregates: tuple[str, ...]

    @property
    def enforced(self) -> bool:
        return self.days is not None and bool(self.stores)


def retention_rules() -> list[RuleView]:
    """Return the rule of every data class (the workspace's, else the default), in DataClass order."""
    require_workspace()
    stored = dict(RetentionRule.objects.values_list("data_class", "days"))
    rules = []
    for data_class in DataClass:
        hooks = retention_hooks(data_class)
        is_default = data_class not in stored or data_class in FIXED
        rules.append(
            RuleView(
                data_class=data_class.value,
                label=str(data_class.label),
                days=DEFAULT_DAYS[data_class] if is_default else stored[data_class],
                default_days=DEFAULT_DAYS[data_class],
                is_default=is_default,
                fixed_reason=FIXED.get(data_class, ""),
                stores=tuple(hook.label for hook in hooks),
                aggregates=tuple(hook.aggregates for hook in hooks),
            )
        )
    return rules


def retention_cutoff(days: int, now: datetime.datetime | None = None) -> datetime.datetime:
    """Return the moment before which rows of a class kept for days are purged."""
    return (now or timezone.now()) - datetime.timedelta(days=days)


def retention_aggregates(data_class: str | None = None) -> QuerySet[RetentionAggregate]:
    """Return the counts kept of purged rows, newest day first."""
    rows = RetentionAggregate.objects.all()
    if data_class:
        rows = rows.filter(data_class=data_class)
    return rows.order_by("-day", "data_class", "kind")


def recipients() -> QuerySet[Recipient]:
    return Recipient.objects.order_by("name", "id")


def recipient_get(recipient_id: int) -> Recipient:
    """Return the workspace's recipient; raise Recipient.DoesNotExist (also for another workspace's)."""
    return Recipient.objects.get(pk=recipient_id)


def transfers(*, recipient_id: int | None = None, before_id: int | None = None) -> QuerySet[Transfer]:
    """Return the transfer log, newest first (before_id: those older than that entry)."""
    rows = Transfer.objects.all()
    if recipient_id is not None:
        rows = rows.filter(recipient_id=recipient_id)
    if before_id is not None:
        rows = rows.filter(id__lt=before_id)
    return rows.order_by("-id")


def recipient_names(ids) -> dict[int, str]:
    return dict(Recipient.objects.filter(pk__in=set(ids)).values_list("id", "name"))


def is_transfer_abroad(recipient: Recipient, region: str) -> bool:
    """Return whether passing data to recipient takes it out of the workspace's region (EU: the EEA)."""
    if region == "eu":
        return recipient.country not in EEA
    return recipient.country != region.upper()


def _categories() -> list[dict]:
    """The categories of data the workspace's stores hold, from the erasure registry's declarations."""
    by_category: dict[str, set[str]] = {}
    for model, declaration in stores():
        for category in declaration.fields.values():
            if category:
                by_category.setdefault(str(category), set()).add(store_label(model))
    labels = dict(DataCategory.choices)
    return [
        {"category": category, "name": str(labels.get(category, category)), "stores": sorted(found)}
        for category, found in sorted(by_category.items())
    ]


def records_of_processing() -> dict:
    """Return the workspace's records of processing activities (GDPR art. 30), as plain data for an auditor."""
    active = require_workspace()
    workspace = workspace_by_id(active.id)
    assert workspace is not None  # the workspace in context exists
    region = str(workspace.region)
    listed = list(recipients())
    year_ago = timezone.now() - datetime.timedelta(days=365)
    counts: dict[int, int] = {}
    for recipient_id, contacts in Transfer.objects.filter(at__gte=year_ago).values_list("recipient_id", "contacts"):
        counts[recipient_id] = counts.get(recipient_id, 0) + contacts
    safeguards = dict(Safeguard.choices)
    return {
        "workspace": {"name": workspace.name, "slug": workspace.slug, "region": region},
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "purposes": [
            {
                "key": p.key,
                "name": p.name,
                "description": p.description,
                "lawful_basis": p.lawful_basis,
                "active": p.active,
                "recipients": [r.name for r in listed if p.key in r.purposes],
            }
            for p in consent.purposes()
        ],
        "categories": _categories(),
        "other_stores": [{"store": s.label, "note": s.note} for s in other_stores()],
        "recipients": [
            {
                "name": r.name,
                "kind": r.kind,
                "country": r.country,
                "country_name": country_name(r.country),
                "safeguard": r.safeguard,
                "purposes": list(r.purposes),
                "categories": list(r.categories),
                "active": r.active,
            }
            for r in listed
        ],
        "retention": [
            {
                "data_class": rule.data_class,
                "name": rule.label,
                "days": rule.days,
                "enforced": rule.enforced,
                "kept_beyond": list(rule.aggregates),
                "note": rule.fixed_reason,
            }
            for rule in retention_rules()
        ],
        "transfers": [
            {
                "recipient": r.name,
                "country": r.country,
                "abroad": is_transfer_abroad(r, region),
                "safeguard": r.safeguard,
                "safeguard_name": str(safeguards.get(r.safeguard, r.safeguard)),
                "contacts_last_year": counts.get(r.pk, 0),
            }
            for r in listed
        ],
        "security": [
            "Direct identifiers encrypted per contact (AES-GCM data key per contact, wrapped per workspace)",
            "Exact lookups through a keyed blind index (HMAC), never the clear value",
            "Data kept in the workspace's region database; row-level security per workspace",
            "Append-only, hash-chained audit log with signed checkpoints",
        ],
    }


CSV_COLUMNS = ("section", "name", "field", "value")


def _flat(value) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(str(item) for item in value)
    if value is None:
        return ""
    return str(value)


def records_csv(records: dict) -> str:
    """Return records_of_processing() as CSV: one row per (section, item, field, value)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    keys = {"purposes": "key", "categories": "category", "other_stores": "store", "recipients": "name",
            "retention": "data_class", "transfers": "recipient"}  # fmt: skip
    for field, value in records["workspace"].items():
        writer.writerow(("workspace", records["workspace"]["slug"], field, _safe(_flat(value))))
    for section, key in keys.items():
        for item in records[section]:
            for field, value in item.items():
                if field != key:
                    writer.writerow((section, _safe(_flat(item[key])), field, _safe(_flat(value))))
    for measure in records["security"]:
        writer.writerow(("security", "", "measure", measure))
    return out.getvalue()


def _safe(text: str) -> str:
    # A cell starting like a formula would run in a spreadsheet (CSV injection): quote it as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
