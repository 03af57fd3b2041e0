"""Reads of tracking that other apps and the collect endpoints use."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from tidings.tenancy.context import no_workspace, region_db_alias
from tidings.tenancy.rls import dangerously_bypass_rls
from tidings.tracking.models import Site


def site_by_public_key(key: str) -> Site | None:
    """Return the active site whose public key is key, in any workspace; None for an unknown or malformed key.

    The one read of tracking that crosses workspaces: a hit names its site by the key alone, and the
    site names the workspace the hit is then handled in. The key's prefix is the region, so only that
    region's database is asked, for exactly one row by a unique column.
    """
    region, _, rest = key.partition("_")
    if not rest or region not in settings.TIDINGS_REGIONS or len(key) > 64:
        return None
    with no_workspace(), dangerously_bypass_rls():
        return Site.unscoped_objects.using(region_db_alias(region)).filter(public_key=key, active=True).first()


SITES_LIMIT = 500  # sites one list shows (a workspace has a handful)


def sites() -> QuerySet[Site]:
    """Return the current workspace's sites, by name."""
    return Site.objects.order_by("name", "id")


def site_get(site_id: int) -> Site:
    """Return one site of the current workspace; raise Site.DoesNotExist for an id not in it."""
    return Site.objects.get(pk=site_id)


def host_covered(host: str, domains) -> bool:
    """Return whether host is one of domains; ".shop.example" covers shop.example and its subdomains."""
    host = (host or "").rstrip(".").lower()
    if not host:
        return False
    for domain in domains or ():
        domain = str(domain).rstrip(".").lower()
        if domain.startswith("."):
            if host == domain[1:] or host.endswith(domain):
                return True
        elif host == domain:
            return True
    return False


def site_covering_host(host: str) -> Site | None:
    """Return the current workspace's first active site (by name) whose domains cover host; None if none does.

    Landing pages served on Tidings' own host carry the tracker with this site's key.
    """
    for site in sites().filter(active=True)[:SITES_LIMIT]:
        if host_covered(host, site.domains):
            return site
    return None


def tracker_path() -> str:
    """Return the versioned path of the tracker script on this server: /t.js?v=<hash> (cached for a year)."""
    from tidings.tracking.scripts import tracker_url

    return tracker_url("")
