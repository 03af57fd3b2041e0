"""Personalisation tokens in Mautic's syntax: parsed once per email version, filled in per contact.

`{contactfield=firstname|there}` (Mautic's older `{leadfield=...}` too) is a contact's field with a default;
`|date`, `|datetime` and `|time` format a date field instead. `{ownerfield=email}` is the contact owner's
field. The others are links and blocks the sender fills in: `{unsubscribe_url}`, `{unsubscribe_text}`,
`{webview_url}`, `{webview_text}`, `{tracking_pixel}`, `{preference_url}`, `{signature}`, `{subject}`,
`{today}`. Anything else in braces that looks like a token is reported on save (`unknown_tokens`) and
left as written, so a typo shows in the preview instead of vanishing.

A compiled body is a tuple of literal strings and Token objects; `fill` joins it with the values a
resolver returns, HTML-escaping contact values in HTML bodies (a field holding "<b>" prints as text).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

# A token is a lowercase name right after "{", then "=argument", "|default" or "}" (CSS such as
# "a{color:red}" or "{ margin: 0 }" never matches).
_TOKEN = re.compile(r"\{([a-z_]{2,32})(?:=([A-Za-z0-9_.-]{1,64}))?(?:\|([^{}\r\n]{0,191}))?\}")

FIELD_TOKENS = frozenset({"contactfield", "leadfield", "ownerfield"})
SENDER_TOKENS = frozenset({
    "unsubscribe_url", "unsubscribe_text", "webview_url", "webview_text", "tracking_pixel", "preference_url",
    "signature", "subject", "today",
})  # fmt: skip
DATE_FORMATS = frozenset({"date", "datetime", "time"})


@dataclass(frozen=True, slots=True)
class Token:
    """One token as written: name ("contactfield"), argument (the field alias or ""), default or format."""

    name: str
    argument: str = ""
    default: str = ""
    format: str = ""  # "date" / "datetime" / "time" for a contact field shown as a date
    text: str = ""  # the token as written, kept for unknown tokens

    @property
    def field(self) -> bool:
        return self.name in FIELD_TOKENS


Compiled = tuple[str | Token, ...]
# resolve(token) returns the value to print, or None for "no value" (the default is used then).
Resolver = Callable[[Token], "str | None"]


def _token(match: re.Match) -> Token | None:
    name, argument, after = match.group(1), match.group(2) or "", match.group(3)
    if name in FIELD_TOKENS and argument:
        if after is not None and after in DATE_FORMATS:
            return Token("contactfield" if name == "leadfield" else name, argument, format=after, text=match.group(0))
        default = after or ""
        return Token("contactfield" if name == "leadfield" else name, argument, default=default, text=match.group(0))
    if name in SENDER_TOKENS and not argument and after is None:
        return Token(name, text=match.group(0))
    return None


def compile_text(text: str) -> Compiled:
    """Split text into literals and known tokens (unknown ones stay literal text)."""
    parts: list[str | Token] = []
    last = 0
    for match in _TOKEN.finditer(text):
        token = _token(match)
        if token is None:
            continue
        if match.start() > last:
            parts.append(text[last : match.start()])
        parts.append(token)
        last = match.end()
    if last < len(text):
        parts.append(text[last:])
    return tuple(parts)


def tokens_in(*texts: str) -> list[Token]:
    """Return the known tokens of texts, each once, in the order first written."""
    seen: dict[str, Token] = {}
    for text in texts:
        for part in compile_text(text):
            if isinstance(part, Token):
                seen.setdefault(part.text, part)
    return list(seen.values())


def unknown_tokens(*texts: str) -> list[str]:
    """Return what looks like a token but is not one Tidings fills in (each once, as written, truncated)."""
    found: dict[str, None] = {}
    for text in texts:
        for match in _TOKEN.finditer(text):
            if _token(match) is None:
                found.setdefault(match.group(0)[:80], None)
    return list(found)


def fill(compiled: Compiled, resolve: Resolver, *, html: bool) -> str:
    """Join compiled with the values resolve gives; contact values are escaped in HTML, sender values are not.

    The sender's own tokens (links, pixel, signature) return markup or URLs it built and escaped itself.
    """
    out: list[str] = []
    for part in compiled:
        if isinstance(part, str):
            out.append(part)
            continue
        value = resolve(part)
        if part.field:
            text = part.default if value is None or value == "" else value
            out.append(escape(text, quote=True) if html else text)
        else:
            out.append("" if value is None else value)
    return "".join(out)
