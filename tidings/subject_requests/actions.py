"""Every write of data-subject requests: receive, verify, approve, extend, deny, complete (and carry out).

Each action takes the principal and checks its permission; each change of state is one audit entry
(target subject_request, ids and codes only) in the same transaction. Mail to the subject leaves after
the commit: a rolled-back change tells nobody anything.

Who may do what:
- the preference centre's link receives requests for its own contact (already verified: the signed link
  proves control of the address);
- the public request form's principal (privacy:ask) receives requests by address; the address's
  owner proves control by the emailed link (verify_by_token);
- members with privacy:requests record requests for a contact, verify, approve, extend, deny and
  complete them; completing an erasure also needs privacy:erase, an access request privacy:export.
"""

from __future__ import annotations

import datetime
import hmac
import logging
import secrets
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from tidings.accounts.permissions import Principal, Via, require
from tidings.audit.actions import audit_record
from tidings.consent import actions as consent_actions
from tidings.consent import selectors as consent_selectors
from tidings.contacts import actions as contacts_actions
from tidings.contacts import selectors as contacts_selectors
from tidings.emails.actions import feedback as emails_feedback
from tidings.privacy.vault import keyring, normalise_email
from tidings.subject_requests import links
from tidings.subject_requests.models import (
    DUE_AFTER,
    MAX_EXTENSION,
    OPEN_STATUSES,
    RequestKind,
    RequestSource,
    RequestStatus,
    SubjectRequest,
)
from tidings.tenancy.context import require_workspace

log = logging.getLogger(__name__)

CODE_MAX_AGE = datetime.timedelta(hours=24)
MAX_CODE_ATTEMPTS = 5
MAX_REASON = 500
MAX_DETAILS = 4000
# The statuses each action leaves from (the lifecycle; anything else is a ValidationError naming the status).
_VERIFIABLE = (RequestStatus.RECEIVED, RequestStatus.UNVERIFIED)
_APPROVABLE = (RequestStatus.VERIFIED,)
_STARTABLE = (RequestStatus.APPROVED,)
_COMPLETABLE = (RequestStatus.APPROVED, RequestStatus.IN_PROGRESS, RequestStatus.EXTENDED)
_EXTENDABLE = (RequestStatus.VERIFIED, RequestStatus.APPROVED, RequestStatus.IN_PROGRESS, RequestStatus.EXTENDED)


def _atomic():
    return transaction.atomic(using=require_workspace().db_alias)


def _require(principal: Principal, permission: str) -> None:
    require(principal, permission)


def _audit(action: str, row: SubjectRequest, *, principal: Principal, request=None, **data) -> None:
    audit_record(f"subject_request.{action}", principal=principal, request=request, target_type="subject_request",
                 target_id=row.pk, data={"kind": row.kind, "status": row.status, **data})  # fmt: skip


def _on_commit(send: Callable[[], None]) -> None:
    transaction.on_commit(send, using=require_workspace().db_alias)


def _address_hash(address: str) -> bytes:
    """Return the keyed hash that finds a subject's other requests (a scope of its own: not a contact's index)."""
    return keyring().blind_index("subject_request", normalise_email(address))


def _code_hash(row_id: int, code: str) -> bytes:
    return salted_hmac("tidings.subject_requests.code", f"{require_workspace().id}:{row_id}:{code}").digest()


def _check_kind(kind: object) -> str:
    if kind not in RequestKind.values:
        raise ValidationError({"kind": [f"one of {', '.join(RequestKind.values)}"]})
    return str(kind)


def _clean_text(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ValidationError({field: ["a text"]})
    text = value.strip()
    if len(text) > limit:
        raise ValidationError({field: [f"at most {limit} characters"]})
    return text


def _open_duplicate(kind: str, *, contact_id: int | None, hashed: bytes | None) -> SubjectRequest | None:
    rows = SubjectRequest.objects.filter(kind=kind, status__in=OPEN_STATUSES)
    if contact_id is not None:
        return rows.filter(contact_id=contact_id).order_by("id").first()
    if hashed is not None:
        return rows.filter(address_hash=hashed).order_by("id").first()
    return None


def _contact_address(contact_id: int | None) -> str | None:
    if contact_id is None:
        return None
    try:
        return contacts_selectors.contact_get(contact_id).email or None
    except ObjectDoesNotExist:
        return None


def _mail(address: str | None, subject: str, body: str) -> None:
    """Send one plain message to the subject after the commit; a mail server that is down is logged (no address)."""
    if not address:
        return
    message = EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[address])

    def send() -> None:
        try:
            message.send()
        except Exception:
            log.exception("a message about a data-subject request could not be sent")

    _on_commit(send)


def _workspace_name() -> str:
    from tidings.tenancy.selectors import workspace_by_id

    workspace = workspace_by_id(require_workspace().id)
    return workspace.name if workspace is not None else "the workspace"


# ==============================================================================================
# Receiving

# The permission that files a request from each source (members: privacy:requests).
_FILED_WITH: dict[str, str] = {
    RequestSource.PREFERENCE_CENTRE: "preferences:change",
    RequestSource.PUBLIC_FORM: "privacy:ask",
}


def request_receive(
    kind: str,
    *,
    principal: Principal,
    source: str,
    contact_id: int | None = None,
    address: str | None = None,
    details: str = "",
    verified: bool = False,
    request=None,
) -> SubjectRequest:
    """Record a request, due 30 days after receipt; return it (or the open one of the same kind it repeats).

    - source preference_centre: principal is the contact's own link; the request is verified.
    - source public_form: the principal of the public door (privacy:ask) gives an address. When the
      address belongs to a contact, the request waits for the link mailed there (unverified). When it
      belongs to no contact, the owner is told at once that nothing is held, and the request is completed:
      the answer reaches only the address's owner, and the same page is shown either way.
    - source operator / api: a member with privacy:requests names the contact; verified says whether the
      member checked the subject's identity (otherwise the link is mailed to the contact's address).
    A repeat of an open request of the same kind for the same subject is not recorded twice: the open
    one is returned (and its link mailed again when it is still unverified).
    """
    _require(principal, _FILED_WITH.get(source, "privacy:requests"))
    kind = _check_kind(kind)
    details = _clean_text(details, "details", MAX_DETAILS) if details else ""
    if source == RequestSource.PREFERENCE_CENTRE:
        if principal.via != Via.PREFERENCE_LINK or contact_id is None or principal.credential_id != contact_id:
            raise PermissionDenied("A preference link acts for its own contact only.")
        verified = True
    elif source == RequestSource.PUBLIC_FORM:
        if not isinstance(address, str) or "@" not in address or len(address) > 254:
            raise ValidationError({"email": ["an email address"]})
        contact_id, verified = _contact_of_address(address), False
    elif source in (RequestSource.OPERATOR, RequestSource.API):
        if contact_id is None:
            raise ValidationError({"contact_id": ["the contact the request is about"]})
        contacts_selectors.contact_get(contact_id)  # DoesNotExist for another workspace's id
    else:
        raise ValidationError({"source": [f"one of {', '.join(RequestSource.values)}"]})

    hashed = _address_hash(address) if isinstance(address, str) else None
    with _atomic():
        duplicate = _open_duplicate(kind, contact_id=contact_id, hashed=hashed)
        if duplicate is not None:
            _audit("repeated", duplicate, principal=principal, request=request, source=source)
            if duplicate.status == RequestStatus.UNVERIFIED:
                _send_verification(duplicate)
            return duplicate
        now = timezone.now()
        row = SubjectRequest.objects.create(
            kind=kind, source=source, contact_id=contact_id, address_hash=hashed, received_at=now,
            due_at=now + DUE_AFTER, status=RequestStatus.VERIFIED if verified else RequestStatus.UNVERIFIED,
            verified_at=now if verified else None,
            handled_by=principal.user.pk if principal.user is not None else None,
        )  # fmt: skip
        if details and contact_id is not None:
            row.details_enc = keyring().data_key(contact_id).encrypt_text("subject_request", details)
            row.save(update_fields=["details_enc"])
        _audit("received", row, principal=principal, request=request, source=source)
        if contact_id is None:  # an address of nobody here: answered at once, to that address only
            _close(row, RequestStatus.COMPLETED, principal=principal, request=request, outcome={"no_data": True})
            _mail(address, f"Your request to {_workspace_name()}",
                  f"You asked {_workspace_name()} about the personal data it holds on this address.\n\n"
                  "It holds none: no contact has this address. Nothing more will be sent.\n")  # fmt: skip
        elif not verified:
            _send_verification(row)
        else:
            _acknowledge(row)
    return row


def _contact_of_address(address: str) -> int | None:
    try:
        return contacts_selectors.contact_by_unique_identifier("email", address).id
    except (ObjectDoesNotExist, ValidationError):
        return None


def _acknowledge(row: SubjectRequest) -> None:
    _mail(_contact_address(row.contact_id), f"We received your request ({row.get_kind_display()})",
          f"{_workspace_name()} received your request on {row.received_at:%Y-%m-%d}: {row.get_kind_display()}.\n"
          f"It will be answered by {row.due_at:%Y-%m-%d}.\n")  # fmt: skip


def _send_verification(row: SubjectRequest) -> None:
    """Mail the contact a fresh link proving control of its address (the previous link stops working)."""
    code = secrets.token_urlsafe(24)
    row.code_hash = _code_hash(row.pk, code)
    row.code_expires_at = timezone.now() + CODE_MAX_AGE
    row.code_attempts = 0
    row.save(update_fields=["code_hash", "code_expires_at", "code_attempts"])
    url = links.verify_url(require_workspace().slug, row.pk, code)
    _mail(_contact_address(row.contact_id), "Please confirm your request",
          f"Someone (we hope you) asked {_workspace_name()} for: {row.get_kind_display()}.\n\n"
          f"To confirm that the request is yours, open this link within 24 hours and press Confirm:\n\n{url}\n\n"
          "If it was not you, ignore this message: nothing will happen.\n")  # fmt: skip


# ==============================================================================================
# The lifecycle


def _get_for_update(request_id: int) -> SubjectRequest:
    return SubjectRequest.objects.select_for_update().get(pk=request_id)


def _expect(row: SubjectRequest, allowed: tuple[str, ...], action: str) -> None:
    if row.status not in allowed:
        raise ValidationError({"status": [f"a request that is {row.get_status_display().lower()} cannot be {action}"]})


def verify_by_token(request_id: int, code: str, *, principal: Principal, request=None) -> bool:
    """Verify a request with the code its link carries; return whether it is verified now.

    The code is compared in constant time; after MAX_CODE_ATTEMPTS wrong codes or past its expiry the
    link stops working (a member can send a new one). Any answer but True says nothing of why.
    """
    _require(principal, "privacy:ask")
    if not isinstance(code, str) or len(code) > 64:
        return False
    with _atomic():
        row = SubjectRequest.objects.select_for_update().filter(pk=request_id).first()
        if row is None or row.status not in _VERIFIABLE or row.code_hash is None or row.code_expires_at is None:
            return False
        if row.code_attempts >= MAX_CODE_ATTEMPTS or row.code_expires_at < timezone.now():
            return False
        if not hmac.compare_digest(bytes(row.code_hash), _code_hash(row.pk, code)):
            row.code_attempts += 1
            row.save(update_fields=["code_attempts"])
            return False
        _verified(row, principal=principal, request=request, by="link")
    return True


def package_opened(request_id: int, *, as_json: bool, principal: Principal, request=None) -> None:
    """Audit that the subject opened the access package of a completed request (the page or the JSON file).

    The package is built when opened and never stored (decision 0028): this entry is the record that the
    data left, and when. Raise SubjectRequest.DoesNotExist for a request not in this workspace.
    """
    _require(principal, "privacy:ask")
    with _atomic():
        row = SubjectRequest.objects.get(pk=request_id)
        _audit("package_opened", row, principal=principal, request=request, format="json" if as_json else "page")


def request_verify(request_id: int, *, principal: Principal, request=None) -> SubjectRequest:
    """A member attests the subject's identity was checked another way (by phone, in person)."""
    _require(principal, "privacy:requests")
    with _atomic():
        row = _get_for_update(request_id)
        _expect(row, _VERIFIABLE, "verified")
        _verified(row, principal=principal, request=request, by="member")
    return row


def _verified(row: SubjectRequest, *, principal: Principal, request, by: str) -> None:
    row.status, row.verified_at = RequestStatus.VERIFIED, timezone.now()
    row.code_hash, row.code_expires_at = None, None
    row.save(update_fields=["status", "verified_at", "code_hash", "code_expires_at"])
    _audit("verified", row, principal=principal, request=request, by=by)
    _acknowledge(row)


def request_resend_verification(request_id: int, *, principal: Principal, request=None) -> SubjectRequest:
    _require(principal, "privacy:requests")
    with _atomic():
        row = _get_for_update(request_id)
        _expect(row, _VERIFIABLE, "sent a new link")
        _send_verification(row)
        _audit("verification_sent", row, principal=principal, request=request)
    return row


def request_approve(request_id: int, *, principal: Principal, request=None) -> SubjectRequest:
    _require(principal, "privacy:requests")
    with _atomic():
        row = _get_for_update(request_id)
        _expect(row, _APPROVABLE, "approved")
        row.status = RequestStatus.APPROVED
        row.save(update_fields=["status"])
        _audit("approved", row, principal=principal, request=request)
    return row


def request_start(request_id: int, *, principal: Principal, request=None) -> SubjectRequest:
    _require(principal, "privacy:requests")
    with _atomic():
        row = _get_for_update(request_id)
        _expect(row, _STARTABLE, "started")
        row.status = RequestStatus.IN_PROGRESS
        row.save(update_fields=["status"])
        _audit("started", row, principal=principal, request=request)
    return row


def request_extend(request_id: int, *, days: int, reason: str, principal: Principal, request=None) -> SubjectRequest:
    """Move the due date by days (at most two months beyond the first due date in all), with the reason
    the subject is told."""
    _require(principal, "privacy:requests")
    reason = _clean_text(reason, "reason", MAX_REASON)
    if not reason:
        raise ValidationError({"reason": ["say why the request needs more time: the subject is told"]})
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION.days:
        raise ValidationError({"days": [f"a whole number of days from 1 to {MAX_EXTENSION.days}"]})
    with _atomic():
        row = _get_for_update(request_id)
        _expect(row, _EXTENDABLE, "extended")
        due = row.due_at + datetime.timedelta(days=days)
        if due > row.received_at + DUE_AFTER + MAX_EXTENSION:
            raise ValidationError({"days": ["at most two months beyond the first due date in all"]})
        row.status, row.due_at, row.reason, row.overdue_alerted_at = RequestStatus.EXTENDED, due, reason, None
        row.save(update_fields=["status", "due_at", "reason", "overdue_alerted_at"])
        _audit("extended", row, principal=principal, request=request, days=days)
        _mail(_contact_address(row.contact_id), "Your request needs more time",
              f"{_workspace_name()} needs more time to answer your request ({row.get_kind_display()}).\n"
              f"Reason: {reason}\nIt will be answered by {due:%Y-%m-%d}.\n")  # fmt: skip
    return row


def request_deny(request_id: int, *, reason: str, principal: Principal, request=None) -> SubjectRequest:
    _require(principal, "privacy:requests")
    reason = _clean_text(reason, "reason", MAX_REASON)
    if not reason:
        raise ValidationError({"reason": ["say why the request is denied: the subject is told"]})
    with _atomic():
        row = _get_for_update(request_id)
        _expect(row, OPEN_STATUSES, "denied")
        row.reason = reason
        address = _contact_address(row.contact_id)
        _close(row, RequestStatus.DENIED, principal=principal, request=request)
        _mail(address, "Your request was declined",
              f"{_workspace_name()} declined your request ({row.get_kind_display()}).\nReason: {reason}\n"
              "You may lodge a complaint with a data-protection supervisory authority.\n")  # fmt: skip
    return row


def _close(row: SubjectRequest, status: str, *, principal: Principal, request, outcome: dict | None = None) -> None:
    row.status, row.closed_at = status, timezone.now()
    row.outcome = outcome or {}
    row.code_hash, row.code_expires_at, row.details_enc = None, None, None
    row.save(update_fields=["status", "closed_at", "outcome", "reason", "code_hash", "code_expires_at", "details_enc"])
    _audit(status, row, principal=principal, request=request, **{k: v for k, v in row.outcome.items()
                                                                  if isinstance(v, int | bool)})  # fmt: skip


# ==============================================================================================
# Carrying out


def request_complete(request_id: int, *, principal: Principal, request=None) -> SubjectRequest:
    """Carry the request out and close it, telling the subject:

    - access: the subject gets a link (valid LINK_DAYS) to its data package, JSON or a readable page,
      built from every registered store when opened (no copy of it is kept);
    - erasure: the contact is erased from every store and its data key shredded (contacts' delete);
    - restriction: every consent-based purpose is withdrawn and email is set to Do-Not-Contact, so the
      data is only stored, not used;
    - objection: every purpose is objected to and email set to Do-Not-Contact (unsubscribed);
    - rectification: the member corrected the contact beforehand; completing records it.
    """
    _require(principal, "privacy:requests")
    with _atomic():
        row = _get_for_update(request_id)
        _expect(row, _COMPLETABLE, "completed")
        if row.contact_id is None:
            raise ValidationError({"contact_id": ["the request names no contact any more"]})
        address = _contact_address(row.contact_id)
        outcome = _CARRY_OUT[row.kind](row, principal, request)
        _close(row, RequestStatus.COMPLETED, principal=principal, request=request, outcome=outcome)
        _mail(address, "Your request was carried out", _completion_text(row))
    return row


def _carry_access(row: SubjectRequest, principal: Principal, request) -> dict:
    _require(principal, "privacy:export")
    return {"link_days": links.PACKAGE_DAYS}


def _carry_erasure(row: SubjectRequest, principal: Principal, request) -> dict:
    _require(principal, "privacy:erase")
    contact_id = row.contact_id
    assert contact_id is not None
    address = _contact_address(contact_id)
    contacts_actions.contact_delete(contact_id, principal=principal, request=request)
    row.contact_id = None  # the row stays as proof; the registry already anonymised it in the database
    if address:  # only a keyed hash of the address stays, so the person is not mailed again if re-imported
        emails_feedback.suppression_add(address, reason="erased", principal=principal)
    return {"erased": True, "suppressed": bool(address)}


def _withdraw_everything(row: SubjectRequest, principal: Principal, request, *, channel_reason: str) -> dict:
    contact_id = row.contact_id
    assert contact_id is not None
    withdrawn = 0
    for purpose in consent_selectors.purposes():
        consent_actions.consent_record(purpose=purpose.key, given=False, method="operator", contact_id=contact_id,
                                       source=f"subject_request:{row.pk}", principal=principal,
                                       request=request)  # fmt: skip
        withdrawn += 1
    contacts_actions.dnc_add(contact_id, reason=channel_reason, principal=principal, request=request)
    return {"purposes_withdrawn": withdrawn}


def _carry_restriction(row: SubjectRequest, principal: Principal, request) -> dict:
    return _withdraw_everything(row, principal, request, channel_reason="manual")


def _carry_objection(row: SubjectRequest, principal: Principal, request) -> dict:
    return _withdraw_everything(row, principal, request, channel_reason="unsubscribed")


def _carry_rectification(row: SubjectRequest, principal: Principal, request) -> dict:
    return {"rectified": True}


_CARRY_OUT: dict[str, Callable[[SubjectRequest, Principal, object], dict]] = {
    RequestKind.ACCESS: _carry_access,
    RequestKind.ERASURE: _carry_erasure,
    RequestKind.RESTRICTION: _carry_restriction,
    RequestKind.OBJECTION: _carry_objection,
    RequestKind.RECTIFICATION: _carry_rectification,
}


def _completion_text(row: SubjectRequest) -> str:
    name = _workspace_name()
    if row.kind == RequestKind.ACCESS:
        url = links.package_url(require_workspace().slug, row.pk)
        return (f"{name} carried out your request for a copy of your data.\nOpen this link within "
                f"{links.PACKAGE_DAYS} days to read it (a page) or download it (JSON):\n\n{url}\n")  # fmt: skip
    if row.kind == RequestKind.ERASURE:
        return f"{name} erased the personal data it held about you. This is the last message you get from it.\n"
    return f"{name} carried out your request: {row.get_kind_display()}.\n"


# ==============================================================================================
# Overdue alerts (the periodic job calls this inside each workspace, as the system)


def alert_overdue(*, principal: Principal, now: datetime.datetime | None = None) -> int:
    """Mark the open requests past their due date as alerted and tell the workspace's admins; return how many."""
    _require(principal, "privacy:requests")
    now = now or timezone.now()
    with _atomic():
        rows = list(SubjectRequest.objects.select_for_update().filter(status__in=OPEN_STATUSES, due_at__lt=now,
                                                                      overdue_alerted_at__isnull=True))  # fmt: skip
        if not rows:
            return 0
        SubjectRequest.objects.filter(pk__in=[row.pk for row in rows]).update(overdue_alerted_at=now)
        for row in rows:
            _audit("overdue", row, principal=principal, due=row.due_at.isoformat())
        _mail_admins(len(rows))
    return len(rows)


def _mail_admins(count: int) -> None:
    from tidings.accounts.selectors import workspace_admin_emails
    from tidings.tenancy.selectors import workspace_by_id

    workspace = workspace_by_id(require_workspace().id)
    recipients = workspace_admin_emails(workspace) if workspace is not None else []
    if not recipients:
        return
    base = str(settings.TIDINGS_BASE_URL).rstrip("/")
    message = EmailMessage(
        subject=f"{count} data-subject request{'s are' if count != 1 else ' is'} overdue",
        body=f"{count} request{'s' if count != 1 else ''} passed the due date without an answer.\n"
        f"The queue: {base}/w/{require_workspace().slug}/privacy/requests/?overdue=1\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )

    def send() -> None:
        try:
            message.send()
        except Exception:
            log.exception("the overdue alert could not be sent")

    _on_commit(send)
