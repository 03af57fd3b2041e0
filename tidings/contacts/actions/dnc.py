"""Do-Not-Contact: marking a contact as not to be contacted on a channel, and lifting it."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from tidings.contacts.actions.common import DNC_COMMENT_MAX, _atomic, _audit, _require
from tidings.contacts.fields import dnc_comment_aad
from tidings.contacts.models import (
    Channel,
    Contact,
    DncReason,
    DoNotContact,
    EventType,
)
from tidings.events import store
from tidings.events.store import EventRow
from tidings.privacy.vault import (
    keyring,
)
from tidings.tenancy.context import require_workspace


def dnc_add(
    contact_id: int,
    *,
    channel: str = Channel.EMAIL,
    reason: str = DncReason.MANUAL,
    comment: str = "",
    channel_id: int | None = None,
    principal,
    request=None,
) -> DoNotContact:
    """Mark a contact as not to be contacted on channel (updating the reason if already marked); return the row.

    Raise Contact.DoesNotExist for an id not in this workspace, ValidationError on an unknown channel or reason.
    """
    _require(principal, "contacts:edit")
    if channel not in Channel.values:
        raise ValidationError({"channel": f"choose one of {', '.join(Channel.values)}"})
    if reason not in DncReason.values:
        raise ValidationError({"reason": f"choose one of {', '.join(DncReason.values)}"})
    comment = comment or ""
    if len(comment) > DNC_COMMENT_MAX:
        raise ValidationError({"comment": f"longer than {DNC_COMMENT_MAX} characters"})
    ring = keyring()
    with _atomic():
        if not Contact.objects.filter(pk=contact_id).exists():
            raise Contact.DoesNotExist(f"contact {contact_id} does not exist")
        sealed = ring.data_key(contact_id).encrypt_text(dnc_comment_aad(channel), comment) if comment else None
        row, created = DoNotContact.objects.update_or_create(
            contact_id=contact_id,
            channel=channel,
            defaults={"reason": reason, "comment_enc": sealed, "channel_id": channel_id},
            create_defaults={
                "workspace_id": require_workspace().id,
                "reason": reason,
                "comment_enc": sealed,
                "channel_id": channel_id,
            },
        )
        row.comment = comment
        if created:
            data = {"channel": channel, "reason": reason}
            store.write([EventRow(type=EventType.DNC_ADDED, contact_id=contact_id, data=data)])
        _audit("contact.dnc_added", principal=principal, request=request, target_type="contact", target_id=contact_id,
               channel=channel, reason=reason)  # fmt: skip
    return row


def _reencrypt_dnc_comments(from_contact_id: int, to_contact_id: int) -> int:
    """Move a contact's DNC rows to another contact (merge), re-encrypting comments; the target wins per channel."""
    ring = keyring()
    keys = ring.data_keys([from_contact_id, to_contact_id])
    taken = set(DoNotContact.objects.filter(contact_id=to_contact_id).values_list("channel", flat=True))
    DoNotContact.objects.filter(contact_id=from_contact_id, channel__in=taken).delete()
    rows = list(DoNotContact.objects.filter(contact_id=from_contact_id))
    source, target = keys.get(from_contact_id), keys[to_contact_id]
    for row in rows:
        field = dnc_comment_aad(row.channel)
        text = source.decrypt_text(field, row.comment_enc) if (source and row.comment_enc is not None) else ""
        row.comment_enc = target.encrypt_text(field, text) if text else None
        row.contact_id = to_contact_id
    DoNotContact.objects.bulk_update(rows, ["comment_enc", "contact_id"], batch_size=200)
    return len(rows)


def dnc_remove(contact_id: int, *, channel: str = Channel.EMAIL, principal, request=None) -> bool:
    """Allow contacting a contact on channel again; return whether a record was removed.

    Raise Contact.DoesNotExist for an id not in this workspace.
    """
    _require(principal, "contacts:edit")
    with _atomic():
        if not Contact.objects.filter(pk=contact_id).exists():
            raise Contact.DoesNotExist(f"contact {contact_id} does not exist")
        removed, _ = DoNotContact.objects.filter(contact_id=contact_id, channel=channel).delete()
        if removed:
            store.write([EventRow(type=EventType.DNC_REMOVED, contact_id=contact_id, data={"channel": channel})])
            _audit("contact.dnc_removed", principal=principal, request=request, target_type="contact",
                   target_id=contact_id, channel=channel)  # fmt: skip
    return bool(removed)


def _merge_dnc(model, winner_id: int, loser_id: int) -> int:
    """Merge hook of DoNotContact (tidings.privacy.registry): move the loser's comments to the winner's key."""
    return _reencrypt_dnc_comments(loser_id, winner_id)
