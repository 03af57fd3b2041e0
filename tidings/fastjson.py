"""JSON on the hot paths (tracking hits, their spool, bulk writes' JSON columns): orjson, in C/Rust.

The standard library's encoder costs ~4.7 us for a spooled hit and ~2.7 us for an event's data, its
decoder ~2.7 us for a hit's body; orjson does each in ~0.3-0.5 us (docs/decisions/0044). What is
written is the same JSON, compact and in UTF-8 rather than with \\u escapes. Values orjson refuses
where the standard library accepts them (integers past 64 bits, unpaired surrogates) are encoded by
the standard library; datetimes and dataclasses stay refused, as json.dumps refuses them.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# Without these, orjson would write datetimes and dataclasses that json.dumps (Django's default for a
# JSONField without an encoder) refuses: a value that is an error elsewhere stays one here.
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# The fallback escapes non-ASCII (\\uXXXX), so an unpaired surrogate (which orjson refuses) is still written.
_compact = json.JSONEncoder(separators=(",", ":")).encode


def dumps_bytes(value: Any) -> bytes:
    """Return value as compact UTF-8 JSON; raise TypeError for what json.dumps cannot encode either."""
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except TypeError:
        return _compact(value).encode()


def dumps(value: Any) -> str:
    """Return value as compact JSON text (see dumps_bytes)."""
    return dumps_bytes(value).decode()


def loads(data: bytes | str) -> Any:
    """Return the value of JSON text; raise orjson.JSONDecodeError (a ValueError) when it is not JSON.

    Stricter than json.loads where JSON is: NaN, Infinity and unpaired surrogates are refused.
    """
    return orjson.loads(data)
