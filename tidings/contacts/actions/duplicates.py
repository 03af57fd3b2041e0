"""Telling the duplicates finder that two contacts are different people."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q

from tidings.contacts.actions.common import _atomic, _audit, _require
from tidings.contacts.models import Contact, DuplicateDismissal


def duplicate_dismiss(contact_id: int, other_id: int, *, principal, request=None) -> DuplicateDismissal:
    """Record that two contacts are not duplicates, so the finder stops proposing the pair; return the record.

    Idempotent: dismissing a pair twice keeps the first record. Raise Contact.DoesNotExist when
    either id is not in this workspace, ValidationError when both ids are the same.
    """
    _require(principal, "contacts:edit")
    if contact_id == other_id:
        raise ValidationError("a contact cannot be a duplicate of itself")
    low, high = sorted((contact_id, other_id))
    with _atomic():
        if Contact.objects.filter(pk__in=[low, high]).count() != 2:
            raise Contact.DoesNotExist("both contacts must exist in this workspace")
        dismissal, created = DuplicateDismissal.objects.get_or_create(
            contact_id=low, other_id=high, defaults={"dismissed_by": getattr(principal.user, "pk", None)}
        )
        if created:
            _audit(
                "contact.duplicate_dismissed",
                principal=principal,
                request=request,
                target_type="contact",
                target_id=low,
                other_id=high,
            )
    return dismissal


def _erase_dismissals(model, contact_ids) -> int:
    """Delete the dismissals naming any of contact_ids, on either side (the registry's erase hook)."""
    ids = list(contact_ids)
    count, _ = model.objects.filter(Q(contact_id__in=ids) | Q(other_id__in=ids)).delete()
    return count
