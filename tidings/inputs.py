"""Read untrusted input strictly: whole numbers, yes/no values, JSON bodies and text, for every surface.

Python's own readers are generous in ways that reach the database as a 500: ``int()`` takes
any number of digits (beyond what a 64-bit column holds) and ``str.isdigit()`` is true for
``"²"``, which ``int()`` then refuses; ``json.loads`` takes ``NaN``, ``Infinity`` and ``1e400``
(a float infinity) and raises RecursionError on a deeply nested document; and a NUL character
passes everywhere until PostgreSQL refuses it in a text column.

Each reader here raises ``InvalidInput`` (a ValueError) with a message fit for a client and
free of the value itself; every surface maps it to its own 4xx shape (the native API in
``tidings.api.api``, the Mautic-compatible API in ``tidings.mautic_compat``, forms through
ValidationError). This module imports nothing from Tidings, so every layer may use it.
"""

from __future__ import annotations

import json
import re
from typing import Any

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # BigIntegerField, BigAutoField ids
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1  # IntegerField (contact points)
MAX_JSON_DEPTH = 32  # Mautic's deepest body is a where[] group (5 levels); 32 leaves room and stops stack bombs

_ASCII_INT = re.compile(r"[+-]?[0-9]+")


class InvalidInput(ValueError):
    """A client value that cannot be read; the message names the problem, never the value."""


def parse_int(value: Any, *, minimum: int = INT64_MIN, maximum: int = INT64_MAX, name: str = "") -> int:
    """Return value as an int within [minimum, maximum]: an int, or ASCII digits with an optional sign.

    Raise InvalidInput for anything else: booleans, floats, Unicode digits ("²", "٣"),
    blanks, and numbers outside the range (64-bit by default, what an id column holds).
    """
    prefix = f"{name}: " if name else ""
    if isinstance(value, bool):
        raise InvalidInput(f"{prefix}must be a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ASCII_INT.fullmatch(value.strip()) and len(value.strip()) <= 40:
        number = int(value.strip())
    else:
        raise InvalidInput(f"{prefix}must be a whole number")
    if not minimum <= number <= maximum:
        raise InvalidInput(f"{prefix}must be between {minimum} and {maximum}")
    return number


def parse_id(value: Any, *, name: str = "id") -> int:
    """Return value as a positive 64-bit id; raise InvalidInput otherwise."""
    return parse_int(value, minimum=1, maximum=INT64_MAX, name=name)


# The words of a yes/no value, compared after strip() and lower(). They are PHP's
# FILTER_VALIDATE_BOOLEAN words, which Mautic clients send, and what operators write in
# environment variables; "y" and "n" are added on request (spreadsheets, CSV imports).
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
SHORT_TRUE, SHORT_FALSE = "y", "n"


def parse_bool(value: Any, *, strict: bool = False, short_words: bool = False) -> bool:
    """Return whether value says yes: True, or 1, "1", "true", "yes", "on" in any case and spacing.

    short_words also takes "y" (and "n" as no). Loose (the default), anything else is False:
    a flag left empty, absent or garbled is off. With strict, only False and 0, "0", "false",
    "no", "off" (and "n") are False, and anything else raises InvalidInput, for values that
    must say yes or no (a boolean field).
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS or (short_words and text == SHORT_TRUE):
        return True
    if not strict or text in FALSE_WORDS or (short_words and text == SHORT_FALSE):
        return False
    raise InvalidInput("is not yes or no")


def is_ascii_digits(value: Any) -> bool:
    """Return whether value is a non-empty string of ASCII digits 0-9 (unlike str.isdigit, which takes "²")."""
    return isinstance(value, str) and value.isascii() and value.isdigit()


def beyond_64_bits(value: Any) -> bool:
    """Return whether value is a whole number (an int, or ASCII digits as a URL path carries it) beyond 64 bits."""
    if isinstance(value, str) and is_ascii_digits(value):
        value = int(value) if len(value) <= 40 else INT64_MAX + 1
    return isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX


def has_nul(value: Any) -> bool:
    """Return whether a NUL character appears in value, its keys or anything nested in it."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


def check_text(value: Any) -> None:
    """Raise InvalidInput when value (a string or a structure of them) holds a NUL character."""
    if has_nul(value):
        raise InvalidInput("text may not contain NUL characters")


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise InvalidInput("a number in the body is too large")
    return number


def _no_constant(name: str):
    raise InvalidInput(f"{name} is not a number JSON allows")


def _depth_exceeds(data: Any, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def loads_json(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Return the JSON document in raw, read strictly; raise InvalidInput when it cannot be accepted.

    Refused: malformed JSON or text that is not UTF-8, NaN/Infinity and numbers too large for
    a float (1e400), nesting deeper than max_depth, and NUL characters in any string or key.
    """
    try:
        data = json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except InvalidInput:
        raise
    except RecursionError:
        raise InvalidInput(f"the body is nested deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the body is not valid JSON") from None
    if _depth_exceeds(data, max_depth):
        raise InvalidInput(f"the body is nested deeper than {max_depth} levels")
    check_text(data)
    return data
