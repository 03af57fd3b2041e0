"""Delivery status notifications as MTAs send them (RFC 3464), built around a Message-ID and a recipient."""

from __future__ import annotations


def dsn(recipient: str, *, action: str = "failed", status: str = "5.1.1", message_id: str | None = None,
        headers_only: bool = False, original: bool = True) -> bytes:  # fmt: skip
    """Return a DSN for recipient; original=False leaves the returned message out (some MTAs do)."""
    parts = [
        "From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>",
        "To: bounces@acme.example",
        "Subject: Undelivered Mail Returned to Sender",
        "Message-ID: <dsn.1234@mx.acme.example>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"',
        "",
        "--BOUNDARY",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "I'm sorry to have to inform you that your message could not be delivered.",
        "",
        "--BOUNDARY",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.acme.example",
        "Arrival-Date: Tue, 1 Dec 2026 10:00:00 +0000",
        "",
        f"Final-Recipient: rfc822; {recipient}",
        f"Original-Recipient: rfc822;{recipient}",
        f"Action: {action}",
        f"Status: {status}",
        "Remote-MTA: dns; mx.analytical.example",
        f"Diagnostic-Code: smtp; 550 {status} mailbox unavailable",
        "",
    ]
    if original:
        kind = "text/rfc822-headers" if headers_only else "message/rfc822"
        parts += [
            "--BOUNDARY",
            f"Content-Type: {kind}",
            "",
            "From: Acme <news@acme.example>",
            f"To: {recipient}",
            "Subject: Spring news",
            *([f"Message-ID: {message_id}"] if message_id else []),
            "",
            *([] if headers_only else ["Hello!"]),
            "",
        ]
    parts.append("--BOUNDARY--")
    return "\r\n".join(parts).encode()
