"""The functions of the other tracking parts that the collect path calls, in one place.

Built in parallel with this package (issue 10): the public-key door and the actions identify/consent
(H-sites: tidings.web.entry, tidings.tracking.actions, tidings.tracking.consent_adapter) and the
cookieless counter (H-traffic: tidings.tracking.traffic). Each is imported lazily and, while its part
is not merged, falls back to the smallest behaviour that keeps the wire contract (documented on each
function). Tests replace these functions; the integrator connects them here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import hmac
import importlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

SITE_CACHE_SECONDS = 5.0


@functools.cache
def _optional(module: str):
    """Return module, or None while its part is not merged (looked up once per process: this is a hot path)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


# ----------------------------------------------------------------------------------------------
# The site registry, cached in process


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """What a hit needs of its site, read once every few seconds per process."""

    id: int
    workspace_id: int
    workspace_slug: str
    region: str
    domains: tuple[str, ...]
    consent_mode: str
    ip_storage: str
    excluded_networks: tuple[str, ...]

    def allows_host(self, host: str) -> bool:
        """Return whether host is one of the site's domains (".example.org" also allows its subdomains)."""
        host = host.lower().rstrip(".")
        for domain in self.domains:
            domain = domain.lower()
            if domain.startswith("."):
                if host == domain[1:] or host.endswith(domain):
                    return True
            elif host == domain:
                return True
        return False


_sites: dict[Any, tuple[float, Any]] = {}


def _cached(key, load):
    now = time.monotonic()
    found = _sites.get(key)
    if found is not None and found[0] > now:
        return found[1]
    value = load()
    if len(_sites) > 10000:
        _sites.clear()  # a flood of made-up keys must not grow the cache without bound
    _sites[key] = (now + SITE_CACHE_SECONDS, value)
    return value


def clear_site_cache() -> None:
    _sites.clear()


def _info(site, slug: str = "") -> SiteInfo:
    region = site.public_key.partition("_")[0]
    return SiteInfo(
        id=site.pk,
        workspace_id=site.workspace_id,
        workspace_slug=slug,
        region=region,
        domains=tuple(str(domain) for domain in site.domains or ()),
        consent_mode=site.consent_mode,
        ip_storage=site.ip_storage,
        excluded_networks=tuple(str(cidr) for cidr in site.excluded_networks or ()),
    )


def site_for_key(key: str) -> SiteInfo | None:
    """Return the active site of a public key (cached a few seconds, unknown keys too); None when unknown.

    The resolver step of the public-key door (tidings.web.entry, H-sites): until that door is merged,
    this calls tidings.tracking.selectors.site_by_public_key itself.
    """

    def load():
        from tidings.tracking.selectors import site_by_public_key

        site = site_by_public_key(key)
        return None if site is None else _info(site)

    return _cached(("key", key), load)


def sites_of_workspace(slug: str) -> tuple[SiteInfo, ...]:
    """Return the active sites of the workspace named by a Mautic base URL (/m/<slug>/), cached; () if none."""

    def load():
        from tidings.tenancy.context import use_workspace
        from tidings.tenancy.selectors import workspace_by_slug
        from tidings.tracking.selectors import sites

        workspace = workspace_by_slug(slug)
        if workspace is None:
            return ()
        with use_workspace(workspace):
            return tuple(_info(site, workspace.slug) for site in sites().filter(active=True))

    return _cached(("slug", slug), load)


# ----------------------------------------------------------------------------------------------
# Cookieless counting (H-traffic)

_fallback_salts: dict[datetime.date, bytes] = {}


def traffic_digest(site_id: int, ip: str, user_agent: str, at: datetime.datetime) -> bytes:
    """Return the 16-byte daily-salted digest of a visitor (tidings.tracking.traffic.digest).

    Until H-traffic's module is merged: HMAC-SHA256 under a salt derived from the secret key and
    the day, which rotates daily the same way but cannot be deleted after 48 hours.
    """
    traffic = _optional("tidings.tracking.traffic")
    if traffic is not None and hasattr(traffic, "digest"):
        return traffic.digest(site_id, ip, user_agent, at)
    day = at.date()
    salt = _fallback_salts.get(day)
    if salt is None:
        salt = hmac.new(settings.SECRET_KEY.encode(), f"traffic-salt:{day}".encode(), hashlib.sha256).digest()
        _fallback_salts.clear()
        _fallback_salts[day] = salt
    return hmac.new(salt, f"{site_id}|{ip}|{user_agent}".encode(), hashlib.sha256).digest()[:16]


def traffic_count(rows: list[dict]) -> None:
    """Count hits cookielessly (tidings.tracking.traffic.count); rows are dicts of TrafficHit's fields.

    Called inside the flusher's transaction, for the hits not persisted before. Until H-traffic's
    module is merged: nothing is counted.
    """
    traffic = _optional("tidings.tracking.traffic")
    if traffic is None or not hasattr(traffic, "count"):
        return
    hit_class = getattr(traffic, "TrafficHit", None)
    if hit_class is not None and dataclasses.is_dataclass(hit_class):
        names = {f.name for f in dataclasses.fields(hit_class)}
        traffic.count([hit_class(**{k: v for k, v in row.items() if k in names}) for row in rows])  # type: ignore[operator]
    else:
        traffic.count(rows)


# ----------------------------------------------------------------------------------------------
# Consent and identification (H-sites, H-consent)


def visitor_tracking_consent(workspace, visitor_id: int) -> bool | None:
    """Return the visitor's latest "tracking" decision (True given, False withdrawn/objected), None if none.

    consent_adapter.visitor_consents (H-sites) in the workspace; None while it is not merged.
    """
    adapter = _optional("tidings.tracking.consent_adapter")
    if adapter is None or not hasattr(adapter, "visitor_consents"):
        return None
    from tidings.tenancy.context import use_workspace

    with use_workspace(workspace):
        decision = adapter.visitor_consents(visitor_id).get("tracking")
    return None if decision is None else bool(getattr(decision, "given", decision))


def record_signal_withdrawal(workspace, visitor_id: int, signal: str, principal) -> None:
    """Write a withdrawal of "tracking" with signal ("gpc" or "dnt") for the visitor to the consent ledger."""
    adapter = _optional("tidings.tracking.consent_adapter")
    if adapter is None or not hasattr(adapter, "consent_record"):
        return
    from tidings.tenancy.context import use_workspace

    with use_workspace(workspace):
        adapter.consent_record(
            purpose="tracking", given=False, visitor_id=visitor_id, method="tracker", source="tracker",
            signal=signal, principal=principal,
        )  # fmt: skip


def identify(workspace, *, site_id: int, visitor_id: int | None, fields: dict, principal) -> None:
    """Identify the visitor by publicly updatable fields (tidings.tracking.actions.tracking_identify, H-sites).

    Synchronous: rare, and the contact's encryption is needed anyway. Nothing happens until merged.
    """
    actions = _optional("tidings.tracking.actions")
    if actions is None or not hasattr(actions, "tracking_identify"):
        return
    from tidings.tenancy.context import use_workspace

    with use_workspace(workspace):
        actions.tracking_identify(site_id=site_id, visitor_id=visitor_id, fields=fields, principal=principal)


def consent(workspace, *, site_id: int, visitor_id: int | None, purposes: dict, principal) -> None:
    """Record the visitor's choices (tidings.tracking.actions.tracking_consent, H-sites); nothing until merged."""
    actions = _optional("tidings.tracking.actions")
    if actions is None or not hasattr(actions, "tracking_consent"):
        return
    from tidings.tenancy.context import use_workspace

    with use_workspace(workspace):
        actions.tracking_consent(site_id=site_id, visitor_id=visitor_id, purposes=purposes, principal=principal)
