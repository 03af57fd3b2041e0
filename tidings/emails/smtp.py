"""One SMTP transaction of the sender, with the journal's mark just before the message's data leaves.

smtplib's sendmail for one recipient, split where the sending journal needs it (tidings.emails.journal).
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable

from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

_LEADING_DOT = re.compile(rb"(?m)^\.")


def _transaction(connection: smtplib.SMTP, sender: str, recipient: str, data: bytes,
                 committing: Callable[[], None] | None) -> None:  # fmt: skip
    """smtplib's sendmail for one recipient, calling committing() just before the data (with its final ".") leaves.

    Until that line reaches the server it takes nothing (RFC 5321, 4.1.1.4): the journal's mark, written
    first, tells a message that may have been taken from one that certainly was not. The errors are
    smtplib's (SMTPSenderRefused, SMTPRecipientsRefused, SMTPDataError), raised at the same points.
    """

    def abandon(code: int) -> None:
        if code == 421:  # the server is closing the connection
            connection.close()
        else:
            connection.rset()

    connection.ehlo_or_helo_if_needed()
    options = [f"size={len(data)}"] if connection.does_esmtp and connection.has_extn("size") else []
    code, reply = connection.mail(sender, options)
    if code != 250:
        abandon(code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = connection.rcpt(recipient)
    if code not in (250, 251):
        abandon(code)
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    connection.putcmd("data")
    code, reply = connection.getreply()
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    quoted = _LEADING_DOT.sub(b"..", data)
    if committing is not None:
        committing()
    # The data and its final "." in one send(), as smtplib does: the "." alone in a second small segment would
    # wait for the first one's delayed ACK (Nagle's algorithm), ~40 ms a message.
    connection.send((quoted if quoted.endswith(b"\r\n") else quoted + b"\r\n") + b".\r\n")
    code, reply = connection.getreply()
    if code != 250:
        abandon(code)
        raise smtplib.SMTPDataError(code, reply)


def send(backend: SmtpBackend, sender: str, recipient: str, data: bytes,
               committing: Callable[[], None] | None = None) -> None:  # fmt: skip
    if backend.connection is None:
        backend.open()
    try:
        _transaction(backend.connection, sender, recipient, data, committing)  # type: ignore[arg-type]
    except smtplib.SMTPServerDisconnected:
        # A connection the server closed while idle: reopened once, the message was not taken.
        backend.connection = None
        backend.open()
        connection: smtplib.SMTP = backend.connection  # type: ignore[assignment]  # open() just set it
        _transaction(connection, sender, recipient, data, committing)
