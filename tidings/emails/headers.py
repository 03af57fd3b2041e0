"""The headers of a sent message, and its DKIM signature.

Message-ID `<{send_id}.{contact_id}.{hmac8}@{domain}>`: a bounce, a complaint or a reply quoting it finds its
delivery (read_message_id; its left part alone, as Mautic's reply API names it: read_tracking_hash), and the
8 hex digits of an HMAC over the workspace, send and contact keep a made-up id from naming someone else's
delivery. Marketing messages carry List-Unsubscribe with the
message's unsubscribe URL and List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058: a mail
client POSTs there, no page), List-Id names the email (RFC 2919) and Feedback-ID lets a mailbox
provider report complaints per send (Gmail's format). Transactional messages carry neither
unsubscribe header: there is nothing to unsubscribe from.

DKIM (RFC 6376) with dkimpy when the workspace configured a selector and a private key; the key is
sealed at rest under a file key wrapped by the workspace key (like segments' sealed values), opened
once per send.
"""

from __future__ import annotations

import hmac
import re

import dkim
from django.utils.crypto import salted_hmac

from tidings.emails import links
from tidings.emails.links import MessageRef
from tidings.privacy.vault import Keyring, seal, unseal
from tidings.tenancy.context import require_workspace

_SALT = "tidings.emails.message-id"
_MESSAGE_ID = re.compile(r"<?\s*(\d{1,19})\.(\d{1,19})\.([0-9a-f]{8})@[^<>\s@]{1,253}\s*>?", re.ASCII)
_TRACKING_HASH = re.compile(r"(\d{1,19})\.(\d{1,19})\.([0-9a-f]{8})", re.ASCII)
# What DKIM signs: the headers a receiver shows or acts on, and the body.
SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"reply-to", b"mime-version", b"content-type",
                  b"list-unsubscribe", b"list-unsubscribe-post", b"list-id", b"feedback-id")  # fmt: skip


def _hmac8(workspace_id: int, send_id: int, contact_id: int) -> str:
    return salted_hmac(_SALT, f"{workspace_id}:{send_id}:{contact_id}", algorithm="sha256").hexdigest()[:8]


def message_id(send_id: int, contact_id: int, domain: str, *, workspace_id: int | None = None) -> str:
    """Return the Message-ID of the message of send_id to contact_id (the current workspace's by default)."""
    workspace_id = require_workspace().id if workspace_id is None else workspace_id
    return f"<{send_id}.{contact_id}.{_hmac8(workspace_id, send_id, contact_id)}@{domain}>"


def read_message_id(value: object, *, workspace_id: int | None = None) -> MessageRef | None:
    """Return the (send, contact) a Message-ID this workspace wrote names, else None (never says why).

    Accepts the id with or without its angle brackets and surrounding spaces (as DSNs and ESPs quote it).
    """
    if not isinstance(value, str) or len(value) > 300:
        return None
    match = _MESSAGE_ID.fullmatch(value.strip())
    if match is None:
        return None
    return _verified(match, workspace_id)


def read_tracking_hash(value: object, *, workspace_id: int | None = None) -> MessageRef | None:
    """Return the (send, contact) the left part of a Message-ID this workspace wrote names (`{send}.{contact}.{hmac8}`,
    what Mautic calls a message's tracking hash), else None (never says why)."""
    if not isinstance(value, str) or len(value) > 60:
        return None
    match = _TRACKING_HASH.fullmatch(value)
    return _verified(match, workspace_id) if match is not None else None


def _verified(match: re.Match[str], workspace_id: int | None) -> MessageRef | None:
    workspace_id = require_workspace().id if workspace_id is None else workspace_id
    send_id, contact_id = int(match.group(1)), int(match.group(2))
    if not hmac.compare_digest(match.group(3), _hmac8(workspace_id, send_id, contact_id)):
        return None
    return MessageRef(send_id, contact_id)


def list_id(email_id: int, name: str, workspace_slug: str, domain: str) -> str:
    """Return a List-Id (RFC 2919): the email's name as phrase, a stable id per email as the list's address."""
    phrase = re.sub(r'["\\\r\n]', "", name)[:60]
    return f'"{phrase}" <email-{email_id}.{workspace_slug}.{domain}>'


def message_headers(*, send_id: int, contact_id: int, email_id: int, email_name: str, marketing: bool, token: str,
                    workspace_slug: str, domain: str, workspace_id: int | None = None) -> dict[str, str]:  # fmt: skip
    """Return the tracking and list headers of one message (Message-ID first), in the order they are written."""
    headers = {"Message-ID": message_id(send_id, contact_id, domain, workspace_id=workspace_id)}
    if marketing:
        headers["List-Unsubscribe"] = f"<{links.unsubscribe_url(workspace_slug, token)}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        headers["List-Id"] = list_id(email_id, email_name, workspace_slug, domain)
    headers["Feedback-ID"] = f"{send_id}:{email_id}:{workspace_slug}:tidings"
    return headers


# ----------------------------------------------------------------------------------------------
# DKIM


def _dkim_name(workspace_id: int) -> str:
    return f"emails.dkim:{workspace_id}"


def seal_dkim_key(ring: Keyring, private_key_pem: bytes) -> tuple[int, bytes, bytes]:
    """Return (workspace key version, wrapped file key, sealed key) to store a DKIM private key at rest."""
    version, wrapped, aead = ring.new_file_key(_dkim_name(ring.workspace_id))
    return version, wrapped, seal(aead, private_key_pem, _dkim_name(ring.workspace_id).encode())


def open_dkim_key(ring: Keyring, version: int, wrapped: bytes, sealed: bytes) -> bytes:
    """Return the PEM private key sealed by seal_dkim_key; raise vault.DecryptionFailed when it does not open."""
    aead = ring.open_file_key(version, bytes(wrapped), _dkim_name(ring.workspace_id))
    return unseal(aead, bytes(sealed), _dkim_name(ring.workspace_id).encode())


def dkim_check_key(private_key_pem: bytes) -> bool:
    """Return whether dkimpy can sign with private_key_pem (checked before it is stored)."""
    try:
        dkim.sign(b"From: a@b.example\r\nSubject: x\r\n\r\nx\r\n", b"s", b"b.example", private_key_pem)
    except Exception:  # dkimpy raises several kinds for a key it cannot parse
        return False
    return True


def dkim_signature(message: bytes, *, selector: str, domain: str, private_key_pem: bytes) -> bytes:
    """Return the DKIM-Signature header line (with its CRLF) that signs message, to put before it."""
    present = {line.split(b":", 1)[0].strip().lower() for line in message.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
               if line[:1] not in (b" ", b"\t") and b":" in line}  # fmt: skip
    include = [h for h in SIGNED_HEADERS if h in present]
    return dkim.sign(message, selector.encode(), domain.encode(), private_key_pem, include_headers=include)


def register_dkim_key_holder() -> None:
    """Have a workspace key rotation re-wrap the DKIM key's file key (tidings.privacy.vault)."""
    from tidings.privacy.vault import register_file_key_holder

    register_file_key_holder("emails.dkim", "tidings.emails.headers.rewrap_dkim_keys")


def rewrap_dkim_keys(ring: Keyring) -> int:
    """Re-wrap the workspace's sealed DKIM key under ring's active key version; return how many were re-wrapped."""
    from tidings.emails.models import SendingSettings

    done = 0
    for row in SendingSettings.objects.filter(dkim_key_version__isnull=False):
        assert row.dkim_key_version is not None and row.dkim_key_wrapped is not None
        row.dkim_key_version, row.dkim_key_wrapped = ring.rewrap_file_key(
            row.dkim_key_version, bytes(row.dkim_key_wrapped), _dkim_name(ring.workspace_id)
        )
        row.save(update_fields=["dkim_key_version", "dkim_key_wrapped"])
        done += 1
    return done
