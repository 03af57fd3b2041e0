"""Routes of the traffic dashboard and its API: bob (Globex) and mallory (Initech) get 404 on Acme's site.

Each site route is probed under Acme's slug (the attacker is not a member) and under the attacker's own
slug with Acme's site id (he holds every permission there, but the id is not his workspace's); the API
with his token and his password, naming Acme's site id. Joined to tracking's probes by
cross_workspace.py (one module per app is discovered).
"""

import datetime

from tidings.tests.world import Probe

MARKER = "Acme secret traffic site"
PAGE_MARKER = "/acme-secret-traffic-page"


def setup(world):
    from django.utils import timezone

    from tidings.tenancy.context import use_workspace
    from tidings.tracking.models import Site, new_public_key
    from tidings.tracking.traffic import TrafficHit, count

    with use_workspace(world.acme):
        site = Site.objects.create(name=MARKER, public_key=new_public_key(world.acme.region), domains=["acme.example"])
    now = timezone.now()
    hits = [
        TrafficHit(site.workspace_id, site.pk, now - datetime.timedelta(minutes=n), bytes([n]) * 16, url=PAGE_MARKER)
        for n in range(12)
    ]
    count(hits)
    world.objects["acme_traffic_site"] = site.pk
    world.markers.update({MARKER, PAGE_MARKER})


def _site(world, tail: str = "") -> list[Probe]:
    path = f"tracking/sites/{world.objects['acme_traffic_site']}/traffic/{tail}"
    return [Probe("GET", f"/w/{world.acme.slug}/{path}"), Probe("GET", f"/w/{world.globex.slug}/{path}")]


def _api(world, query: str = "") -> list[Probe]:
    path = f"/api/v1/sites/{world.objects['acme_traffic_site']}/traffic{query}"
    return [Probe("GET", path, actor=actor) for actor in ("bob_token", "bob_basic")]


CASES = {
    "tracking_traffic:index": lambda w: [Probe("GET", f"/w/{w.acme.slug}/tracking/traffic/")],
    "tracking_traffic:site": lambda w: _site(w) + _site(w, "?period=7") + _site(w, "?period=custom&start=x"),
    "api:v1:site_traffic": lambda w: _api(w) + _api(w, "?period=90") + _api(w, "?period=bad"),
}

OWN_WORKSPACE = {
    "tracking_traffic:index": lambda w: [Probe("GET", f"/w/{w.globex.slug}/tracking/traffic/", status=200)],
}
