"""ESPs' tracking webhooks through django-anymail: bounces, complaints and unsubscriptions an ESP reports.

Each ESP posts to /m/<workspace>/e/hooks/<esp>/ (one URL per workspace, so the workspace is the URL's, through
the public-page door). Anymail's own view authenticates the request the way it does for that ESP (HTTP Basic
with the workspace's own webhook secret when it made one in its sending settings, else the installation's
WEBHOOK_SECRET; plus the ESP's signature where it signs: Mailgun, Postal, ..., checked with the workspace's own
signing key when it stored one, else the installation's ANYMAIL setting),
parses the ESP's JSON into normalised AnymailTrackingEvents and sends anymail.signals.tracking;
`tracking_received` below records them. A hook answers 404 while ANYMAIL["WEBHOOK_SECRET"] is not set:
anymail would accept anyone's posts then (it only warns) -- unless the workspace has its own secret.

    bounced                      -> hard bounce
    deferred                     -> soft bounce (the ESP gave up for now)
    rejected (bounced, invalid)  -> hard bounce (the ESP refuses an address it knows bounces)
    complained                   -> complaint
    unsubscribed                 -> Do-Not-Contact (unsubscribed), as the message's own link would

The message is found by the ESP's message id when it is our Message-ID, else by the recipient's address
through the workspace's blind index (tidings.emails.actions.feedback).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from anymail.signals import AnymailTrackingEvent, tracking
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.dispatch import receiver
from django.http import Http404

from tidings.accounts.decorators import public
from tidings.tenancy.context import current_workspace

logger = logging.getLogger(__name__)

HARD_REJECTIONS = {"bounced", "invalid"}


def _tracking_views() -> dict:
    from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
    from anymail.webhooks.brevo import BrevoTrackingWebhookView
    from anymail.webhooks.mailersend import MailerSendTrackingWebhookView
    from anymail.webhooks.mailgun import MailgunTrackingWebhookView
    from anymail.webhooks.mailjet import MailjetTrackingWebhookView
    from anymail.webhooks.mandrill import MandrillCombinedWebhookView
    from anymail.webhooks.postal import PostalTrackingWebhookView
    from anymail.webhooks.postmark import PostmarkTrackingWebhookView
    from anymail.webhooks.resend import ResendTrackingWebhookView
    from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
    from anymail.webhooks.sparkpost import SparkPostTrackingWebhookView

    return {
        "amazon_ses": AmazonSESTrackingWebhookView,
        "brevo": BrevoTrackingWebhookView,
        "mailersend": MailerSendTrackingWebhookView,
        "mailgun": MailgunTrackingWebhookView,
        "mailjet": MailjetTrackingWebhookView,
        "mandrill": MandrillCombinedWebhookView,
        "postal": PostalTrackingWebhookView,
        "postmark": PostmarkTrackingWebhookView,
        "resend": ResendTrackingWebhookView,
        "sendgrid": SendGridTrackingWebhookView,
        "sparkpost": SparkPostTrackingWebhookView,
    }


ESPS = frozenset(
    {"amazon_ses", "brevo", "mailersend", "mailgun", "mailjet", "mandrill", "postal", "postmark", "resend",
     "sendgrid", "sparkpost"}
)  # fmt: skip


def _secret_configured() -> bool:
    return bool((getattr(settings, "ANYMAIL", None) or {}).get("WEBHOOK_SECRET"))


@functools.cache
def _accepting(view_class: type, names: tuple[str, ...]) -> Any:
    """view_class accepting as_view(name=...) for names (webhook_secret, the ESP's signing key setting):
    anymail reads (and pops) those keywords before its settings, but Django's as_view only takes keywords
    the class has as attributes."""
    return type(view_class.__name__, (view_class,), dict.fromkeys(names))


@public  # anymail's view authenticates the ESP (basic auth and signatures); the door names the workspace
def esp_tracking(request, public_workspace: str, esp: str):
    """Hand an ESP's tracking webhook to anymail's view for that ESP; 404 for an ESP we do not mount.

    A workspace with its own webhook secret (sending settings) is checked against that one only, so the
    installation's secret, or another workspace's, does not open it; one without falls back to the
    installation's ANYMAIL["WEBHOOK_SECRET"] (set-ups from before per-workspace secrets keep working).
    Likewise its own signing key, for the ESPs that sign (credentials.SIGNING_KEY_SETTING).
    """
    if esp not in ESPS:
        raise Http404("No such webhook.")
    from tidings.emails import credentials, selectors_sending

    own_secret, own_signing_key = selectors_sending.webhook_keys()
    if own_secret is None and not _secret_configured():
        raise Http404("No such webhook.")
    options: dict[str, Any] = {}
    if own_secret:
        options["webhook_secret"] = [own_secret]
    if own_signing_key and esp in credentials.SIGNING_KEY_SETTING:
        options[credentials.SIGNING_KEY_SETTING[esp]] = own_signing_key
    view_class = _tracking_views()[esp]
    try:
        view = _accepting(view_class, tuple(sorted(options))).as_view(**options) if options else view_class.as_view()
        return view(request)
    except ImproperlyConfigured:  # the ESP's own secret (a signing key) is not set: not mounted
        logger.info("an ESP webhook is not configured: esp=%s", esp)
        raise Http404("No such webhook.") from None


esp_tracking.csrf_exempt = True  # the ESP posts; anymail authenticates it


@receiver(tracking, dispatch_uid="tidings.emails.webhooks.tracking_received")
def tracking_received(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    """Record a bounce, complaint or unsubscription an ESP reported, in the workspace of the webhook's URL."""
    if current_workspace() is None:  # anymail's views mounted somewhere else: no workspace to record in
        return
    from tidings.accounts.permissions import system_principal
    from tidings.emails import selectors
    from tidings.emails.actions import feedback
    from tidings.emails.links import MessageRef
    from tidings.tenancy.context import require_workspace
    from tidings.tenancy.selectors import workspace_by_id

    principal = system_principal(workspace_by_id(require_workspace().id), reason=f"emails:webhook:{esp_name}")
    kind = event.event_type
    message_id = event.message_id if isinstance(event.message_id, str) else None
    address = event.recipient if isinstance(event.recipient, str) else None
    if kind == "bounced" or (kind == "rejected" and event.reject_reason in HARD_REJECTIONS):
        feedback.bounce_record(message_id=message_id, address=address, hard=True, principal=principal)
    elif kind == "deferred":
        feedback.bounce_record(message_id=message_id, address=address, hard=False, principal=principal)
    elif kind == "complained":
        feedback.complaint_record(message_id=message_id, address=address, principal=principal)
    elif kind == "unsubscribed":
        delivery = selectors.delivery_by_message_id(message_id)
        if delivery is not None:
            feedback.message_unsubscribed(MessageRef(delivery.send_id, delivery.contact_id), principal=principal,
                                          one_click=False)  # fmt: skip
