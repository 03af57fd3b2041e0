"""The sending pages: an email's send page (start a broadcast, follow it, pause, resume, cancel) and the
workspace's sending settings. Views parse, call actions and selectors, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import found, require_permission
from tidings.emails import credentials, selectors_sending
from tidings.emails.actions import sending
from tidings.emails.forms_send import SendingSettingsForm
from tidings.validation import form_add_errors

SEND = "emails:send"
REASONS = {
    "no_contact": "Erased or merged since", "no_address": "No email address",
    "no_consent": "No consent for the email's purpose", "dnc_unsubscribed": "Unsubscribed",
    "dnc_bounced": "Bounced before", "dnc_complaint": "Complained before", "dnc_manual": "Do-Not-Contact",
    "suppressed": "On the suppression list", "frequency_cap": "Frequency cap reached",
}  # fmt: skip
CONTROLS = {"pause": sending.send_pause, "resume": sending.send_resume, "cancel": sending.send_cancel}


def _url(request, name: str, **kwargs) -> str:
    return reverse(f"emails_send:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


def _row(send) -> dict:
    progress = selectors_sending.send_progress(send)
    skipped = [(REASONS.get(code, code), n) for code, n in sorted(progress["skipped"].items())]
    percent = round(100 * progress["done"] / send.total) if send.total else (100 if send.status == "finished" else 0)
    return {"send": send, "progress": progress, "skipped": skipped, "percent": min(percent, 100)}


@found
@require_permission(SEND)
def send_page(request, workspace_slug, email_id):
    """An email's sends: start a broadcast, follow its progress and skips by reason, pause, resume or cancel."""
    email = selectors_sending.email_get(email_id)
    sends = [_row(s) for s in selectors_sending.sends_of_email(email.pk)]
    active = next((row for row in sends if row["send"].status in ("queued", "running", "paused")), None)
    context = {"email": email, "sends": sends, "active": active,
               "recipients": selectors_sending.recipients_count(email.segment_ids or []),
               "start_url": _url(request, "send_start", email_id=email.pk)}  # fmt: skip
    return render(request, "emails/send.html", context)


@require_POST
@found
@require_permission(SEND)
def send_start(request, workspace_slug, email_id):
    """Start the email's broadcast now."""
    email = selectors_sending.email_get(email_id)
    try:
        send = sending.send_start(email.pk, principal=request.principal, request=request)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"Sending to {send.total} contacts has started.")
    return redirect(_url(request, "send_page", email_id=email.pk))


@require_POST
@found
@require_permission(SEND)
def send_control(request, workspace_slug, send_id, operation):
    """Pause, resume or cancel a send."""
    action = CONTROLS.get(operation)
    if action is None:
        raise Http404("Not found.")
    send = selectors_sending.send_get(send_id)
    try:
        action(send.pk, principal=request.principal, request=request)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, {"pause": "Paused.", "resume": "Resumed.", "cancel": "Cancelled."}[operation])
    return redirect(_url(request, "send_page", email_id=send.email_id))


@require_permission("settings:manage")
def sending_settings(request, workspace_slug):
    """The workspace's sending settings: sender, domains, backend, pace, frequency cap, DKIM key."""
    current = selectors_sending.sending_settings()
    initial = {name: getattr(current, name) for name in sending.SETTINGS_FIELDS}
    initial["sending_domains"] = " ".join(current.sending_domains or [])
    form = SendingSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        key, remove = values.pop("dkim_private_key"), values.pop("remove_dkim_key")
        given = {part: values.pop(part) for part in credentials.CREDENTIAL_PARTS}
        clear, rotate = values.pop("clear_credentials"), values.pop("rotate_webhook_secret")
        try:
            sending.sending_settings_update(principal=request.principal, request=request, dkim_private_key=key or None,
                                            remove_dkim_key=remove, credentials=given, clear_credentials=clear,
                                            rotate_webhook_secret=rotate, **values)  # fmt: skip
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, "Sending settings saved.")
            return redirect(_url(request, "sending_settings"))
    status = 400 if request.method == "POST" else 200
    parts = set(current.credential_parts or [])
    context = {"form": form, "current": current,
               "credential_parts": [(form[part].label, part in parts) for part in credentials.CREDENTIAL_PARTS],
               # Shown to the holders of settings:manage (this page's permission), who set it at the ESP.
               "webhook_secret": selectors_sending.webhook_secret(current),
               "webhook_url": None if current.backend == "smtp" else request.build_absolute_uri(
                   reverse("emails_public:esp_tracking",
                           kwargs={"public_workspace": request.workspace.slug, "esp": current.backend}))}  # fmt: skip
    return render(request, "emails/sending_settings.html", context, status=status)
