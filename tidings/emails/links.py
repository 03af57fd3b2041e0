"""The signed, unguessable token of one message (a send to one contact) and the public URLs built on it.

Every tracked link, the open pixel, the web view and the unsubscribe links of a message carry the same
token: the send id and the contact id, and an HMAC over them and the workspace id (keyed from SECRET_KEY
with its own salt). A token from one workspace is refused on another workspace's path, and no id can be
guessed or changed without the key. The delivery row (send, contact) says which email and variant it was.

    /m/<workspace>/e/o/<token>.gif        open pixel
    /m/<workspace>/e/c/<token>/<link id>  click: counts, then redirects to the email version's link
    /m/<workspace>/e/v/<token>            the message in a browser (web view)
    /m/<workspace>/e/u/<token>            unsubscribe page; POST there is RFC 8058's one-click unsubscribe
"""

from __future__ import annotations

import base64
import hmac
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

_SALT = "tidings.emails.message"
_TOKEN = re.compile(r"([0-9a-z]{1,13})-([0-9a-z]{1,13})-([A-Za-z0-9_-]{22})", re.ASCII)


@dataclass(frozen=True, slots=True)
class MessageRef:
    send_id: int
    contact_id: int


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def _signature(workspace_id: int, send_id: int, contact_id: int) -> str:
    digest = salted_hmac(_SALT, f"{workspace_id}:{send_id}:{contact_id}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest[:16]).decode("ascii").rstrip("=")


def message_token(workspace_id: int, send_id: int, contact_id: int) -> str:
    """Return the token of the message of send_id to contact_id (the same every time: no state needed)."""
    return f"{_b36(send_id)}-{_b36(contact_id)}-{_signature(workspace_id, send_id, contact_id)}"


def read_message_token(token: object, workspace_id: int) -> MessageRef | None:
    """Return what token names if it is one of this workspace's, else None (never says why)."""
    if not isinstance(token, str) or len(token) > 60:
        return None
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    send_id, contact_id = int(match.group(1), 36), int(match.group(2), 36)
    if not hmac.compare_digest(match.group(3), _signature(workspace_id, send_id, contact_id)):
        return None
    return MessageRef(send_id, contact_id)


def _base(workspace_slug: str) -> str:
    return f"{str(settings.TIDINGS_BASE_URL).rstrip('/')}/m/{workspace_slug}/e"


def open_pixel_url(workspace_slug: str, token: str) -> str:
    return f"{_base(workspace_slug)}/o/{token}.gif"


def click_url(workspace_slug: str, token: str, link_id: int) -> str:
    return f"{_base(workspace_slug)}/c/{token}/{link_id}"


def webview_url(workspace_slug: str, token: str) -> str:
    return f"{_base(workspace_slug)}/v/{token}"


def unsubscribe_url(workspace_slug: str, token: str) -> str:
    """The unsubscribe page, and also List-Unsubscribe's target: a POST there unsubscribes at once (RFC 8058)."""
    return f"{_base(workspace_slug)}/u/{token}"
