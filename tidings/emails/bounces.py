"""Delivery status notifications (RFC 3464) read with the standard library's email package, and what they record.

A DSN is a multipart/report (report-type=delivery-status) whose second part, message/delivery-status, holds
one block of per-message fields then one block per recipient: Final-Recipient (or Original-Recipient),
Action (failed, delayed, delivered, relayed, expanded) and Status (RFC 3463: 5.x.x permanent, 4.x.x
transient). Its third part is the original message or its headers (message/rfc822, text/rfc822-headers),
which carry our Message-ID. Anything else (an auto-reply, a human's mail) is not a DSN and reports nothing.

    failed  + 5.x.x  -> a hard bounce
    failed  + 4.x.x  -> a soft bounce
    delayed          -> nothing yet (the MTA still tries; its final DSN will say)

Only ids and codes are logged, never an address.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
from dataclasses import dataclass
from email.message import Message

logger = logging.getLogger(__name__)

MAX_DSN_BYTES = 1024 * 1024  # a DSN with the original attached; bigger ones are cut (headers come first)
_STATUS = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})")
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")


@dataclass(frozen=True)
class Bounce:
    """One recipient's outcome in a DSN: address, action, status code, hard or soft, the original Message-ID."""

    address: str | None
    action: str
    status: str
    message_id: str | None

    @property
    def failed(self) -> bool:
        return self.action == "failed"

    @property
    def hard(self) -> bool:
        return self.failed and self.status.startswith("5")


def _address(value: str | None) -> str | None:
    """Return the address of a recipient field ("rfc822; ada@example.org"), None when it is not an address."""
    if not value:
        return None
    kind, _, address = str(value).partition(";")
    if not address:
        address = kind
    elif kind.strip().lower() != "rfc822":
        return None
    address = address.strip().strip("<>").strip()
    if "@" not in address or len(address) > 254 or any(ch.isspace() for ch in address):
        return None
    return address


def _status(value: str | None) -> str:
    match = _STATUS.match((value or "").strip())
    return ".".join(match.groups()) if match else ""


def _message_id(value: object) -> str | None:
    match = _MESSAGE_ID.search(str(value or ""))
    return match.group(0) if match else None


def _original_message_id(report: Message) -> str | None:
    """Return the Message-ID of the original message the report returns (message/rfc822 or text/rfc822-headers)."""
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                found = _message_id(inner.get("Message-ID"))
                if found:
                    return found
        elif kind == "text/rfc822-headers":
            raw = part.get_payload(decode=True) or b""
            headers = email.message_from_bytes(bytes(raw), policy=email.policy.compat32)
            found = _message_id(headers.get("Message-ID"))
            if found:
                return found
    return None


def _status_blocks(report: Message) -> list[Message]:
    for part in report.walk():
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                return [block for block in payload if isinstance(block, Message)]
    return []


def parse_dsn(raw: bytes | str) -> list[Bounce]:
    """Return the recipients' outcomes a DSN reports; an empty list for anything that is not a DSN.

    Never raises on malformed input: a message that cannot be read reports nothing.
    """
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    try:
        message = email.message_from_bytes(raw[:MAX_DSN_BYTES], policy=email.policy.compat32)
        if message.get_content_type() != "multipart/report":
            return []
        report_type = message.get_param("report-type")
        if not isinstance(report_type, str) or report_type.lower() != "delivery-status":
            return []
        blocks = _status_blocks(message)
        if len(blocks) < 2:
            return []
        original = _original_message_id(message)
        bounces = []
        for block in blocks[1:]:
            action = (block.get("Action") or "").strip().lower()
            if not action:
                continue
            address = _address(block.get("Final-Recipient")) or _address(block.get("Original-Recipient"))
            bounces.append(Bounce(address=address, action=action, status=_status(block.get("Status")),
                                  message_id=original))  # fmt: skip
        return bounces
    except Exception:  # the stdlib parser is lenient, but a DSN is hostile input: never fail on it
        logger.info("a DSN could not be read")
        return []


@dataclass(frozen=True)
class DsnOutcome:
    """What a DSN recorded: hard and soft bounces of ours, delays, and recipients not ours (or not bounces)."""

    hard: int = 0
    soft: int = 0
    delayed: int = 0
    ignored: int = 0

    @property
    def is_dsn(self) -> bool:
        return bool(self.hard or self.soft or self.delayed or self.ignored)


def dsn_record(raw: bytes | str, *, principal) -> DsnOutcome:
    """Parse a DSN and record each failed recipient's bounce (tidings.emails.actions.feedback.bounce_record)."""
    from tidings.emails.actions.feedback import bounce_record

    hard = soft = delayed = ignored = 0
    for bounce in parse_dsn(raw):
        if bounce.action == "delayed":
            delayed += 1
            continue
        if not bounce.failed or not bounce.status:
            ignored += 1
            continue
        ours = bounce_record(message_id=bounce.message_id, address=bounce.address, hard=bounce.hard,
                             principal=principal)  # fmt: skip
        if not ours:
            ignored += 1
        elif bounce.hard:
            hard += 1
        else:
            soft += 1
    return DsnOutcome(hard=hard, soft=soft, delayed=delayed, ignored=ignored)
