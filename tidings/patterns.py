"""Regular expressions written by users (form validation rules, segment filters), matched in linear time.

Python's re backtracks: a pattern like "(a|aa)+$" takes exponential time on a crafted answer, so a
member's pattern and a visitor's input could hold a worker for ever. RE2 (google-re2) guarantees time
linear in the input and refuses what needs backtracking (back-references, look-arounds), which is the
subset users need. Compiled patterns are cached: the same few patterns are matched over and over.
"""

from __future__ import annotations

import functools

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print the refused pattern on stderr


class PatternError(ValueError):
    """The pattern is not one RE2 reads (a syntax error, a back-reference or a look-around)."""


@functools.lru_cache(maxsize=512)
def linear(pattern: str):
    """Return pattern compiled by RE2, or raise PatternError (without repeating the pattern)."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error:
        raise PatternError("not a regular expression RE2 reads") from None


def full_match(pattern: str, text: str) -> bool:
    return linear(pattern).fullmatch(text) is not None


def sqlite_regexp(pattern: str | None, text: object) -> bool | None:
    """SQLite's REGEXP, as Django defines it (search; NULL in, NULL out), in linear time."""
    if pattern is None or text is None:
        return None
    try:
        return linear(pattern).search(text if isinstance(text, str) else str(text)) is not None
    except PatternError:
        return False  # patterns are checked when saved; one that slipped through matches nothing
