"""Strict parsing of the collect endpoints' payloads (the wire contract in docs/decisions/0019).

Every function here takes what a browser (or anyone) sent and returns a Hit, or raises
PayloadError whose message says what is wrong with which field, never the value itself: the
message goes back to the sender and into logs. Nothing here touches the database.
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tidings import fastjson
from tidings.events.registry import MAX_URL

MAX_BODY = 16 * 1024
MAX_QUERY = 8 * 1024
MAX_HITS = 50
MAX_FIELDS = 30
MAX_PROPS = 20
MAX_TEXT = 500
KINDS = ("pageview", "event", "identify", "consent")

_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_EVENT_NAME_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_LANGUAGE_RE = re.compile(r"^[A-Za-z0-9-]{1,35}$")
_TIME_ZONE_RE = re.compile(r"^[A-Za-z0-9_+/-]{1,64}$")
_SCREEN_RE = re.compile(r"^[0-9]{1,5}x[0-9]{1,5}$")
_VISITOR_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_PURPOSE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_FIELD_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


class PayloadError(ValueError):
    """The payload is malformed; the message names the field and the rule, never the value."""


@dataclass(frozen=True, slots=True)
class Hit:
    """One parsed hit, as sent: nothing reduced yet (the URL still has its query string, for the UTM tags)."""

    key: str
    id: str
    kind: str = "pageview"
    url: str = ""
    referrer: str = ""
    title: str = ""
    language: str = ""
    time_zone: str = ""
    screen: str = ""
    name: str = ""
    props: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    consents: dict[str, bool] = field(default_factory=dict)
    visitor: str = ""
    gpc: bool = False
    dnt: bool = False
    utm: tuple[str, str, str] = ("", "", "")  # Mautic sends utm_* beside page_url; the URL's own tags win

    @property
    def host(self) -> str:
        return page_host(self.url)


@functools.lru_cache(maxsize=16_384)  # origins, referrers and pages repeat from hit to hit
def page_host(url: str) -> str:
    """Return the lower-cased host of an http(s) URL, "" when there is none."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


@functools.lru_cache(maxsize=16_384)  # pages and referrers repeat from hit to hit
def _scheme_and_host(url: str) -> tuple[str, str | None] | None:
    """Return url's lower-cased scheme and its host (None when it has none); None when url is not a URL."""
    try:
        parts = urlsplit(url)
        return parts.scheme.lower(), parts.hostname
    except ValueError:
        return None


def _text(data: dict, name: str, *, limit: int = MAX_TEXT, pattern: re.Pattern | None = None) -> str:
    value = data.get(name)
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{name} must be a string")
    if len(value) > limit:
        raise PayloadError(f"{name} is longer than {limit} characters")
    if pattern is not None and not pattern.match(value):
        raise PayloadError(f"{name} has characters or a form it may not have")
    return value


def _url(data: dict, name: str, *, required: bool) -> str:
    value = _text(data, name, limit=MAX_URL)
    if not value:
        if required:
            raise PayloadError(f"{name} is required")
        return ""
    parts = _scheme_and_host(value)
    if parts is None:
        raise PayloadError(f"{name} is not a URL")
    scheme, host = parts
    if scheme not in {"http", "https"} or not host:
        if name in {"r", "page_referrer"}:
            return ""  # an app's or a file's referrer (android-app://...): not a web page, not an error
        raise PayloadError(f"{name} must be an http or https URL")
    if not value.isprintable():
        raise PayloadError(f"{name} has characters a URL may not have")
    return value


def _flag(data: dict, name: str) -> bool:
    value = data.get(name)
    if value in (None, "", 0, "0", False, "false"):
        return False
    if value in (1, "1", True, "true"):
        return True
    raise PayloadError(f"{name} must be 1 or 0")


def _mapping(data: dict, name: str, limit: int) -> dict:
    value = data.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{name} must be an object")
    if len(value) > limit:
        raise PayloadError(f"{name} has more than {limit} entries")
    return value


def _props(data: dict) -> dict[str, Any]:
    props = _mapping(data, "p", MAX_PROPS)
    for key, value in props.items():
        if not _FIELD_RE.match(key):
            raise PayloadError("p has a property name it may not have")
        if isinstance(value, str):
            if len(value) > MAX_TEXT:
                raise PayloadError(f"p has a value longer than {MAX_TEXT} characters")
        elif value is not None and not isinstance(value, bool | int | float):
            raise PayloadError("p values must be strings, numbers or booleans")
    return props


def _fields(data: dict, name: str = "f") -> dict[str, str]:
    fields = _mapping(data, name, MAX_FIELDS)
    for key, value in fields.items():
        if not _FIELD_RE.match(key):
            raise PayloadError(f"{name} has a field name it may not have")
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise PayloadError(f"{name} values must be strings of at most {MAX_TEXT} characters")
    return fields


def _consents(data: dict) -> dict[str, bool]:
    consents = _mapping(data, "c", MAX_FIELDS)
    for key, value in consents.items():
        if not _PURPOSE_RE.match(key):
            raise PayloadError("c has a purpose key it may not have")
        if not isinstance(value, bool):
            raise PayloadError("c values must be true or false")
    return consents


def parse_hit(data: Any, *, key: str = "", rich: bool = True) -> Hit:
    """Return the Hit in data (a dict of one hit); raise PayloadError.

    key is the batch's site key when the hit carries none; rich is False for the pixel (no props, fields).
    """
    if not isinstance(data, dict):
        raise PayloadError("a hit must be an object")
    key = _text(data, "k", limit=64, pattern=_KEY_RE) or key
    if not key:
        raise PayloadError("k (the site key) is required")
    client_id = _text(data, "id", limit=64, pattern=_CLIENT_ID_RE)
    if not client_id:
        raise PayloadError("id (16 to 64 letters, digits, _ or -) is required")
    kind = _text(data, "t", limit=16) or "pageview"
    if kind not in KINDS or (not rich and kind not in {"pageview", "event"}):
        raise PayloadError("t must be pageview, event, identify or consent")
    name = _text(data, "n", limit=64, pattern=_EVENT_NAME_RE)
    if kind == "event" and not name:
        raise PayloadError("n (the event name) is required for an event")
    return Hit(
        key=key,
        id=client_id,
        kind=kind,
        url=_url(data, "u", required=kind in {"pageview", "event"}),
        referrer=_url(data, "r", required=False),
        title=_text(data, "ti"),
        language=_text(data, "l", limit=35, pattern=_LANGUAGE_RE),
        time_zone=_text(data, "tz", limit=64, pattern=_TIME_ZONE_RE),
        screen=_text(data, "sc", limit=11, pattern=_SCREEN_RE),
        name=name,
        props=_props(data) if rich and kind == "event" else {},
        fields=_fields(data) if rich and kind == "identify" else {},
        consents=_consents(data) if rich and kind == "consent" else {},
        visitor=_text(data, "v", limit=64, pattern=_VISITOR_RE),
        gpc=_flag(data, "gpc"),
        dnt=_flag(data, "dnt"),
    )


def parse_body(body: bytes) -> list[Hit]:
    """Return the hits of a /t/collect body: one hit, or {"k": KEY, "hits": [...]}; raise PayloadError."""
    if len(body) > MAX_BODY:
        raise PayloadError(f"the body is larger than {MAX_BODY} bytes")
    try:
        data = fastjson.loads(body)
    except (ValueError, RecursionError):
        raise PayloadError("the body is not JSON") from None
    if not isinstance(data, dict):
        raise PayloadError("the body must be a JSON object")
    if "hits" not in data:
        return [parse_hit(data)]
    hits = data["hits"]
    if not isinstance(hits, list) or not hits:
        raise PayloadError("hits must be a non-empty list")
    if len(hits) > MAX_HITS:
        raise PayloadError(f"hits has more than {MAX_HITS} entries")
    key = _text(data, "k", limit=64, pattern=_KEY_RE)
    parsed = [parse_hit(hit, key=key) for hit in hits]
    if len({hit.key for hit in parsed}) > 1:
        raise PayloadError("the hits of one batch must name one site")
    return parsed


def query_params(query: str) -> dict[str, str]:
    """Return a query string's (or a form body's) parameters, the last of a repeated name winning."""
    if len(query) > MAX_QUERY:
        raise PayloadError(f"the query is longer than {MAX_QUERY} characters")
    try:
        return dict(parse_qsl(query, keep_blank_values=True, max_num_fields=MAX_FIELDS * 2))
    except ValueError:
        raise PayloadError(f"the query has more than {MAX_FIELDS * 2} parameters") from None


def parse_pixel(query: str) -> Hit:
    """Return the Hit of a /t/p.gif query string (the collect keys as parameters, no p nor f)."""
    return parse_hit(query_params(query), rich=False)


# Mautic's tracker parameters that are not contact fields (mtc.js, MauticJS.trackPageView).
MAUTIC_PAGE_PARAMS = {
    "page_url", "page_title", "page_referrer", "page_language", "resolution", "timezone", "timezone_offset",
    "platform", "do_not_track", "counter", "mautic_device_id", "mtc_id", "mautic_referer_id", "preferred_locale",
    "fingerprint", "adblock", "language", "title", "url", "referrer",
}  # fmt: skip


def parse_mautic(params: dict[str, str]) -> Hit:
    """Return the Hit of Mautic's /mtc/event or /mtracking.gif parameters; raise PayloadError.

    There is no site key (the site is found from page_url's host) and no client event id (one is
    drawn here, so the spool's replay stays idempotent). Parameters that are not the tracker's own
    and not utm_* are contact fields: the hit identifies the visitor as well.
    """
    fields = {
        name: value
        for name, value in params.items()
        if name not in MAUTIC_PAGE_PARAMS and not name.startswith("utm_") and value != ""
    }
    screen = params.get("resolution", "")
    data = {
        "k": "mautic",
        "id": secrets.token_urlsafe(16),
        "u": params.get("page_url", ""),
        "r": params.get("page_referrer", ""),
        "ti": params.get("page_title", ""),
        "l": params.get("page_language", ""),
        "tz": params.get("timezone", ""),
        "sc": screen if _SCREEN_RE.match(screen) else "",
        "v": params.get("mautic_device_id", ""),
        "dnt": "1" if params.get("do_not_track", "") in {"1", "yes"} else "",
        "f": fields,
    }
    hit = parse_hit(data, rich=False)
    utm = tuple(_text(params, f"utm_{tag}", limit=200) for tag in ("source", "medium", "campaign"))
    return replace(hit, key="", fields=_fields(data), utm=utm)  # type: ignore[arg-type]
