"""Every write of forms: forms (create, change, delete), a public submission, its double opt-in confirmation.

Form actions need forms:edit and are audited with ids only. form_submit and submission_confirm are
called by the public form door (tidings.web.entry.PUBLIC_FORM) with its narrow principal
(forms:submit, consent:record); they write contacts, segments and the consent ledger through those
apps' own actions, acting as the system there once their own permission is checked.

How a submission touches contacts (decision 0020; tracking.identify's takeover rule, for forms):

- trusted: the submission created the contact (its email belongs to no one), or the device it came
  from is already identified as that contact. Mapped fields are written, consent checkboxes are
  recorded (the double opt-in purpose only once confirmed), submit actions run, and a device that may
  be profiled is joined to a contact the submission created.
- untrusted: the email typed belongs to an existing contact the device is not. Only its empty,
  publicly updatable fields are filled; consents and submit actions are held on the submission and
  happen only when the double opt-in link sent to that address is followed (never, without one).
  The device is never joined. The answer to the page is the same either way, so nothing is revealed.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone

from tidings.accounts.permissions import Principal, require, system_principal
from tidings.accounts.selectors import members_by_id
from tidings.audit.actions import audit_record, truncate_ip
from tidings.consent import actions as consent_actions
from tidings.contacts import actions as contacts_actions
from tidings.contacts import selectors as contacts_selectors
from tidings.contacts import selectors_fields as contacts_fields
from tidings.emails.actions import sending as emails_sending
from tidings.events import actions as events_actions
from tidings.events.registry import strip_url
from tidings.forms import selectors, tokens
from tidings.forms.answers import Answers, read_answers
from tidings.forms.definition import checked_form
from tidings.forms.event_types import FORM_CONFIRMED, FORM_SUBMITTED
from tidings.forms.models import ActionKind, Form, Submission, SubmissionStatus
from tidings.forms.personal_data import SEALED_FIELD
from tidings.privacy.guard import GuardPolicy, scan_values
from tidings.privacy.vault import keyring
from tidings.segments import actions as segments_actions
from tidings.tenancy.bulk import allocate_ids
from tidings.tenancy.context import require_workspace
from tidings.tenancy.selectors import workspace_by_id
from tidings.tracking import actions as tracking_actions
from tidings.tracking import selectors as tracking_selectors

log = logging.getLogger(__name__)

FORM_ATTRIBUTES = ("name", "alias", "description", "published", "success_message", "redirect_url")
SENSITIVE_MESSAGE = "This answer looks like sensitive data (such as a card or account number) and was not accepted."


def _atomic():
    return transaction.atomic(using=require_workspace().db_alias)


def _require(principal: Principal, permission: str) -> Principal:
    return require(principal, permission, workspace_id=require_workspace().id)


def _audit(action: str, *, principal, request=None, form_id: object = "", **data) -> None:
    audit_record(action, principal=principal, request=request, target_type="form", target_id=form_id, data=data)


def _system(reason: str = "forms:submit") -> Principal:
    return system_principal(workspace_by_id(require_workspace().id), reason=reason)


# ==============================================================================================
# Forms


def _save(form: Form, definition: dict[str, Any]) -> None:
    for attribute, value in definition.items():
        setattr(form, attribute, value)
    form.updated_at = timezone.now()
    try:
        with transaction.atomic(using=require_workspace().db_alias):
            form.save()
    except IntegrityError as error:
        raise ValidationError({"alias": ["an alias no other form of this workspace has"]}) from error


def form_create(*, principal: Principal, request=None, fields: Any = (), actions: Any = (), **values: Any) -> Form:
    """Create a form from its settings (name, alias, description, published, success_message, redirect_url),
    fields and submit actions; return it.

    Needs forms:edit. Raise ValidationError keyed by "name", "fields.<n>.<key>", "actions.<n>.<key>"...
    (tidings.forms.definition), an unknown attribute or an alias another form has.
    """
    _require(principal, "forms:edit")
    unknown = set(values) - set(FORM_ATTRIBUTES)
    if unknown:
        raise ValidationError({"form": [f"unknown attribute {name}" for name in sorted(unknown)[:5]]})
    definition = checked_form(values, list(fields), list(actions), next_field_id=1)
    with _atomic():
        form = Form(workspace_id=require_workspace().id)
        _save(form, definition)
        _audit("form.created", principal=principal, request=request, form_id=form.pk, fields=len(form.fields),
               actions=len(form.actions), published=form.published)  # fmt: skip
    return form


def form_update(form_id: int, *, principal: Principal, request=None, **changes: Any) -> Form:
    """Change a form: any of its settings, its whole fields list or its whole actions list.

    Fields keep their "id" (the builder sends them back); a field without one is new. Needs forms:edit.
    Raise Form.DoesNotExist for an id not in this workspace, ValidationError as form_create does.
    """
    _require(principal, "forms:edit")
    unknown = set(changes) - {*FORM_ATTRIBUTES, "fields", "actions"}
    if unknown:
        raise ValidationError({"form": [f"unknown attribute {name}" for name in sorted(unknown)[:5]]})
    with _atomic():
        form = Form.objects.select_for_update().get(pk=form_id)
        values = {name: changes.get(name, getattr(form, name)) for name in FORM_ATTRIBUTES}
        definition = checked_form(values, changes.get("fields", form.fields), changes.get("actions", form.actions),
                                  next_field_id=form.next_field_id)  # fmt: skip
        _save(form, definition)
        _audit("form.updated", principal=principal, request=request, form_id=form.pk, changed=sorted(changes))
    return form


def form_delete(form_id: int, *, principal: Principal, request=None) -> None:
    """Delete a form and its submissions (the answers go with them; contacts and consent records stay).

    Needs forms:edit. Raise Form.DoesNotExist for an id not in this workspace.
    """
    _require(principal, "forms:edit")
    with _atomic():
        form = Form.objects.select_for_update().get(pk=form_id)
        removed, _ = Submission.objects.filter(form_id=form.pk).delete()
        form.delete()
        _audit("form.deleted", principal=principal, request=request, form_id=form_id, submissions=removed)


# ==============================================================================================
# Public submission


@dataclass(frozen=True)
class SubmitContext:
    """Where a submission came from: the client's address (kept as its network), the page, the device token
    the tracker stores (_tdv), the render token and the honeypot's value of the posted form."""

    ip: str = ""
    page_url: str = ""
    visitor_token: str = ""
    render_token: str = ""
    honeypot: str = ""


@dataclass(frozen=True)
class SubmitResult:
    """What a submission did, as far as the page may know: accepted (or not, with field errors), and the token
    for a success redirect. spam: a robot's post, answered like a success and stored nowhere."""

    accepted: bool
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    submission_id: int | None = None
    token: str = ""
    spam: bool = False


def _is_spam(form: Form, context: SubmitContext) -> bool:
    """A filled honeypot, or a render token that is forged or younger than the least fill time.

    A post with no render token at all (a Mautic form's own HTML copied onto a page) is let through:
    the rate limits stand for it.
    """
    if context.honeypot:
        return True
    if not context.render_token:
        return False
    age = tokens.rendered_seconds_ago(context.render_token, form.pk)
    return age is None or age < float(settings.TIDINGS_FORMS_MIN_FILL_SECONDS)


def _known_aliases(contact_id: int | None) -> set[str]:
    """Return the aliases of the contact fields contact_id has a value for (progressive profiling)."""
    if contact_id is None:
        return set()
    try:
        contact = contacts_selectors.contact_get(contact_id)
    except ObjectDoesNotExist:
        return set()
    return {alias for alias, value in contact.fields.items() if value not in (None, "", [])}


def _guard(form: Form, answers: Answers) -> list[str]:
    """Run the sensitive-data guard on the text answers; under the reject policy flagged answers are errors."""
    texts = {alias: value for alias, value in answers.values.items() if isinstance(value, str)}
    flagged = sorted({finding.field for finding in scan_values(texts)})
    if flagged and contacts_selectors.contact_settings().guard_policy == GuardPolicy.REJECT:
        for alias in flagged:
            answers.errors[alias] = SENSITIVE_MESSAGE
    return flagged


def _owner(contact_values: Mapping[str, Any]) -> int | None:
    """Return the contact already holding one of the answers' unique identifiers (email), or None."""
    fields = contacts_fields.fields_by_alias()
    for alias, value in contact_values.items():
        definition = fields.get(alias)
        if definition is None or not definition.is_unique_identifier or value in ("", None):
            continue
        try:
            return contacts_selectors.contact_by_unique_identifier(alias, value).id
        except (ObjectDoesNotExist, ValidationError):
            continue
    return None


def _write_fields(contact_id: int | None, values: dict[str, Any]) -> tuple[int, bool]:
    """Update contact_id with values (or create a contact); drop values the contact refuses and retry once."""
    for _attempt in range(3):
        try:
            if contact_id is not None:
                if values:
                    contacts_actions.contact_update(contact_id, values, given_by_subject=True, principal=_system())
                return contact_id, False
            # The person typed the address themselves, with the form's consent: an erased person may come back.
            return contacts_actions.contact_create(values, given_by_subject=True, principal=_system()).id, True
        except ValidationError as error:
            bad = set(getattr(error, "error_dict", {}) or {}) & set(values)
            if not bad:
                raise
            values = {alias: value for alias, value in values.items() if alias not in bad}
    raise ValidationError({"form": ["the answers could not be stored"]})


def _fill_empty_public(contact_id: int, values: dict[str, Any]) -> None:
    """Fill only the empty, publicly updatable fields of a contact found by an email typed into the form."""
    fields = contacts_fields.fields_by_alias()
    known = _known_aliases(contact_id)
    public = {alias for alias, definition in fields.items() if definition.is_publicly_updatable}
    fill = {alias: value for alias, value in values.items() if alias in public and alias not in known}
    if fill:
        _write_fields(contact_id, fill)


def _consent_item(field_def: Mapping[str, Any]) -> dict[str, Any]:
    from tidings.consent import selectors as consent_selectors

    notice = consent_selectors.current_notice()
    return {"purpose": field_def["purpose"], "wording": str(field_def.get("label", ""))[:5000],
            "notice_version": notice.version if notice is not None else None}  # fmt: skip


def _record_consent(item: Mapping[str, Any], *, contact_id: int, form: Form, ip: str | None, principal,
                    at=None) -> None:  # fmt: skip
    consent_actions.consent_record(
        purpose=item["purpose"], given=True, method="form", source=f"form:{form.pk}", contact_id=contact_id, ip=ip,
        notice_version=item.get("notice_version"), wording=item.get("wording") or "", principal=principal,
        recorded_at=at,
    )  # fmt: skip


def _double_opt_in(form: Form) -> dict | None:
    return next((action for action in form.actions if action["kind"] == ActionKind.DOUBLE_OPT_IN), None)


def _run_actions(form: Form, contact_id: int, *, confirmed: bool, pending: bool = False) -> None:
    """Run the form's submit actions for contact_id; remove_dnc only when the submission is confirmed.

    send_email waits for the confirmation while one is pending (pending: the double opt-in mail went out),
    so the email goes once the person proved the address, with the consent the confirmation records.
    """
    system = _system()
    for action in form.actions:
        kind = action["kind"]
        try:
            if kind == ActionKind.SEGMENT_ADD:
                segments_actions.segment_members_add(action["segment_id"], [contact_id], principal=system)
            elif kind == ActionKind.SEGMENT_REMOVE:
                segments_actions.segment_members_remove(action["segment_id"], [contact_id], principal=system)
            elif kind == ActionKind.TAGS_ADD:
                contacts_actions.contact_tags_change(contact_id, list(action["tags"]), principal=system)
            elif kind == ActionKind.TAGS_REMOVE:
                contacts_actions.contact_tags_change(contact_id, [f"-{tag}" for tag in action["tags"]],
                                                     principal=system)  # fmt: skip
            elif kind == ActionKind.POINTS:
                operator = "plus" if action["delta"] > 0 else "minus"
                contacts_actions.contact_points_change(contact_id, operator, abs(action["delta"]), principal=system)
            elif kind == ActionKind.REMOVE_DNC and confirmed:
                contacts_actions.dnc_remove(contact_id, principal=system)
            elif kind == ActionKind.SEND_EMAIL and (confirmed or not pending):
                _send_email_after_commit(int(action["email_id"]), contact_id)
        except ObjectDoesNotExist:
            # A segment deleted since the form was saved: the other actions still run; the id says which.
            log.warning("form %s: action %s names something that no longer exists", form.pk, kind)


def _send_email_after_commit(email_id: int, contact_id: int) -> None:
    """Send the template email to the contact once the submission is committed (the eligibility rules apply)."""
    workspace = workspace_by_id(require_workspace().id)

    def send() -> None:
        from tidings.tenancy.context import use_workspace

        with use_workspace(workspace):
            try:
                emails_sending.send_to_contact(email_id, contact_id, principal=_system("forms:send_email"))
            except Exception:  # a deleted email or a mail server that is down must not fail the submission
                log.exception("a form's send-email action failed (email %s)", email_id)

    transaction.on_commit(send, using=require_workspace().db_alias)


def _notify_members(form: Form) -> None:
    """Tell the members the form's notify action names that it got a submission (no answer is in the mail)."""
    action = next((a for a in form.actions if a["kind"] == ActionKind.NOTIFY), None)
    if action is None:
        return
    workspace = workspace_by_id(require_workspace().id)
    members = members_by_id(workspace, action["member_ids"])
    recipients = sorted({user.email for user in members.values() if user.email})
    if not recipients:
        return
    base = str(settings.TIDINGS_BASE_URL).rstrip("/")
    link = f"{base}/w/{require_workspace().slug}/forms/{form.pk}/results/"
    message = EmailMessage(
        subject=f"New submission of the form “{form.name}”",
        body=f"The form “{form.name}” was submitted. The answers are on its results page (forms:results):\n{link}\n",
        from_email=settings.TIDINGS_FORMS_FROM_EMAIL,
        to=recipients,
    )
    transaction.on_commit(lambda: _send(message), using=require_workspace().db_alias)


def _send(message: EmailMessage) -> None:
    try:
        message.send()
    except Exception:  # a mail server that is down must not turn an accepted submission into an error
        log.exception("a form's email could not be sent")


def _send_confirmation(form: Form, submission_id: int, address: str, action: Mapping[str, Any]) -> None:
    base = str(settings.TIDINGS_BASE_URL).rstrip("/")
    link = f"{base}/m/{require_workspace().slug}/form/confirm/{tokens.confirm_token(form.pk, submission_id)}"
    days = max(int(settings.TIDINGS_FORMS_CONFIRM_MAX_AGE) // 86400, 1)
    body = (
        f"Hello,\n\nsomeone (we hope you) filled in the form “{form.name}” with this address.\n"
        f"To confirm, open this link within {days} day{'s' if days != 1 else ''}:\n\n{link}\n\n"
        "If it was not you, ignore this message: nothing more will be sent.\n"
    )
    message = EmailMessage(subject=action.get("subject") or "Please confirm", body=body,
                           from_email=settings.TIDINGS_FORMS_FROM_EMAIL, to=[address])  # fmt: skip
    transaction.on_commit(lambda: _send(message), using=require_workspace().db_alias)


def _store(form: Form, contact_id: int, answers: Answers, *, held: list[dict], held_actions: bool, status: str,
           context: SubmitContext, visitor_id: int | None, flagged: list[str]) -> Submission:  # fmt: skip
    (submission_id,) = allocate_ids(Submission, 1)
    key = keyring().data_key(contact_id)
    data = {"values": answers.values, "consents": held, "held": held_actions}
    page = strip_url(context.page_url)[:500] if context.page_url else ""
    return Submission.objects.create(
        id=submission_id, workspace_id=require_workspace().id, form_id=form.pk, contact_id=contact_id,
        data_enc=key.encrypt_json(f"{SEALED_FIELD}:{submission_id}", data), status=status, page_url=page,
        ip_network=truncate_ip(context.ip) if context.ip else "", visitor_id=visitor_id, flagged=flagged,
    )  # fmt: skip


def form_submit(form_id: int, posted: Mapping[str, list[str]], *, context: SubmitContext, principal: Principal,
                request=None) -> SubmitResult:  # fmt: skip
    """Take a public submission of a published form: check, store, act (see the module docstring).

    posted is {alias: [values]}. Return a SubmitResult: not accepted with {alias: message} errors
    (nothing written; the answers are handed back to re-render the form), or accepted. Needs
    forms:submit. Raise Form.DoesNotExist for a form not in this workspace or not published.
    """
    _require(principal, "forms:submit")
    form = Form.objects.get(pk=form_id, published=True)
    if _is_spam(form, context):
        log.info("form %s: a submission was taken for a robot's and dropped", form.pk)
        return SubmitResult(accepted=True, spam=True)
    host = _host(context.page_url)
    visitor_id, device_contact = tracking_selectors.profiled_visitor(context.visitor_token, host)
    answers = read_answers(form.fields, posted, _known_aliases(device_contact))
    flagged = _guard(form, answers)
    if answers.errors:
        return SubmitResult(accepted=False, errors=answers.errors, values=answers.values)
    doi = _double_opt_in(form)
    email = answers.contact.get("email")
    ip = context.ip or None
    with _atomic():
        owner = _owner(answers.contact)
        trusted = owner is None or owner == device_contact
        if trusted:
            contact_id, created = _write_fields(device_contact if owner is None else owner, dict(answers.contact))
            company = answers.company.get("companyname")
            if isinstance(company, str) and company.strip():
                # The company field of a form names the contact's company: linked (created when new) by its name.
                contacts_actions.companies_link_by_name([(contact_id, company)], principal=_system())
        else:
            assert owner is not None
            contact_id, created = owner, False
            _fill_empty_public(owner, dict(answers.contact))
        checked = [_consent_item(field_def) for field_def, ticked in answers.consents if ticked]
        held: list[dict] = []
        for item in checked:
            if trusted and not (doi is not None and item["purpose"] == doi["purpose"]):
                _record_consent(item, contact_id=contact_id, form=form, ip=ip, principal=principal)
            elif doi is not None:
                held.append(item)
        confirming = doi is not None and bool(email) and any(item["purpose"] == doi["purpose"] for item in checked)
        held_actions = not trusted and confirming
        status = SubmissionStatus.PENDING if confirming else SubmissionStatus.ACCEPTED
        submission = _store(form, contact_id, answers, held=held if confirming else [], held_actions=held_actions,
                            status=status, context=context, visitor_id=visitor_id, flagged=flagged)  # fmt: skip
        events_actions.events_record([{"type": FORM_SUBMITTED, "contact_id": contact_id,
                                       "data": {"form_id": form.pk, "submission_id": submission.pk, "ip": ip}}],
                                     principal=_system())  # fmt: skip
        if trusted:
            _run_actions(form, contact_id, confirmed=False, pending=confirming)
        if trusted and visitor_id is not None and (created or device_contact == contact_id):
            tracking_actions.tracking_identify_form(visitor_id, contact_id, principal=principal, request=request)
        if confirming:
            assert doi is not None
            _send_confirmation(form, submission.pk, str(email), doi)
        _notify_members(form)
        _audit("form.submitted", principal=principal, request=request, form_id=form.pk, submission=submission.pk,
               contact=contact_id, flagged=flagged)  # fmt: skip
    token = tokens.submission_token(form.pk, submission.pk)
    return SubmitResult(accepted=True, submission_id=submission.pk, token=token)


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""


def submission_confirm(token: str, *, principal: Principal, request=None) -> Form | None:
    """Confirm the submission a double opt-in link names: record its held consents, run its held actions and
    allow email again (remove_dnc); return its form, or None for a forged, expired or unknown link.

    Idempotent: a second click changes nothing. Needs forms:submit (the public form door).
    """
    _require(principal, "forms:submit")
    found = tokens.confirm_payload(token, int(settings.TIDINGS_FORMS_CONFIRM_MAX_AGE))
    if found is None:
        return None
    form_id, submission_id = found
    with _atomic():
        submission = Submission.objects.select_for_update().filter(pk=submission_id, form_id=form_id).first()
        form = Form.objects.filter(pk=form_id).first()
        if submission is None or form is None:
            return None
        if submission.status != SubmissionStatus.PENDING:
            return form
        try:
            key = keyring().data_key(submission.contact_id)
        except LookupError:  # the contact was erased meanwhile
            return None
        data = key.decrypt_json(f"{SEALED_FIELD}:{submission.pk}", submission.data_enc)
        now = timezone.now()
        for item in data.get("consents") or []:
            # The network stored at submission, given back as its first address (the ledger keeps networks too).
            ip = submission.ip_network.split("/")[0] or None
            _record_consent(item, contact_id=submission.contact_id, form=form, ip=ip, principal=principal, at=now)
        if data.get("held"):
            _run_actions(form, submission.contact_id, confirmed=True)
        else:
            if any(action["kind"] == ActionKind.REMOVE_DNC for action in form.actions):
                contacts_actions.dnc_remove(submission.contact_id, principal=_system())
            for action in form.actions:  # held back at submission until this confirmation
                if action["kind"] == ActionKind.SEND_EMAIL:
                    _send_email_after_commit(int(action["email_id"]), submission.contact_id)
        submission.status = SubmissionStatus.CONFIRMED
        submission.confirmed_at = now
        submission.save(update_fields=["status", "confirmed_at"])
        events_actions.events_record([{"type": FORM_CONFIRMED, "contact_id": submission.contact_id,
                                       "data": {"form_id": form.pk, "submission_id": submission.pk}}],
                                     principal=_system())  # fmt: skip
        _audit("form.confirmed", principal=principal, request=request, form_id=form.pk, submission=submission.pk,
               contact=submission.contact_id)  # fmt: skip
    return form


def submission_delete(submission_id: int, *, principal: Principal, request=None) -> None:
    """Delete one submission (its answers); the contact, its events and consent records stay.

    Needs forms:results. Raise Submission.DoesNotExist for an id not in this workspace.
    """
    _require(principal, "forms:results")
    with _atomic():
        submission = Submission.objects.select_for_update().get(pk=submission_id)
        submission.delete()
        _audit("form.submission_deleted", principal=principal, request=request, form_id=submission.form_id,
               submission=submission_id)  # fmt: skip


# ==============================================================================================
# Results export

CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> str:
    text = ", ".join(str(v) for v in value) if isinstance(value, list) else ("" if value is None else str(value))
    if isinstance(value, bool):
        text = "Yes" if value else "No"
    # A spreadsheet must not run an answer as a formula (CSV injection).
    return f"'{text}" if text.startswith(CSV_FORMULA_START) else text


def submissions_export(form_id: int, *, principal: Principal, request=None):
    """Audit an export of a form's submissions as CSV; return (chunks of text, count).

    One row per submission: id, contact id, time, status, page, network and each answer by the form's
    fields. The audit entry (forms.submissions_exported) holds the form, the format and the count, as the
    contacts export's does. Needs forms:results. Raise Form.DoesNotExist for a form not in this workspace.
    """
    _require(principal, "forms:results")
    form = Form.objects.get(pk=form_id)
    count = Submission.objects.filter(form_id=form.pk).count()
    audit_record("forms.submissions_exported", principal=principal, request=request, target_type="form",
                 target_id=form.pk, data={"format": "csv", "count": count})  # fmt: skip
    columns = selectors.answer_columns(form)

    def chunks():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["submission_id", "contact_id", "submitted_at", "status", "page_url", "ip_network",
                         *[alias for alias, _label in columns]])  # fmt: skip
        for row in selectors.submissions_for_export(form.pk):
            answers = [_csv_cell(row.answers.get(alias)) for alias, _label in columns]
            writer.writerow([row.id, row.contact_id, row.submitted_at.isoformat(), row.status, _csv_cell(row.page_url),
                             row.ip_network, *answers])  # fmt: skip
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return chunks(), count
