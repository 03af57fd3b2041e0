"""The functions of the rest of tracking that the collect path calls, in one place.

The site registry (cached in process), the cookieless counter (tidings.tracking.traffic), and the
consent ledger and identification (tidings.tracking.consent_adapter, tidings.tracking.actions).
Imported on use: the front is loaded by the WSGI module before Django's apps are ready. Tests
replace these functions.
"""

from __future__ import annotations

import datetime
import functools
import logging
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

SITE_CACHE_SECONDS = 5.0


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
        return _host_allowed(self.domains, host)


@functools.lru_cache(maxsize=16_384)  # asked three times a hit, with the same few hosts
def _host_allowed(domains: tuple[str, ...], host: str) -> bool:
    host = host.lower().rstrip(".")
    for domain in domains:
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
# Cookieless counting (tidings.tracking.traffic)


def traffic_digest(workspace, site_id: int, ip: str, user_agent: str, at: datetime.datetime) -> bytes:
    """Return the 16-byte daily-salted digest of a visitor (tidings.tracking.traffic.digest, per workspace)."""
    from tidings.tenancy.context import use_workspace
    from tidings.tracking import traffic

    with use_workspace(workspace):
        return traffic.digest(site_id, ip, user_agent, at)


def traffic_count(rows: list[dict]) -> None:
    """Count hits cookielessly (tidings.tracking.traffic.count); rows are dicts of TrafficHit's fields, no other key.

    Called inside the flusher's transaction, for the hits not persisted before.
    """
    from tidings.tracking import traffic

    traffic.count([traffic.TrafficHit(**row) for row in rows])


# ----------------------------------------------------------------------------------------------
# Consent and identification (H-sites, H-consent)


def visitor_tracking_consent(workspace, visitor_id: int) -> bool | None:
    """Return the visitor's latest "tracking" decision (True given, False withdrawn/objected), None if none."""
    from tidings.tenancy.context import use_workspace
    from tidings.tracking import consent_adapter

    with use_workspace(workspace):
        return consent_adapter.visitor_decision(visitor_id)


def record_signal_withdrawal(workspace, visitor_id: int, signal: str, principal) -> None:
    """Write a withdrawal of "tracking" with signal ("gpc" or "dnt") for the visitor to the consent ledger, once."""
    from tidings.tenancy.context import use_workspace
    from tidings.tracking import consent_adapter

    with use_workspace(workspace):
        if not consent_adapter.signal_withdrawn(visitor_id, signal):
            consent_adapter.record(purpose=consent_adapter.TRACKING_PURPOSE, given=False, visitor_id=visitor_id,
                                   source="tracker", signal=signal, principal=principal)  # fmt: skip


def identify(workspace, *, site_id: int, visitor_id: int | None, fields: dict, ip: str, principal) -> None:
    """Identify the visitor by publicly updatable fields (tidings.tracking.actions.tracking_identify).

    Synchronous: rare, and the contact's encryption is needed anyway.
    """
    from tidings.tenancy.context import use_workspace
    from tidings.tracking import actions

    with use_workspace(workspace):
        actions.tracking_identify(site_id, visitor_id, fields, ip=ip or None, principal=principal)


def consent(workspace, *, site_id: int, visitor_id: int | None, purposes: dict, ip: str, source_url: str,
            principal) -> int | None:  # fmt: skip
    """Record the visitor's choices (tidings.tracking.actions.tracking_consent); return the device id to hand back.

    A visitor who consents to tracking without a device id yet gets one here; None when it may not be profiled.
    """
    from tidings.tenancy.context import use_workspace
    from tidings.tracking import actions

    with use_workspace(workspace):
        result = actions.tracking_consent(site_id, visitor_id, purposes, ip=ip or None, source_url=source_url,
                                          principal=principal)  # fmt: skip
    return result.visitor_id
