"""The retention hook of form submissions (tidings.privacy.retention), run by the privacy centre's job.

Not an action: the privacy centre's retention action checks its permission and audits each run.
The answers are sealed under the contact's key, so a deleted row takes them with it; what is kept
beyond the limit is the count of submissions per form and day. The contact itself stays.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterator

from django.db import transaction

from tidings.forms.models import Submission
from tidings.privacy.retention import DataClass, PurgedBatch, RetentionHook, register_retention_hook
from tidings.tenancy.context import require_workspace


def purge_submissions(cutoff: datetime.datetime, *, batch_size: int, principal) -> Iterator[PurgedBatch]:
    """Delete submissions made before cutoff, in batches of batch_size (one transaction each)."""
    alias = require_workspace().db_alias
    while True:
        with transaction.atomic(using=alias):
            rows = list(
                Submission.objects.filter(submitted_at__lt=cutoff)
                .order_by("id")
                .values_list("id", "form_id", "submitted_at")[:batch_size]
            )
            if not rows:
                return
            Submission.objects.filter(id__in=[row[0] for row in rows]).delete()
            daily = Counter((at.date(), f"form:{form_id}") for _id, form_id, at in rows)
            yield PurgedBatch(deleted=len(rows), daily=dict(daily))


def register_forms_retention() -> None:
    register_retention_hook(RetentionHook(
        DataClass.FORM_SUBMISSIONS, "forms.submission", purge_submissions,
        "daily count of the deleted submissions per form (day, 'form:<id>')",
        note="answers and the page and network they came from; the contact and its consents stay",
    ))  # fmt: skip
