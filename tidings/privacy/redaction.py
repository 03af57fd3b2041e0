"""Keep personal values out of the server log: tracebacks keep their frames and exception types only.

An exception's message often carries the value that caused it (a database error quoting the
row, a parser quoting its input: a 500's traceback once put a contact's email into the log).
A log record factory, installed once per process at start-up (PrivacyConfig.ready), turns every
record that carries exc_info into one whose exc_text lists the frames (file, line, function,
source line) and the exception types of the chain, with every message replaced by a marker;
exc_info is dropped so no handler can format the original again. The `request` Django attaches
to django.request records (and with it the body and query values) is dropped too. Messages our
own code logs hold ids and counts only (docs/contacts-and-privacy.md).
"""

from __future__ import annotations

import logging
import traceback

REDACTED = "<message withheld: it may hold personal data>"
_installed = False


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def redacted_traceback(exc_info) -> str:
    """Return the traceback of exc_info with its frames and exception types, and no exception messages."""
    chain: list[tuple[BaseException, str]] = []  # newest first, each with how the older one led to it
    error: BaseException | None = exc_info[1]
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if error.__cause__ is not None:
            chain.append((error, _CAUSE))
            error = error.__cause__
        elif error.__context__ is not None and not error.__suppress_context__:
            chain.append((error, _CONTEXT))
            error = error.__context__
        else:
            chain.append((error, ""))
            error = None
    text = ""
    for position, (error, link) in enumerate(reversed(chain)):
        if position:
            text += link
        frames = "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
        kind = f"{type(error).__module__}.{type(error).__qualname__}"
        # An exception class may vouch that its messages hold no value (a missing key names a path).
        message = str(error) if getattr(type(error), "message_is_safe", False) else REDACTED
        text += f"Traceback (most recent call last):\n{frames}{kind}: {message}\n"
    return text.rstrip("\n")


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Replace record's exception with its redacted traceback and drop an attached request; return it."""
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = redacted_traceback(record.exc_info)
        record.exc_info = None
    if getattr(record, "request", None) is not None:
        record.request = None
    return record


def install() -> None:
    """Wrap the process's log record factory so every record is redacted as it is made (idempotent)."""
    global _installed
    if _installed:
        return
    original = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        return redact_record(original(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
