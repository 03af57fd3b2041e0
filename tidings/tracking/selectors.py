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


def profiled_visitor(visitor_token: str, page_host: str) -> tuple[int | None, int | None]:
    """Return (visitor id, its contact id) for a device token a form carried, when the device may be profiled.

    visitor_token is the id the tracker stores ("<id>.<signature>", bound to the current workspace);
    page_host the host of the page the form was on: the site covering it decides the consent mode, and
    a host no site covers is treated as a consent site (profiled only after tracking consent). (None, None)
    for no token, a forged or another workspace's one, an unknown device or one that may not be profiled.
    """
    from types import SimpleNamespace

    from tidings.events.selectors import visitor_get
    from tidings.tenancy.context import require_workspace
    from tidings.tracking import consent_adapter
    from tidings.tracking.collect.decide import visitor_from_token
    from tidings.tracking.models import ConsentMode

    if not isinstance(visitor_token, str) or not visitor_token or len(visitor_token) > 64:
        return None, None
    visitor_id = visitor_from_token(require_workspace().id, visitor_token)
    visitor = visitor_get(visitor_id) if visitor_id is not None else None
    if visitor is None:
        return None, None
    site = next((s for s in sites().filter(active=True) if _covers(s.domains, page_host)), None)
    rule = site if site is not None else SimpleNamespace(consent_mode=ConsentMode.CONSENT)
    if not consent_adapter.may_profile(rule, visitor.pk):
        return None, None
    return visitor.pk, visitor.contact_id


def _covers(domains, host: str) -> bool:
    host = (host or "").rstrip(".").lower()
    for domain in domains or ():
        domain = str(domain).rstrip(".").lower()
        if host and (host == domain.lstrip(".") or (domain.startswith(".") and host.endswith(domain))):
            return True
    return False
