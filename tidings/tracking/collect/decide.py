"""May this hit be profiled (a device id, a page.hit event, a session), or only counted cookielessly?

The rule (docs/decisions/0019, issue 10): never with Sec-GPC or DNT (headers or the payload's
gpc/dnt), never on a cookieless site; on a legitimate-interest site unless the visitor objected;
on a consent site only when the visitor's latest "tracking" consent is given.

The visitor id handed to the browser is "<id>.<signature>": the signature binds it to the
workspace, so a made-up or another workspace's id is treated as no id at all.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from django.conf import settings

from tidings.tracking.collect import seams

CONSENT_CACHE_SECONDS = 5.0
_MAX_VISITOR_ID = 2**63 - 1


@functools.cache
def _signing_key(secret: str) -> bytes:
    return hashlib.sha256(f"tidings.tracking.visitor:{secret}".encode()).digest()


def _signature(workspace_id: int, visitor_id: int) -> str:
    return _mac(_signing_key(settings.SECRET_KEY), workspace_id, visitor_id)


@functools.lru_cache(maxsize=65_536)
def _mac(key: bytes, workspace_id: int, visitor_id: int) -> str:
    # Cached: a returning device's id is checked on each hit and handed back signed again.
    mac = hmac.new(key, f"{workspace_id}:{visitor_id}".encode(), hashlib.sha256).digest()[:9]
    return base64.urlsafe_b64encode(mac).decode()


def visitor_token(workspace_id: int, visitor_id: int) -> str:
    """Return the visitor id as the browser stores it: the id and its workspace-bound signature."""
    return f"{visitor_id}.{_signature(workspace_id, visitor_id)}"


def visitor_from_token(workspace_id: int, token: str) -> int | None:
    """Return the visitor id a token names for workspace_id; None when it is absent, malformed or forged."""
    number, _, signature = token.partition(".")
    if not number.isdigit() or len(number) > 19 or not signature:
        return None
    visitor_id = int(number)
    if not 0 < visitor_id <= _MAX_VISITOR_ID:
        return None
    if not hmac.compare_digest(signature, _signature(workspace_id, visitor_id)):
        return None
    return visitor_id


def new_visitor_id() -> int:
    """Return a random visitor id (events.Visitor ids are random, not a sequence)."""
    return secrets.randbelow(_MAX_VISITOR_ID) + 1


@dataclass(frozen=True, slots=True)
class Decision:
    profiled: bool
    visitor_id: int | None  # the visitor the hit is recorded for (profiled only)
    signal: str = ""  # "gpc" or "dnt" when a privacy signal stopped profiling
    withdraw_for: int | None = None  # a known visitor whose signal must reach the consent ledger


_consents: dict[tuple[int, int], tuple[float, bool | None]] = {}


def latest_consent(site: seams.SiteInfo, visitor_id: int) -> bool | None:
    """Return the visitor's latest tracking decision, cached a few seconds per process."""
    key = (site.workspace_id, visitor_id)
    now = time.monotonic()
    found = _consents.get(key)
    if found is not None and found[0] > now:
        return found[1]
    from tidings.tenancy.context import ActiveWorkspace

    workspace = ActiveWorkspace(id=site.workspace_id, slug=site.workspace_slug, region=site.region)
    value = seams.visitor_tracking_consent(workspace, visitor_id)
    if len(_consents) > 100_000:
        _consents.clear()
    _consents[key] = (now + CONSENT_CACHE_SECONDS, value)
    return value


def forget_consent(workspace_id: int, visitor_id: int | None) -> None:
    """Drop a cached decision (after this process recorded a new choice of the visitor)."""
    if visitor_id is not None:
        _consents.pop((workspace_id, visitor_id), None)


def decide(site: seams.SiteInfo, *, visitor_token: str, gpc: bool, dnt: bool) -> Decision:
    """Return whether a hit on site may be profiled, and for which visitor (a new one on a first visit)."""
    known = visitor_from_token(site.workspace_id, visitor_token) if visitor_token else None
    if gpc or dnt:
        return Decision(False, None, "gpc" if gpc else "dnt", withdraw_for=known)
    if site.consent_mode == "cookieless":
        return Decision(False, None)
    if known is None:
        if site.consent_mode == "legitimate_interest":
            return Decision(True, new_visitor_id())
        return Decision(False, None)  # consent mode: an unknown device has consented to nothing
    choice = latest_consent(site, known)
    if site.consent_mode == "legitimate_interest":
        return Decision(choice is not False, known if choice is not False else None)
    return Decision(choice is True, known if choice is True else None)
