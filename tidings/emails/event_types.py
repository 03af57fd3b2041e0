"""The event types emails writes on a contact's timeline (codes 40-49), with how each reads there.

Sent is written by the sender per message (in batches); opened, clicked, unsubscribed, bounced and
complained by the feedback routes; failed when a server refused the message outright; replied when a reply to
the message came back (the bounce mailbox, the inbound API: the first reply of a delivery only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tidings.events.registry import INT, TOKEN, URL, Retention, register_event_type, reserve_codes

EMAIL_SENT = 40
EMAIL_OPENED = 41
EMAIL_CLICKED = 42
EMAIL_BOUNCED = 43
EMAIL_COMPLAINED = 44
EMAIL_UNSUBSCRIBED = 45
EMAIL_FAILED = 46
EMAIL_REPLIED = 47
EMAILS_CODES = range(40, 50)


def register_emails_event_types() -> None:
    """Reserve emails' codes and declare its types (idempotent: ready() may run twice in tests)."""
    reserve_codes("emails", EMAILS_CODES)
    # email_id: the email (the variant actually sent); send_id: the send it belonged to.
    register_event_type("emails", EMAIL_SENT, "email.sent", email_id=INT, send_id=INT)
    register_event_type("emails", EMAIL_OPENED, "email.opened", email_id=INT, send_id=INT)
    register_event_type("emails", EMAIL_CLICKED, "email.clicked", email_id=INT, send_id=INT, link_id=INT, page=INT,
                        url=URL)  # fmt: skip
    register_event_type("emails", EMAIL_BOUNCED, "email.bounced", email_id=INT, send_id=INT, kind=TOKEN)
    register_event_type("emails", EMAIL_COMPLAINED, "email.complained", email_id=INT, send_id=INT)
    # What the person decided is kept as long as the contact, like consent decisions.
    register_event_type("emails", EMAIL_UNSUBSCRIBED, "email.unsubscribed", retention=Retention.RECORD, email_id=INT,
                        send_id=INT)  # fmt: skip
    register_event_type("emails", EMAIL_FAILED, "email.failed", email_id=INT, send_id=INT, code=TOKEN)
    register_event_type("emails", EMAIL_REPLIED, "email.replied", email_id=INT, send_id=INT)


def _email(verb: str):
    def describe(data: Mapping[str, Any], names: Mapping[str, str]) -> str:
        if "email_id" not in data:
            return f"{verb} an email"
        named = names.get("email_id")
        return f"{verb} the email “{named}”" if named else f"{verb} email #{data['email_id']}"

    return describe


def _clicked(data: Mapping[str, Any], names: Mapping[str, str]) -> str:
    if data.get("url"):
        return f"Clicked {data['url']} in " + _email("")(data, names).strip()
    return _email("Clicked a link in")(data, names)


def register_emails_descriptions(email_names) -> None:
    """Register how emails' events read on a timeline; email_names(ids) -> {id: name} names the emails."""
    from tidings.events.descriptions import register_description, register_names

    register_names("email_id", email_names)
    register_description(EMAIL_SENT, _email("Sent"), icon="send")
    register_description(EMAIL_OPENED, _email("Opened"), icon="mail")
    register_description(EMAIL_CLICKED, _clicked, icon="link")
    register_description(EMAIL_BOUNCED, _email("Bounced"), icon="triangle-alert")
    register_description(EMAIL_COMPLAINED, _email("Complained about"), icon="circle-alert")
    register_description(EMAIL_UNSUBSCRIBED, _email("Unsubscribed from"), icon="x")
    register_description(EMAIL_FAILED, _email("Could not send"), icon="triangle-alert")
    register_description(EMAIL_REPLIED, _email("Replied to"), icon="mail")
