"""Reads of tracking that other apps and the collect endpoints use."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from tidings.tenancy.context import no_workspace, region_db_alias, require_workspace
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


def tracker_path() -> str:
    """Return the versioned path of the tracker script on this server: /t.js?v=<hash> (cached for a year)."""
    from tidings.tracking.scripts import tracker_url

    return tracker_url("")


# ----------------------------------------------------------------------------------------------
# A device or a tracked email's click, seen outside the tracker (asset downloads, landing pages)


def device_visitor(token: str) -> int | None:
    """Return the visitor the device id (the _tdv cookie's "<id>.<signature>") names in the current workspace.

    None when the token is absent, forged, another workspace's, or names no stored visitor.
    """
    from tidings.events.selectors import visitor_get
    from tidings.tracking.collect.decide import visitor_from_token

    if not isinstance(token, str) or not token or len(token) > 64:
        return None
    visitor_id = visitor_from_token(require_workspace().id, token)
    if visitor_id is None or visitor_get(visitor_id) is None:
        return None
    return visitor_id


def site_covering(host: str) -> Site | None:
    """Return the current workspace's active site whose domains include host (the first by id); None if none."""
    for site in Site.objects.filter(active=True).order_by("id")[:SITES_LIMIT]:
        if host_covered(host, site.domains):
            return site
    return None


def device_may_be_profiled(visitor_id: int, *, host: str, signal: str | None) -> bool:
    """Return whether the visitor's device may be profiled by a request from a page on host.

    The site covering host decides by its own rule (tidings.tracking.consent_adapter.may_profile);
    with no such site, only a visitor whose latest tracking decision is a "yes" may be (opt-in),
    and never with a GPC/DNT signal.
    """
    from tidings.tracking import consent_adapter

    site = site_covering(host)
    if site is not None:
        return bool(consent_adapter.may_profile(site, visitor_id, signal=signal))
    if signal:
        return False
    return consent_adapter.visitor_decision(visitor_id) is True


def contact_for_click_token(token: str) -> int | None:
    """Return the contact a tracked email's signed click token (tdt=, Mautic's ct=) names here; None if none."""
    from tidings.tracking.identify import contact_for_click_token as contact_of

    return contact_of(token)


def click_token_for(contact_id: int) -> str:
    """Return the signed click token (tdt=) naming contact_id in the current workspace, for a tracked email's click."""
    from tidings.tracking.identify import click_token

    return click_token(contact_id, workspace=require_workspace())


def profiled_visitor(visitor_token: str, page_host: str) -> tuple[int | None, int | None]:
    """Return (visitor id, its contact id) for a device token a form carried, when the device may be profiled.

    visitor_token is the id the tracker stores ("<id>.<signature>", bound to the current workspace);
    page_host the host of the page the form was on: the site covering it decides by its consent mode, and
    with no such site only a visitor who gave tracking consent may be (device_may_be_profiled). (None, None)
    for no token, a forged or another workspace's one, an unknown device or one that may not be profiled.
    """
    from tidings.events.selectors import visitor_get

    visitor_id = device_visitor(visitor_token)
    if visitor_id is None or not device_may_be_profiled(visitor_id, host=page_host, signal=None):
        return None, None
    visitor = visitor_get(visitor_id)
    return (visitor.pk, visitor.contact_id) if visitor is not None else (None, None)
