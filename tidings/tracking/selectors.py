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
