"""The consent ledger's retention hook: an anonymous visitor's decisions go with the visitor.

Not an action: the privacy centre's retention action checks its permission and audits each run.
A record about a device never identified as a contact proves nothing once the device is gone
(nothing is processed under it any more), and it holds the visitor's id and truncated IP: it is
deleted when retention purges the visitor, and counted per day as given/withdrawn. Records of
contacts stay with the contact (their erasure keeps them as anonymised proof, decision 0018).

Hooks run in label order, so "consent.visitor" runs before "events.visitor": it deletes the
records of the visitors about to be purged (the same test, events.retention.stale_anonymous_visitors)
and those of visitors already gone (a run interrupted between the two, or visitors deleted before
this hook existed).
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterator

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from tidings.consent.models import ConsentRecord
from tidings.events.models import Visitor
from tidings.events.retention import stale_anonymous_visitors
from tidings.privacy.retention import DataClass, PurgedBatch, RetentionHook, register_retention_hook
from tidings.tenancy.context import require_workspace


def purge_visitor_records(cutoff: datetime.datetime, *, batch_size: int, principal) -> Iterator[PurgedBatch]:
    """Delete the consent records of anonymous visitors that retention purges (or already purged), in batches."""
    alias = require_workspace().db_alias
    gone = ~Exists(Visitor.objects.filter(id=OuterRef("visitor_id")))
    of_stale = Q(visitor_id__in=stale_anonymous_visitors(cutoff).values("id"))
    records = ConsentRecord.objects.filter(contact_id__isnull=True, visitor_id__isnull=False).filter(of_stale | gone)
    while True:
        with transaction.atomic(using=alias):
            rows = list(records.order_by("id").values_list("id", "given", "recorded_at")[:batch_size])
            if not rows:
                return
            ConsentRecord.objects.filter(id__in=[row[0] for row in rows]).delete()
            daily = Counter((at.date(), "consent_given" if given else "consent_withdrawn") for _id, given, at in rows)
            yield PurgedBatch(deleted=len(rows), daily=dict(daily))


def register_consent_retention() -> None:
    register_retention_hook(RetentionHook(
        DataClass.ANONYMOUS_VISITORS, "consent.visitor", purge_visitor_records,
        "daily count of the deleted decisions, given or withdrawn (day, 'consent_given' / 'consent_withdrawn')",
        note="an anonymous visitor's consent records go with the visitor; a contact's stay with the contact",
    ))  # fmt: skip
