"""Every write of sending: start, pause, resume and cancel a broadcast, run it, send one email to one contact.

Each action takes the principal that acts and checks emails:send; each is audited with ids only. The
engine (tidings.emails.sender) does the work of a run; these decide what may happen to a send:

    queued --run--> running --batches--> finished
    queued/running --pause--> paused --resume--> queued
    queued/running/paused --cancel--> cancelled

A/B test (decision 0026): a broadcast of a parent with variants is a test send, which gives each arm its
share and holds the rest; ab_test_hours after it starts, a scheduled task runs ab_pick_winner, which picks the
arm with the best open or click rate (ties: the parent), records it and starts the winner's send to the held.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tidings.accounts.permissions import Principal, require
from tidings.audit.actions import audit_record
from tidings.contacts import selectors as contacts_selectors
from tidings.emails import content, eligibility, lanes, retries, selectors_authoring, selectors_sending, sender
from tidings.emails.models import Delivery, DeliveryStatus, Email, EmailKind, EmailVersion, Send, SendStatus
from tidings.privacy.vault import keyring
from tidings.tenancy.context import require_workspace

ACTIVE = (SendStatus.QUEUED, SendStatus.RUNNING, SendStatus.PAUSED)


def _atomic():
    return transaction.atomic(using=require_workspace().db_alias)


def _require(principal: Principal, permission: str = "emails:send") -> Principal:
    return require(principal, permission, workspace_id=require_workspace().id)


def _audit(action: str, *, principal, request=None, email_id: object = "", **data) -> None:
    audit_record(action, principal=principal, request=request, target_type="email", target_id=email_id, data=data)


def _user_id(principal: Principal) -> int | None:
    return getattr(principal.user, "pk", None)


def _check_sender(email: Email) -> None:
    sending = selectors_sending.sending_settings()
    address = email.from_address or sending.from_address
    domains = [str(d).lower() for d in sending.sending_domains or []]
    if address and domains and address.rpartition("@")[2].lower() not in domains:
        raise ValidationError({"from_address": ["an address at one of the workspace's sending domains"]})


def _version_to_send(email: Email) -> EmailVersion:
    """Return the frozen version email is at, freezing it first for an email saved before every save froze
    its version (the selector only reads). Inside the caller's transaction."""
    found = selectors_authoring.version_current(email)
    if found is not None:
        return found
    try:
        with _atomic():
            return EmailVersion.objects.create(
                email_id=email.pk, number=email.version, subject=email.subject, preheader=email.preheader,
                from_name=email.from_name, from_address=email.from_address, reply_to=email.reply_to,
                html=email.html, text=email.text or content.html_to_text(email.html),
            )  # fmt: skip
    except IntegrityError:  # frozen meanwhile by another request
        return EmailVersion.objects.get(email_id=email.pk, number=email.version)


def _enqueue(send: Send, *, at: datetime.datetime | None = None) -> None:
    from tidings.emails.tasks import run_send_task

    workspace_id = require_workspace().id
    if at is not None and at > timezone.now():
        from tidings.jobs.actions import schedule_task

        schedule_task(run_send_task, due_at=at, workspace_id=workspace_id, dedupe_key=f"email-send:{send.pk}",
                      send_id=send.pk)  # fmt: skip
        return
    transaction.on_commit(lambda: run_send_task.enqueue(workspace_id=workspace_id, send_id=send.pk),
                          using=require_workspace().db_alias)  # fmt: skip


def send_start(email_id: int, *, principal: Principal, scheduled_at=None, request=None) -> Send:
    """Start a broadcast of email email_id to the members of its segments (now, or at scheduled_at); return it.

    Needs emails:send. Raise Email.DoesNotExist for an email not in this workspace, ValidationError when
    it is not a published broadcast with segments, already has a send under way, or its sender address is
    outside the workspace's sending domains.
    """
    _require(principal)
    with _atomic():
        email = Email.objects.select_for_update().get(pk=email_id)
        if email.kind != EmailKind.BROADCAST:
            raise ValidationError({"kind": ["only a broadcast is sent to segments; a template is sent per contact"]})
        if not email.published:
            raise ValidationError({"published": ["publish the email before sending it"]})
        segment_ids = [int(s) for s in email.segment_ids or []]
        if not segment_ids:
            raise ValidationError({"segment_ids": ["choose at least one segment"]})
        if Send.objects.filter(email_id=email.pk, broadcast=True, status__in=ACTIVE).exists():
            raise ValidationError({"email": ["this email is already being sent"]})
        _check_sender(email)
        version = _version_to_send(email)
        ab_versions = _ab_versions(email)
        send = Send.objects.create(
            email_id=email.pk, version=version.number, broadcast=True, segment_ids=segment_ids,
            status=SendStatus.QUEUED, total=selectors_sending.recipients_count(segment_ids), scheduled_at=scheduled_at,
            created_by=_user_id(principal), ab_versions=ab_versions, lanes=lanes.new_send_lanes(),
        )  # fmt: skip
        _audit("email.send_started", principal=principal, request=request, email_id=email.pk, send=send.pk,
               total=send.total, scheduled=scheduled_at.isoformat() if scheduled_at else None,
               ab_test=sorted(int(i) for i in ab_versions) or None)  # fmt: skip
        _enqueue(send, at=scheduled_at)
        if ab_versions:
            _schedule_winner(send, (scheduled_at or timezone.now()) + datetime.timedelta(hours=email.ab_test_hours))
    return send


def _ab_versions(email: Email) -> dict[str, int]:
    """Return {email id: version} of the parent and its variants when email is an A/B test, else {}.

    Raise ValidationError when the test cannot run: a variant sent on its own, an arm without a share,
    shares over 100%, no criterion or test period.
    """
    if email.variant_of is not None:
        raise ValidationError({"variant_of": ["a variant is sent by broadcasting its parent email"]})
    variants = selectors_authoring.variants_of(email.pk)
    if not variants:
        return {}
    arms = [email, *variants]
    if any(int(arm.variant_weight) < 1 for arm in arms):
        raise ValidationError({"variant_weight": ["give the email and each variant a share of the test group"]})
    total = sum(int(arm.variant_weight) for arm in arms)
    if total > 100:
        raise ValidationError({"variant_weight": [f"the shares add up to {total}%; at most 100%"]})
    if not email.ab_criterion or int(email.ab_test_hours) < 1:
        raise ValidationError({"ab_criterion": ["choose the winner's criterion and a test period of an hour or more"]})
    for variant in variants:
        if not variant.published:
            raise ValidationError({"published": ["publish every variant before sending the test"]})
    return {str(arm.pk): _version_to_send(arm).number for arm in arms}


def _schedule_winner(send: Send, due_at: datetime.datetime, attempt: int = 0) -> None:
    from tidings.emails.tasks import pick_ab_winner_task
    from tidings.jobs.actions import schedule_task

    schedule_task(pick_ab_winner_task, due_at=due_at, workspace_id=require_workspace().id,
                  dedupe_key=f"email-ab-winner:{send.pk}:{attempt}", send_id=send.pk, attempt=attempt)  # fmt: skip


AB_RETRY = datetime.timedelta(minutes=10)


def ab_pick_winner(send_id: int, *, principal: Principal, attempt: int = 0) -> Send | None:
    """Pick the winner of A/B test send send_id and send it to the recipients the test held; return the
    winner's send (None when nothing is held: the shares took everyone, or the test was cancelled).

    The arm with the highest rate of the parent's criterion wins; a tie goes to the parent (then the older
    variant). The rates decided on are kept in the send's ab_result, the winner in the parent's ab_winner_id,
    and audited. Run again, it decides nothing new: it only queues the winner's send again if it is still
    queued (a worker lost the first queueing). A test still sending is looked at again in AB_RETRY.
    Needs emails:send. Raise Send.DoesNotExist, ValidationError for a send that is no A/B test.
    """
    _require(principal)
    with _atomic():
        send = Send.objects.select_for_update().get(pk=send_id)
        if not send.ab_versions or send.held_from_send_id is not None:
            raise ValidationError({"send": ["not an A/B test send"]})
        remainder = Send.objects.filter(held_from_send_id=send.pk).first()
        if send.ab_result:
            if remainder is not None and remainder.status == SendStatus.QUEUED:
                _enqueue(remainder)
            return remainder
        if send.status == SendStatus.CANCELLED:
            return None
        if send.status != SendStatus.FINISHED:
            _schedule_winner(send, timezone.now() + AB_RETRY, attempt + 1)
            return None
        parent = Email.objects.select_for_update().get(pk=send.email_id)
        criterion = parent.ab_criterion or "open_rate"
        result = selectors_sending.ab_rates(send, criterion)
        winner = int(result["winner"])
        held = selectors_sending.held_count(send.pk)
        Send.objects.filter(pk=send.pk).update(ab_result=result)
        Email.objects.filter(pk=parent.pk).update(ab_winner_id=winner, updated_at=timezone.now())
        if held:
            remainder = Send.objects.create(
                email_id=winner, version=int(send.ab_versions[str(winner)]), broadcast=True,
                segment_ids=send.segment_ids, status=SendStatus.QUEUED, total=held, held_from_send_id=send.pk,
                created_by=send.created_by, lanes=lanes.new_send_lanes(),
            )  # fmt: skip
            _enqueue(remainder)
        _audit("email.ab_winner_picked", principal=principal, email_id=parent.pk, send=send.pk, winner=winner,
               criterion=criterion, rates={k: v["rate"] for k, v in result["arms"].items()}, held=held,
               remainder_send=remainder.pk if remainder else None)  # fmt: skip
    return remainder


def _transition(send_id: int, allowed: tuple[str, ...], to: str, *, principal, request, action: str) -> Send:
    _require(principal)
    with _atomic():
        send = Send.objects.select_for_update().get(pk=send_id)
        if send.status not in allowed:
            raise ValidationError({"status": [f"a {send.get_status_display().lower()} send cannot be {action}"]})
        fields: dict = {"status": to}
        if to in (SendStatus.CANCELLED,):
            fields["finished_at"] = timezone.now()
        # update(), not save(): the runner writes counts and its checkpoint on the same row meanwhile.
        Send.objects.filter(pk=send_id).update(**fields)
        send.refresh_from_db()
        _audit(f"email.send_{action}", principal=principal, request=request, email_id=send.email_id, send=send.pk)
    return send


def send_pause(send_id: int, *, principal: Principal, request=None) -> Send:
    """Pause a queued or running send: its runner stops after the batch in hand. Needs emails:send.

    Raise Send.DoesNotExist, ValidationError when it is not queued or running.
    """
    _require(principal)
    return _transition(send_id, (SendStatus.QUEUED, SendStatus.RUNNING), SendStatus.PAUSED, principal=principal,
                       request=request, action="paused")  # fmt: skip


def send_resume(send_id: int, *, principal: Principal, request=None) -> Send:
    """Resume a paused send from its checkpoint (queued again). Needs emails:send.

    Raise Send.DoesNotExist, ValidationError when it is not paused.
    """
    _require(principal)
    send = _transition(send_id, (SendStatus.PAUSED,), SendStatus.QUEUED, principal=principal, request=request,
                       action="resumed")  # fmt: skip
    with _atomic():
        _enqueue(send)
    return send


def send_cancel(send_id: int, *, principal: Principal, request=None) -> Send:
    """Cancel a send that has not finished: nothing more is sent (what was sent stays counted). Needs emails:send.

    Raise Send.DoesNotExist, ValidationError when it already finished or was cancelled.
    """
    _require(principal)
    return _transition(send_id, ACTIVE, SendStatus.CANCELLED, principal=principal, request=request,
                       action="cancelled")  # fmt: skip


def send_run(send_id: int, *, principal: Principal, batch_size: int = sender.BATCH_SIZE,
             stop_after: int | None = None, lane: int | None = None) -> sender.RunResult:  # fmt: skip
    """Run a queued (or abandoned running) send until it finishes or is paused/cancelled; return the result.

    lane: only that lane of a send in lanes (decision 0036); the run that finishes the last lane audits.
    Needs emails:send (the task acts as the system). A send another live runner holds is left to it.
    """
    _require(principal)
    result = sender.run_send(send_id, batch_size=batch_size, stop_after=stop_after, lane=lane)
    if result.status == SendStatus.FINISHED:
        send = selectors_sending.send_get(send_id)
        with _atomic():
            _audit("email.send_finished", principal=principal, email_id=send.email_id, send=send.pk,
                   counts=dict(send.counts or {}))  # fmt: skip
    return result


def send_retry_deferred(send_id: int, *, principal: Principal) -> dict[str, int]:
    """Try again the send's deferred messages that are due (SMTP 4xx, no connection); return their outcomes'
    counts. Needs emails:send (the task acts as the system). Audited when anything was tried."""
    _require(principal)
    counts = retries.retry_deferred(send_id)
    if counts:
        send = selectors_sending.send_get(send_id)
        with _atomic():
            _audit("email.send_retried", principal=principal, email_id=send.email_id, send=send.pk, counts=counts)
    return counts


def _extra_tokens(tokens: Mapping[str, str] | None) -> dict[str, str]:
    """Return Mautic-style tokens as {"{name}": value}: names given with or without their braces."""
    out: dict[str, str] = {}
    for name, value in (tokens or {}).items():
        name = str(name).strip()
        if not name or len(name) > 80 or value is None:
            continue
        key = name if name.startswith("{") and name.endswith("}") else "{" + name.strip("{}") + "}"
        out[key] = str(value)[:2000]
    return out


def send_to_contact(email_id: int, contact_id: int, *, tokens: Mapping[str, str] | None = None,
                    principal: Principal, request=None) -> Delivery:  # fmt: skip
    """Send email email_id to one contact now (a template or transactional email: forms, campaigns, API).

    tokens: Mautic-style extra tokens, {"{coupon}": "SPRING"} (braces optional), filled like contact values.
    The same eligibility as a broadcast applies (transactional rules for a transactional email); a contact
    who may not get it has a skipped delivery with the reason. Return the Delivery (status sent, skipped,
    failed or in_doubt). Needs emails:send. Raise Email.DoesNotExist / ValidationError for an email of
    another workspace or not published, Contact.DoesNotExist for a contact not in this workspace.
    """
    _require(principal)
    extra = _extra_tokens(tokens)
    with _atomic():
        email = Email.objects.get(pk=email_id)
        if not email.published:
            raise ValidationError({"published": ["publish the email before sending it"]})
        contacts = contacts_selectors.contacts_get([contact_id])
        if contact_id not in contacts:
            contacts_selectors.contact_get(contact_id)  # raises Contact.DoesNotExist
        version = _version_to_send(email)
        sending = selectors_sending.sending_settings()
        send = Send.objects.create(email_id=email.pk, version=version.number, broadcast=False, total=1,
                                   status=SendStatus.RUNNING, started_at=timezone.now(),
                                   created_by=_user_id(principal))  # fmt: skip
        verdict = eligibility.check([contact_id], email=email, settings=sending, ring=keyring(), contacts=contacts)
        if contact_id in verdict.skipped:
            reason = verdict.skipped[contact_id]
            delivery = Delivery.objects.create(send_id=send.pk, email_id=email.pk, contact_id=contact_id,
                                               status=DeliveryStatus.SKIPPED, reason=reason)  # fmt: skip
            Send.objects.filter(pk=send.pk).update(status=SendStatus.FINISHED, finished_at=timezone.now(),
                                                   counts={f"skipped:{reason}": 1})  # fmt: skip
            _audit("email.sent_to_contact", principal=principal, request=request, email_id=email.pk, send=send.pk,
                   contact=contact_id, skipped=reason)  # fmt: skip
            return delivery
        Delivery.objects.create(send_id=send.pk, email_id=email.pk, contact_id=contact_id,
                                status=DeliveryStatus.CLAIMED)  # fmt: skip
        context = sender.build_context(send, email, sending)
        (job,) = sender.jobs_for(verdict.allowed, context, sender.Owners(), extra=extra)
    # The claim is committed before the message leaves (unless a caller's transaction holds it).
    connection, raw = sender.open_connection(sending)
    try:
        outcome = sender.send_one(context, connection, raw, job)
    finally:
        connection.close()
    with _atomic():
        counts = sender.record_outcomes(send, [outcome])
        Send.objects.filter(pk=send.pk).update(status=SendStatus.FINISHED, finished_at=timezone.now(), counts=counts)
        _audit("email.sent_to_contact", principal=principal, request=request, email_id=email.pk, send=send.pk,
               contact=contact_id, status=outcome.status)  # fmt: skip
    return Delivery.objects.get(send_id=send.pk, contact_id=contact_id)


def send_to_contacts(email_id: int, contact_ids: Iterable[int], *, principal: Principal,
                     request=None) -> dict[int, tuple[str, str]]:  # fmt: skip
    """Send email email_id now to each of contact_ids (a campaign's send step for a batch of due contacts).

    send_to_contact for many: one Send, one eligibility pass (a broadcast's rules, transactional ones for a
    transactional email), the deliveries claimed and committed before any message leaves (a crash leaves
    them claimed: in doubt, never resent), the messages over the workspace's parallel connections, one
    audit entry with counts. Return {contact id: (status, reason)} for every id: sent, skipped (reason),
    failed, deferred; ids not in this workspace are skipped with no_contact. Needs emails:send. Raise
    Email.DoesNotExist / ValidationError as send_to_contact does.
    """
    _require(principal)
    ids = sorted({int(c) for c in contact_ids})
    out: dict[int, tuple[str, str]] = {}
    if not ids:
        return out
    with _atomic():
        email = Email.objects.get(pk=email_id)
        if not email.published:
            raise ValidationError({"published": ["publish the email before sending it"]})
        contacts = contacts_selectors.contacts_get(ids)
        out.update({c: (DeliveryStatus.SKIPPED, "no_contact") for c in ids if c not in contacts})
        version = _version_to_send(email)
        sending = selectors_sending.sending_settings()
        send = Send.objects.create(email_id=email.pk, version=version.number, broadcast=False, total=len(contacts),
                                   status=SendStatus.RUNNING, started_at=timezone.now(),
                                   created_by=_user_id(principal))  # fmt: skip
        verdict = eligibility.check(sorted(contacts), email=email, settings=sending, ring=keyring(), contacts=contacts)
        workspace_id = require_workspace().id
        skipped = {c: (DeliveryStatus.SKIPPED, reason) for c, reason in verdict.skipped.items()}
        rows = [
            Delivery(
                workspace_id=workspace_id,
                send_id=send.pk,
                email_id=email.pk,
                contact_id=c,
                status=DeliveryStatus.SKIPPED,
                reason=reason,
            )
            for c, (_, reason) in skipped.items()
        ]
        rows += [Delivery(workspace_id=workspace_id, send_id=send.pk, email_id=email.pk, contact_id=view.id,
                          status=DeliveryStatus.CLAIMED) for view in verdict.allowed]  # fmt: skip
        Delivery.objects.bulk_create(rows)
        out.update(skipped)
        context = sender.build_context(send, email, sending)
        jobs = sender.jobs_for(verdict.allowed, context, sender.Owners())
    # The claims are committed before the messages leave (unless a caller's transaction holds them).
    outcomes: list[sender.Outcome] = []
    if jobs:
        workers = sender.Workers(context, count=max(1, min(int(sending.connections or 1), 16, len(jobs))),
                                 backend=sender.backend_path(sending), journal=None,
                                 rate=int(sending.rate_per_second or 0))  # fmt: skip
        try:
            outcomes = workers.send_all(jobs)
        finally:
            workers.close()
    with _atomic():
        counts = sender.record_outcomes(send, outcomes)
        for _, reason in skipped.values():
            counts[f"skipped:{reason}"] = counts.get(f"skipped:{reason}", 0) + 1
        Send.objects.filter(pk=send.pk).update(status=SendStatus.FINISHED, finished_at=timezone.now(), counts=counts)
        _audit("email.sent_to_contacts", principal=principal, request=request, email_id=email.pk, send=send.pk,
               contacts=len(ids), sent=counts.get(DeliveryStatus.SENT, 0), skipped=len(skipped))  # fmt: skip
    out.update({o.contact_id: (o.status, o.reason) for o in outcomes})
    return out


# ==============================================================================================
# Sending settings

SETTINGS_FIELDS = ("from_name", "from_address", "sending_domains", "backend", "connections", "rate_per_second",
                   "cap_count", "cap_days", "dkim_domain", "dkim_selector")  # fmt: skip
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_SELECTOR = re.compile(r"^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$")


def _backend_installed(backend: str) -> bool:
    from django.utils.module_loading import import_string

    path = sender.ESP_BACKENDS.get(backend)  # type: ignore[call-overload]
    if path is None:
        return True
    try:
        import_string(path)
    except Exception:  # anymail raises its own ImproperlyInstalled for an ESP's missing package
        return False
    return True


def _checked_settings(values: Mapping, current) -> dict:
    from django.core.validators import validate_email

    from tidings.emails.models import SendingBackend

    errors: dict[str, list[str]] = {}
    out: dict = {}
    for name in SETTINGS_FIELDS:
        if name not in values:
            continue
        value = values[name]
        if name in ("from_name",):
            value = " ".join(str(value or "").split())[:191]
        elif name == "from_address":
            value = str(value or "").strip()
            if value:
                try:
                    validate_email(value)
                except ValidationError:
                    errors[name] = ["an email address"]
        elif name == "sending_domains":
            items = value if isinstance(value, list | tuple) else str(value or "").replace(",", " ").split()
            value = sorted({str(d).strip().lower().rstrip(".") for d in items if str(d).strip()})
            if any(not _DOMAIN.match(d) for d in value) or len(value) > 50:
                errors[name] = ["domain names such as news.example.com (at most 50)"]
        elif name == "backend":
            if value not in SendingBackend.values:
                errors[name] = ["one of the offered backends"]
            elif not _backend_installed(value):
                errors[name] = ["a backend this installation has the packages for (see docs/configuration.md)"]
        elif name in ("connections", "rate_per_second", "cap_count", "cap_days"):
            limits = {"connections": (1, 16), "rate_per_second": (0, 100_000), "cap_count": (0, 1000),
                      "cap_days": (1, 365)}[name]  # fmt: skip
            try:
                value = int(value)
            except (TypeError, ValueError):
                value = None
            if value is None or not limits[0] <= value <= limits[1]:
                errors[name] = [f"a whole number from {limits[0]} to {limits[1]}"]
        elif name == "dkim_domain":
            value = str(value or "").strip().lower().rstrip(".")
            if value and not _DOMAIN.match(value):
                errors[name] = ["a domain name"]
        elif name == "dkim_selector":
            value = str(value or "").strip().lower()
            if value and not _SELECTOR.match(value):
                errors[name] = ["letters, digits, - and _"]
        out[name] = value
    if errors:
        raise ValidationError(errors)
    return out


_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9.-]*[a-z0-9])?$|^\[?[0-9a-f:.]+\]?$")
_SES_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")
_ACCESS_KEY_ID = re.compile(r"^[A-Z0-9]{16,128}$")
_PRINTABLE = re.compile(r"^[\x21-\x7e]{1,512}$")  # API keys and passwords: visible ASCII, no spaces
_SIGNING_KEY = re.compile(r"^[\x21-\x7e]{1,4096}$")  # a public key (Postal, SendGrid) is longer than a secret


def _checked_credentials(values: Mapping[str, object]) -> dict[str, str]:
    """Return the credential parts given (non-empty), checked; raise ValidationError keyed by part."""
    from tidings.emails import credentials

    errors: dict[str, list[str]] = {}
    out: dict[str, str] = {}
    for part, raw in values.items():
        if part not in credentials.CREDENTIAL_PARTS:
            errors[part] = ["not a sending credential"]
            continue
        value = str(raw if raw is not None else "").strip()
        if not value:
            continue
        ok = True
        if part == "smtp_host":
            value = value.lower().rstrip(".")
            ok = bool(_HOST.match(value))
        elif part == "smtp_port":
            ok = value.isdigit() and 1 <= int(value) <= 65535
        elif part == "smtp_security":
            ok = value in credentials.SECURITY_CHOICES
        elif part == "smtp_username":
            ok = len(value) <= 254 and "\n" not in value and "\r" not in value and "\x00" not in value
        elif part == "ses_region":
            ok = bool(_SES_REGION.match(value))
        elif part == "ses_access_key_id":
            ok = bool(_ACCESS_KEY_ID.match(value))
        elif part == "mailgun_sender_domain":
            value = value.lower().rstrip(".")
            ok = bool(_DOMAIN.match(value))
        elif part == "esp_webhook_signing_key":
            ok = bool(_SIGNING_KEY.match(value))
        else:  # smtp_password, esp_api_key, ses_secret_access_key
            ok = bool(_PRINTABLE.match(value))
        if ok:
            out[part] = value
        else:  # the message never repeats the value: it may be a secret
            errors[part] = ["not a valid value for this setting"]
    if errors:
        raise ValidationError(errors)
    return out


def sending_settings_update(*, principal: Principal, request=None, dkim_private_key: str | None = None,
                            remove_dkim_key: bool = False, credentials: Mapping[str, object] | None = None,
                            clear_credentials: bool = False, rotate_webhook_secret: bool = False,
                            **values) -> object:  # fmt: skip
    """Change the workspace's sending settings (SETTINGS_FIELDS); return them. Needs settings:manage.

    dkim_private_key (PEM) replaces the stored key, sealed at rest (checked first that dkimpy can sign
    with it); remove_dkim_key drops it. The audit entry names the fields changed, never a value of the key.

    credentials: the workspace's own SMTP / ESP credential parts (tidings.emails.credentials.CREDENTIAL_PARTS);
    a non-empty part replaces the stored one, an empty one keeps it; clear_credentials drops them all first.
    rotate_webhook_secret makes a new ESP webhook secret (the old one stops working). All are sealed at rest;
    the audit names the parts changed ("credentials:smtp_password", "webhook_secret"), never a value.

    Raise ValidationError keyed by field for a value out of range, an unknown field or a key that does not parse.
    """
    _require(principal, "settings:manage")
    from tidings.emails import headers
    from tidings.emails.models import SendingSettings

    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError({name: ["not a sending setting"] for name in sorted(unknown)})
    with _atomic():
        current = SendingSettings.objects.select_for_update().first() or SendingSettings()
        changes = _checked_settings(values, current)
        for name, value in changes.items():
            setattr(current, name, value)
        changed = sorted(changes)
        if dkim_private_key:
            # A textarea posts CRLF line breaks, which dkimpy's PEM reader refuses.
            pem = dkim_private_key.replace("\r\n", "\n").strip().encode() + b"\n"
            if not headers.dkim_check_key(pem):
                raise ValidationError({"dkim_private_key": ["a PEM private key (RSA or Ed25519) DKIM can sign with"]})
            current.dkim_key_version, current.dkim_key_wrapped, current.dkim_key_sealed = headers.seal_dkim_key(
                keyring(), pem
            )
            changed.append("dkim_private_key")
        elif remove_dkim_key:
            current.dkim_key_version = current.dkim_key_wrapped = current.dkim_key_sealed = None
            changed.append("dkim_private_key")
        changed += _update_credentials(current, credentials or {}, clear=clear_credentials,
                                       rotate_webhook_secret=rotate_webhook_secret)  # fmt: skip
        current.updated_at = timezone.now()
        current.save()
        audit_record("email.sending_settings_changed", principal=principal, request=request,
                     target_type="sending_settings", target_id=current.pk, data={"fields": changed})  # fmt: skip
    return current


def _update_credentials(current, given: Mapping[str, object], *, clear: bool, rotate_webhook_secret: bool) -> list[str]:
    """Apply the credential changes to current (a SendingSettings, not saved); return the audit's names of them."""
    from tidings.emails import credentials

    checked = _checked_credentials(given)
    if not (checked or clear or rotate_webhook_secret):
        return []
    ring = keyring()
    parts = credentials.open_parts(ring, current)
    changed = []
    if clear:
        changed += [f"credentials:{part}" for part in credentials.CREDENTIAL_PARTS if part in parts]
        parts = {k: v for k, v in parts.items() if k not in credentials.CREDENTIAL_PARTS}
    for part, value in checked.items():
        if parts.get(part) != value:
            parts[part] = value
            changed.append(f"credentials:{part}")
    if rotate_webhook_secret:
        parts[credentials.WEBHOOK_SECRET] = credentials.new_webhook_secret()
        changed.append(credentials.WEBHOOK_SECRET)
    if parts:
        current.credentials_key_version, current.credentials_key_wrapped, current.credentials_sealed = (
            credentials.seal_parts(ring, parts)
        )
    else:
        current.credentials_key_version = current.credentials_key_wrapped = current.credentials_sealed = None
    current.credential_parts = sorted(parts)
    return sorted(set(changed))
