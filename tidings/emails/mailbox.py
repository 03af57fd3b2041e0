"""The bounce mailbox: read delivery status notifications and replies from an IMAP folder and record them.

Where bounces come back to an address of ours (the envelope sender, Return-Path) rather than to an ESP's
webhook, an operator points that address at a mailbox and runs `manage.py emails_poll_bounces` now and
then (cron, the scheduler). Each unseen message is parsed (tidings.emails.bounces); a DSN's bounces are
recorded and the message is marked seen (or deleted with --delete). A person's reply to one of our messages
(tidings.emails.replies; decision 0040) is recorded and marked seen, never deleted: a person may still want
to read it. Anything else (an out-of-office, mail about something else) is left unseen for a person to
read. Only counts are reported, never an address.
"""

from __future__ import annotations

import imaplib
from dataclasses import dataclass

from tidings.emails import bounces, replies

MAX_MESSAGES = 500  # one run's batch; the next run takes the rest


@dataclass
class PollResult:
    read: int = 0
    dsn: int = 0
    hard: int = 0
    soft: int = 0
    replies: int = 0
    other: int = 0


def poll(connection: imaplib.IMAP4, *, principal, folder: str = "INBOX", delete: bool = False) -> PollResult:
    """Read the unseen messages of folder on a signed-in IMAP connection and record their bounces and replies."""
    result = PollResult()
    status, _ = connection.select(folder)
    if status != "OK":
        raise OSError("the bounce folder cannot be opened")
    status, data = connection.uid("SEARCH", None, "UNSEEN")  # type: ignore[arg-type]
    if status != "OK":
        raise OSError("the bounce folder cannot be searched")
    uids = [uid.decode("ascii", "replace") for uid in (data[0] or b"").split()[:MAX_MESSAGES]]
    for uid in uids:
        status, parts = connection.uid("FETCH", uid, "(BODY.PEEK[])")
        raw = next((part[1] for part in parts or [] if isinstance(part, tuple) and len(part) > 1), None)
        if status != "OK" or not isinstance(raw, bytes):
            continue
        result.read += 1
        outcome = bounces.dsn_record(raw, principal=principal)
        if not outcome.is_dsn:
            if replies.reply_message_record(raw, principal=principal).recorded:
                result.replies += 1
                connection.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            else:
                result.other += 1
            continue
        result.dsn += 1
        result.hard += outcome.hard
        result.soft += outcome.soft
        connection.uid("STORE", uid, "+FLAGS", "(\\Deleted)" if delete else "(\\Seen)")
    if delete and result.dsn:
        connection.expunge()
    return result
