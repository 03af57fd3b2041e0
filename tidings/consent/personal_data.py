"""The ledger's part in privacy: what an access request exports, and what erasure keeps (anonymised proof).

A record's subject is its contact, or its visitor once identified as the contact (decision 0012),
so both hooks reach the records of the contact's visitors too, which a plain "rows" or "anonymise"
strategy on contact_id would miss. The registry erases consent.consentrecord before
events.visitor (label order), while the visitor rows still say whose they were.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q

from tidings.consent.models import ConsentRecord, Purpose
from tidings.events.models import Visitor


def _of_contacts(contact_ids: Sequence[int]) -> Q:
    devices = Visitor.objects.filter(contact_id__in=list(contact_ids)).values("id")
    return Q(contact_id__in=list(contact_ids)) | Q(
        contact_id__isnull=True, visitor_id__isnull=False, visitor_id__in=devices
    )


def export_records(model, contact_id: int) -> list[dict]:
    """Return every decision about the contact (its visitors' included), oldest first, with the purpose by key."""
    rows = list(ConsentRecord.objects.filter(_of_contacts([contact_id])).order_by("recorded_at", "id"))
    purposes = dict(Purpose.objects.filter(pk__in={r.purpose_id for r in rows}).values_list("pk", "key"))
    return [
        {
            "purpose": purposes.get(r.purpose_id, f"#{r.purpose_id}"),
            "given": r.given,
            "recorded_at": r.recorded_at.isoformat(),
            "method": r.method,
            "source": r.source,
            "notice_version": r.notice_version,
            "ip_network": r.ip_network,
            "signal": r.signal,
            "wording": r.wording,
            "visitor_id": r.visitor_id,
        }
        for r in rows
    ]


def anonymise_records(model, contact_ids: Sequence[int]) -> int:
    """Keep the contacts' records as anonymised proof: no contact, no visitor, no IP; return rows anonymised.

    What stays says that someone gave or withdrew consent for a purpose, when, how, from which
    source and under which notice: the workspace can still show it asked, not whom.
    """
    declaration = ConsentRecord.personal_data
    ids = list(ConsentRecord.objects.filter(_of_contacts(contact_ids)).values_list("id", flat=True))
    if not ids:
        return 0
    return ConsentRecord.objects.filter(id__in=ids).update(**dict(declaration.anonymise), contact_id=None)
