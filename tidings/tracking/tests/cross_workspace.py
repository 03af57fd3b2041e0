"""Routes of tracking's settings pages and native API: bob (Globex) and mallory (Initech) get 404 on Acme's sites.

Each site route is probed under Acme's slug (the attacker is not a member) and under the attacker's
own slug with Acme's site id; each API route with the attacker's token and password, naming Acme's
site or contact.
"""

from tidings.tests.principals import system
from tidings.tests.world import Probe
from tidings.tracking.tests import cross_workspace_traffic as traffic

MARKER = "Acme secret site"
DOMAIN = "acme-secret-shop.example"

GLOBAL_ROUTES = {
    "api:v1:list_sites": "no URL names a workspace: the credential's own sites are listed",
    "api:v1:create_site": "creates in the credential's own workspace",
    "tracking_scripts:tracker": "t.js, the same public file for everyone; no workspace data",
    "tracking_scripts:mautic_tracker": "mtc.js, the same public file for every slug (not looked up); no workspace data",
}


def setup(world):
    from tidings.contacts import actions as contacts
    from tidings.events import store
    from tidings.events.actions import visitor_create, visitor_identify
    from tidings.tenancy.context import use_workspace
    from tidings.tracking import actions
    from tidings.tracking.event_types import PAGE_HIT

    with use_workspace(world.acme):
        site = actions.site_create(name=MARKER, domains=[DOMAIN], principal=system())
        contact = contacts.contact_create({"email": "tracked@acme-visitor.example"}, principal=system())
        visitor = visitor_create(principal=system())
        visitor_identify(visitor.pk, contact.id, principal=system())
        store.write([{"type": PAGE_HIT, "visitor_id": visitor.pk,
                      "data": {"site": site.pk, "url": f"https://{DOMAIN}/secret-page"}}])  # fmt: skip
    world.objects.update(acme_site=site.pk, acme_tracked_contact=contact.id)
    world.markers.update({MARKER, DOMAIN, site.public_key, "secret-page"})
    traffic.setup(world)


def _acme(world, tail: str, method: str = "GET", data=None) -> list[Probe]:
    return [Probe(method, f"/w/{world.acme.slug}/settings/sites/{tail}", data=data)]


def _site(world, tail: str = "", method: str = "GET", data=None) -> list[Probe]:
    path = f"settings/sites/{world.objects['acme_site']}/{tail}"
    return [Probe(method, f"/w/{world.acme.slug}/{path}", data=data),
            Probe(method, f"/w/{world.globex.slug}/{path}", data=data)]  # fmt: skip


def _api(method: str, tail, data=None):
    def probes(world):
        path = tail(world) if callable(tail) else tail
        return [Probe(method, f"/api/v1/{path}", actor=actor, data=data) for actor in ("bob_token", "bob_basic")]

    return probes


def _own(world, tail: str, method: str = "GET", data=None, status=None) -> list[Probe]:
    return [Probe(method, f"/w/{world.globex.slug}/settings/sites/{tail}", data=data, status=status)]


_FORM = {"name": "Mine", "domains": DOMAIN, "consent_mode": "consent", "ip_storage": "network"}

OWN_WORKSPACE = {
    "tracking:site_list": lambda w: _own(w, "", status=200),
    "tracking:site_create": lambda w: _own(w, "new/", "POST", _FORM),
    "api:v1:list_sites": lambda w: [Probe("GET", "/api/v1/sites", actor=a, status=200) for a in ("bob_token",)],
    "api:v1:create_site": lambda w: [
        Probe("POST", "/api/v1/sites", actor="bob_token", data={"name": "Mine", "domains": [DOMAIN]}, status=201)
    ],  # fmt: skip
}

CASES = {
    "tracking:site_list": lambda w: _acme(w, ""),
    "tracking:site_create": lambda w: _acme(w, "new/") + _acme(w, "new/", "POST", _FORM),
    "tracking:site_detail": lambda w: _site(w),
    "tracking:site_edit": lambda w: _site(w, "edit/") + _site(w, "edit/", "POST", _FORM),
    "tracking:site_rotate": lambda w: _site(w, "rotate/", "POST", {"confirmed": "1"}),
    "tracking:site_delete": lambda w: _site(w, "delete/", "POST", {"confirmed": "1"}),
    "api:v1:get_site": _api("GET", lambda w: f"sites/{w.objects['acme_site']}"),
    "api:v1:update_site": _api("PATCH", lambda w: f"sites/{w.objects['acme_site']}", {"name": "x"}),
    "api:v1:delete_site": _api("DELETE", lambda w: f"sites/{w.objects['acme_site']}"),
    "api:v1:rotate_site_key": _api("POST", lambda w: f"sites/{w.objects['acme_site']}/rotate_key"),
    "api:v1:list_events": lambda w: (
        _api("GET", f"events?site={w.objects['acme_site']}")(w)
        + _api("GET", f"events?contact={w.objects['acme_tracked_contact']}")(w)
        + _api("GET", f"events?site={w.objects['acme_site']}&type=page.hit")(w)
    ),
}

OWN_WORKSPACE |= traffic.OWN_WORKSPACE
CASES |= traffic.CASES
