"""What comes back from a sent message: opens, clicks, unsubscriptions, replies, bounces and complaints; the
suppression list.

Opens and clicks are counted for every message in EmailCount (per email and day, no contact id). They are
recorded for the contact (Delivery.opened_at/clicked_at and counts, email.opened/email.clicked events) only
when the contact allows the purpose "tracking" (decision 0024). The public door's principal
(emails:feedback) records what a message's signed links report; replies, bounces and complaints need
emails:bounces (the system's principal for webhooks and the mailbox poller, or an API token that holds it).
A reply is recorded whatever the tracking consent, once per delivery (decision 0040).

Hard bounce: the address is suppressed and the contact gets Do-Not-Contact (email, bounced). Soft bounce:
counted on the suppression row, which suppresses from the third (selectors.SOFT_BOUNCE_LIMIT). Complaint:
suppressed and Do-Not-Contact (email, complaint). Audit entries carry ids and reason codes only.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ObjectDoesNotExist as ObjectDoesNotExistError
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tidings.accounts.permissions import Principal, require, system_principal
from tidings.audit.actions import audit_record
from tidings.emails import selectors
from tidings.emails.links import MessageRef
from tidings.emails.models import CountKind, Delivery, EmailCount, Suppression, SuppressionReason
from tidings.events import store
from tidings.events.registry import code_for
from tidings.events.store import EventRow
from tidings.privacy.vault import keyring
from tidings.tenancy.context import require_workspace

EMAIL_CHANNEL = "email"
TRACKING_PURPOSE = "tracking"
CLICK_TOKEN_PARAMETER = "tdt"
MAX_FORWARDED_QUERY = 2000  # characters of a click's query string forwarded to the destination
# DNC reasons a feedback never overwrites with a weaker one (a member's decision, a complaint, a bounce).
_DNC_RANK = {"unsubscribed": 1, "bounced": 2, "complaint": 3, "manual": 4}


def _atomic():
    return transaction.atomic(using=require_workspace().db_alias)


def _require(principal: Principal, permission: str) -> Principal:
    return require(principal, permission, workspace_id=require_workspace().id)


def _audit(action: str, *, principal, target_type: str = "email", target_id: object = "", **data) -> None:
    audit_record(action, principal=principal, target_type=target_type, target_id=target_id, data=data)


def _system(reason: str) -> Principal:
    from tidings.tenancy.selectors import workspace_by_id

    return system_principal(workspace_by_id(require_workspace().id), reason=reason)


def _tracking_allowed(delivery: Delivery) -> bool:
    from tidings.consent import selectors as consent_selectors

    try:
        return consent_selectors.purpose_allowed(
            delivery.contact_id, TRACKING_PURPOSE, use=f"email:{delivery.email_id}"
        )
    except Exception as error:  # a workspace without the purpose: nobody allows it
        if type(error).__name__ == "DoesNotExist":
            return False
        raise


def _count(email_id: int, kind: str) -> None:
    """Add one to the email's aggregate counter of today (created on first use; safe under concurrency)."""
    day = timezone.localdate()
    updated = EmailCount.objects.filter(email_id=email_id, day=day, kind=kind).update(count=F("count") + 1)
    if updated:
        return
    try:
        with transaction.atomic(using=require_workspace().db_alias):
            EmailCount.objects.create(workspace_id=require_workspace().id, email_id=email_id, day=day, kind=kind,
                                      count=1)  # fmt: skip
    except Exception:  # another request created it first (IntegrityError): add to theirs
        EmailCount.objects.filter(email_id=email_id, day=day, kind=kind).update(count=F("count") + 1)


def _event(code_name: str, delivery: Delivery, **data) -> None:
    payload = {"email_id": delivery.email_id, "send_id": delivery.send_id, **data}
    store.write([EventRow(type=code_for(code_name), contact_id=delivery.contact_id, data=payload)])


# ==============================================================================================
# A message's signed links


def message_opened(ref: MessageRef, *, principal: Principal) -> None:
    """Count an open of the message ref names; record it for the contact only if it allows tracking.

    A token naming no delivery (never sent, skipped) counts nothing. Needs emails:feedback.
    """
    _require(principal, "emails:feedback")
    delivery = selectors.delivery_for(ref)
    if delivery is None:
        return
    with _atomic():
        _count(delivery.email_id, CountKind.OPENED)
        if _tracking_allowed(delivery):
            now = timezone.now()
            Delivery.objects.filter(pk=delivery.pk).update(open_count=F("open_count") + 1)
            Delivery.objects.filter(pk=delivery.pk, opened_at__isnull=True).update(opened_at=now)
            _event("email.opened", delivery)


def _with_query(url: str, query: str, extra: dict[str, str]) -> str:
    """Return url with the click's query string and extra parameters appended (the link's own ones kept first)."""
    parts = urlsplit(url)
    own = parse_qsl(parts.query, keep_blank_values=True)
    forwarded = [
        (key, value)
        for key, value in parse_qsl((query or "")[:MAX_FORWARDED_QUERY], keep_blank_values=True)
        if key != CLICK_TOKEN_PARAMETER
    ]
    pairs = [(key, value) for key, value in own if key not in extra] + forwarded + list(extra.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs) if pairs else "", parts.fragment))


def message_clicked(ref: MessageRef, link_id: int, *, principal: Principal, query: str = "") -> str | None:
    """Count a click on link_id of the message ref names and return where to send the browser.

    None when the link is not one of the email version's links (the route answers 404: never an open
    redirect). The click's query string is forwarded. With tracking allowed, the click is recorded for the
    contact and the destination carries the tracking click token (tdt=) that identifies the device on
    the landing page (tidings.tracking). Needs emails:feedback.
    """
    _require(principal, "emails:feedback")
    delivery = selectors.delivery_for(ref)
    if delivery is None:
        return None
    url = selectors.click_destination(delivery, link_id)
    if url is None:
        return None
    extra: dict[str, str] = {}
    with _atomic():
        _count(delivery.email_id, CountKind.CLICKED)
        if _tracking_allowed(delivery):
            from tidings.tracking import selectors as tracking_selectors

            now = timezone.now()
            Delivery.objects.filter(pk=delivery.pk).update(click_count=F("click_count") + 1)
            Delivery.objects.filter(pk=delivery.pk, clicked_at__isnull=True).update(clicked_at=now)
            _event("email.clicked", delivery, link_id=link_id)
            extra[CLICK_TOKEN_PARAMETER] = tracking_selectors.click_token_for(delivery.contact_id)
    return _with_query(url, query, extra)


def _dnc(contact_id: int, reason: str, comment: str) -> bool:
    """Set Do-Not-Contact on email with reason unless a stronger reason is on record; return whether it changed."""
    from tidings.contacts import actions as contacts_actions
    from tidings.contacts import selectors as contacts_selectors

    current = next((row for row in contacts_selectors.contact_dnc(contact_id) if row.channel == EMAIL_CHANNEL), None)
    if current is not None and _DNC_RANK.get(current.reason, 0) >= _DNC_RANK[reason]:
        return False
    try:
        contacts_actions.dnc_add(contact_id, channel=EMAIL_CHANNEL, reason=reason, comment=comment,
                                 principal=_system("emails:feedback"))  # fmt: skip
    except ObjectDoesNotExistError:
        return False
    return True


def message_unsubscribed(ref: MessageRef, *, principal: Principal, one_click: bool) -> None:
    """Unsubscribe the contact of the message ref names: Do-Not-Contact on email (reason unsubscribed), the
    delivery marked, an email.unsubscribed event. one_click: RFC 8058's POST (the mail client's button).

    Repeating it changes nothing. Needs emails:feedback.
    """
    _require(principal, "emails:feedback")
    delivery = selectors.delivery_for(ref)
    if delivery is None:
        return
    with _atomic():
        changed = Delivery.objects.filter(pk=delivery.pk, unsubscribed=False).update(unsubscribed=True)
        _dnc(delivery.contact_id, "unsubscribed", f"email {delivery.email_id}")
        if changed:
            _event("email.unsubscribed", delivery)
            _audit("email.unsubscribed", principal=principal, target_id=delivery.email_id,
                   send_id=delivery.send_id, contact_id=delivery.contact_id, one_click=bool(one_click))  # fmt: skip


# ==============================================================================================
# Replies


@dataclass(frozen=True)
class RecordedReply:
    """A reply recorded for a delivery: the email (the variant sent) it answers, and whether it was the first."""

    email_id: int
    first: bool


def reply_record(ref: MessageRef, *, principal: Principal) -> RecordedReply | None:
    """Record that the contact replied to the message ref names; return None when ref names no delivery here.

    Only the first reply of a delivery moves anything (decision 0040): Delivery.replied_at, the email's
    aggregate "replied" count of the day, an email.replied event (a campaign's "replied" decision wakes on
    it) and an audit entry with ids only; a second reply, or the same one read twice, changes nothing
    (first=False). Recorded whatever the contact's "tracking" consent: a reply is a message the person chose
    to send, not an observation of them. Nothing of the reply is kept (no text, no address). Needs
    emails:bounces.
    """
    _require(principal, "emails:bounces")
    delivery = selectors.delivery_for(ref)
    if delivery is None:
        return None
    with _atomic():
        first = bool(Delivery.objects.filter(pk=delivery.pk, replied_at__isnull=True).update(replied_at=timezone.now()))
        if first:
            _count(delivery.email_id, CountKind.REPLIED)
            _event("email.replied", delivery)
            _audit("email.replied", principal=principal, target_id=delivery.email_id, send_id=delivery.send_id,
                   contact_id=delivery.contact_id)  # fmt: skip
    return RecordedReply(email_id=delivery.email_id, first=first)


# ==============================================================================================
# Bounces and complaints


def _contact_of(address: str | None) -> int | None:
    if not address:
        return None
    from tidings.contacts import selectors as contacts_selectors

    try:
        return contacts_selectors.contact_by_unique_identifier("email", address).id
    except (ValidationError, ObjectDoesNotExistError):
        return None


def _index_of(address: str | None, delivery: Delivery | None) -> bytes | None:
    """The blind index of the bounced address: the one reported, else the address of the delivery's contact."""
    if address and isinstance(address, str) and "@" in address and len(address) <= 254:
        return selectors.suppression_index(address)
    if delivery is not None:
        from tidings.contacts import selectors as contacts_selectors

        contact = contacts_selectors.contacts_get([delivery.contact_id]).get(delivery.contact_id)
        if contact is not None and contact.email:
            return selectors.suppression_index(contact.email)
    return None


def _suppress(index: bytes, reason: str, contact_id: int | None, *, soft: bool = False) -> Suppression:
    """Create or strengthen the suppression of index; a soft bounce adds one to the count (never weakens a row)."""
    now = timezone.now()
    row = Suppression.objects.select_for_update().filter(email_index=index).first()
    if row is None:
        return Suppression.objects.create(workspace_id=require_workspace().id, email_index=index, reason=reason,
                                          contact_id=contact_id, soft_bounces=1 if soft else 0, created_at=now,
                                          updated_at=now)  # fmt: skip
    if soft:
        row.soft_bounces = min(row.soft_bounces + 1, 32767)
    elif row.reason in (SuppressionReason.SOFT_BOUNCES,) or (
        reason == SuppressionReason.COMPLAINT and row.reason == SuppressionReason.HARD_BOUNCE
    ):
        row.reason = reason
    row.contact_id = row.contact_id or contact_id
    row.updated_at = now
    row.save(update_fields=["soft_bounces", "reason", "contact_id", "updated_at"])
    return row


def bounce_record(*, message_id: str | None, address: str | None, hard: bool, principal: Principal) -> bool:
    """Record a bounce of the message with message_id (our Message-ID), or of address; return whether it was ours.

    Hard: the address suppressed at once, Do-Not-Contact (bounced). Soft: counted; the third suppresses
    (and sets Do-Not-Contact). Needs emails:bounces.
    """
    _require(principal, "emails:bounces")
    delivery = selectors.delivery_by_message_id(message_id) if message_id else None
    index = _index_of(address, delivery)
    if delivery is None and index is None:
        return False
    contact_id = delivery.contact_id if delivery is not None else _contact_of(address)
    if (
        delivery is None
        and contact_id is None
        and index is not None
        and not Suppression.objects.filter(email_index=index).exists()
    ):
        return False  # an address that is not one of ours: nothing to record
    kind = "hard" if hard else "soft"
    with _atomic():
        row = None
        if index is not None:
            reason = SuppressionReason.HARD_BOUNCE if hard else SuppressionReason.SOFT_BOUNCES
            row = _suppress(index, reason, contact_id, soft=not hard)
        suppressed_now = hard or (row is not None and row.soft_bounces >= selectors.SOFT_BOUNCE_LIMIT)
        if contact_id is not None and suppressed_now:
            _dnc(contact_id, "bounced", "hard bounce" if hard else "repeated soft bounces")
        if delivery is not None:
            Delivery.objects.filter(pk=delivery.pk).exclude(bounced="hard").update(bounced=kind)
            _event("email.bounced", delivery, kind=kind)
        _audit("email.bounced", principal=principal, target_type="suppression", target_id=row.pk if row else "",
               kind=kind, contact_id=contact_id, suppressed=bool(suppressed_now))  # fmt: skip
    return True


def complaint_record(*, message_id: str | None, address: str | None, principal: Principal) -> bool:
    """Record a spam complaint (a feedback loop report) for the message or address; return whether it was ours.

    The address is suppressed and the contact gets Do-Not-Contact (complaint). Needs emails:bounces.
    """
    _require(principal, "emails:bounces")
    delivery = selectors.delivery_by_message_id(message_id) if message_id else None
    index = _index_of(address, delivery)
    contact_id = delivery.contact_id if delivery is not None else _contact_of(address)
    if delivery is None and contact_id is None:
        return False
    with _atomic():
        row = _suppress(index, SuppressionReason.COMPLAINT, contact_id) if index is not None else None
        if contact_id is not None:
            _dnc(contact_id, "complaint", "spam complaint")
        if delivery is not None:
            Delivery.objects.filter(pk=delivery.pk).update(complained=True)
            _event("email.complained", delivery)
        _audit("email.complained", principal=principal, target_type="suppression", target_id=row.pk if row else "",
               contact_id=contact_id)  # fmt: skip
    return True


# ==============================================================================================
# The suppression list, by hand


def suppression_add(address: str, *, reason: str = SuppressionReason.MANUAL, principal: Principal) -> Suppression:
    """Suppress an address (kept only as the workspace's blind index); return the row. Needs emails:send.

    Raise ValidationError for something that is not an address or an unknown reason.
    """
    _require(principal, "emails:send")
    if reason not in SuppressionReason.values:
        raise ValidationError({"reason": [f"choose one of {', '.join(SuppressionReason.values)}"]})
    from django.core.validators import validate_email

    address = address.strip() if isinstance(address, str) else ""
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError({"address": ["an email address"]}) from None
    index = selectors.suppression_index(address)
    contact_id = _contact_of(address)
    with _atomic():
        row = Suppression.objects.select_for_update().filter(email_index=index).first()
        now = timezone.now()
        if row is None:
            row = Suppression.objects.create(workspace_id=require_workspace().id, email_index=index, reason=reason,
                                             contact_id=contact_id, created_at=now, updated_at=now)  # fmt: skip
        else:
            row.reason, row.updated_at = reason, now
            row.contact_id = row.contact_id or contact_id
            row.save(update_fields=["reason", "contact_id", "updated_at"])
        _audit("email.suppression_added", principal=principal, target_type="suppression", target_id=row.pk,
               reason=reason, contact_id=contact_id)  # fmt: skip
    return row


def suppression_remove(suppression_id: int, *, principal: Principal) -> None:
    """Take a row off the suppression list (the address may be sent to again). Needs emails:send.

    Do-Not-Contact set by a bounce or complaint stays: lifting it is the contact page's decision.
    Raise Suppression.DoesNotExist for a row not in this workspace.
    """
    _require(principal, "emails:send")
    with _atomic():
        row = Suppression.objects.get(pk=suppression_id)
        reason = row.reason
        row.delete()
        _audit("email.suppression_removed", principal=principal, target_type="suppression", target_id=suppression_id,
               reason=reason)  # fmt: skip


def suppression_readmit(normalised: list[str], *, principal: Principal) -> int:
    """Lift the "erased" suppression of these normalised addresses; return how many rows went. Needs contacts:edit.

    Called by contacts when the person gives the address again themselves (a form submission with its own
    consent, decision 0030): the erasure request is honoured, and this is a new relationship. Rows of
    other reasons (bounce, complaint, manual) stay. Audited with the row id and reason only.
    """
    require(principal, "contacts:edit", workspace_id=require_workspace().id)
    ring = keyring()
    indexes = [selectors.suppression_index(address, ring) for address in normalised]
    removed = 0
    with _atomic():
        for row in Suppression.objects.select_for_update().filter(reason=SuppressionReason.ERASED,
                                                                  email_index__in=indexes):  # fmt: skip
            row_id = row.pk
            row.delete()
            removed += 1
            _audit("email.suppression_removed", principal=principal, target_type="suppression", target_id=row_id,
                   reason=SuppressionReason.ERASED, cause="given_again_by_subject")  # fmt: skip
    return removed
