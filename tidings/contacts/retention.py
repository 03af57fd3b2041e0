"""The retention hook of inactive contacts (tidings.privacy.retention), run by the privacy centre's job.

A contact is inactive when its last activity (or, never active, its creation) is older than the
cutoff. It is deleted through contacts_delete, which erases it from every registered store and
shreds its key, exactly as an operator's deletion; what is kept is the count per day of last activity.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterator

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce

from tidings.contacts.actions import contacts_delete
from tidings.contacts.models import Contact
from tidings.privacy.retention import DataClass, PurgedBatch, RetentionHook, register_retention_hook
from tidings.tenancy.context import require_workspace


def purge_inactive_contacts(cutoff: datetime.datetime, *, batch_size: int, principal) -> Iterator[PurgedBatch]:
    """Delete contacts inactive since before cutoff, batch_size at a time (each batch one contacts_delete)."""
    stale = Contact.objects.annotate(seen=Coalesce(F("last_active"), F("created_at"))).filter(seen__lt=cutoff)
    alias = require_workspace().db_alias
    while True:
        with transaction.atomic(using=alias):
            rows = list(stale.order_by("id").values_list("id", "seen")[:batch_size])
            if not rows:
                return
            deleted = contacts_delete([row[0] for row in rows], principal=principal)
            daily = Counter((seen.date(), "contact") for _id, seen in rows)
            yield PurgedBatch(deleted=deleted, daily=dict(daily))
        if not deleted:
            return  # nothing could go (a concurrent deletion): do not spin


def register_contacts_retention() -> None:
    register_retention_hook(RetentionHook(
        DataClass.INACTIVE_CONTACTS, "contacts.contact", purge_inactive_contacts,
        "daily count of the deleted contacts by the day of their last activity (day, 'contact')",
        note="erased from every registered store and their key shredded, as an operator's deletion",
    ))  # fmt: skip
