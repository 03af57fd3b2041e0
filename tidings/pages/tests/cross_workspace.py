"""Routes of landing pages and the preference centre: bob (Globex) and mallory (Initech) get 404 on Acme's.

The editor is probed under Acme's slug and under the attacker's own slug with Acme's page id; both
APIs with the attacker's credentials naming Acme's page; the public path under the attacker's own
workspace base with Acme's page slug and Acme's contact's preference token (the token is bound to
Acme: under another workspace it is forged).
"""

from tidings.tests.principals import system
from tidings.tests.world import Probe

MARKER = "Acme secret landing page"
SLUG = "acme-secret-page"

GLOBAL_ROUTES = {
    "api:v1:list_pages": "no URL names a workspace: the credential's own pages are listed",
    "api:v1:create_page": "creates in the credential's own workspace",
}


def setup(world):
    from tidings.contacts import actions as contacts
    from tidings.pages import actions
    from tidings.pages.selectors import preference_token
    from tidings.tenancy.context import use_workspace

    with use_workspace(world.acme):
        page = actions.page_create(principal=system(), title=MARKER, slug=SLUG, is_published=True,
                                   content="<p>Acme secret words</p>")  # fmt: skip
        contact = contacts.contact_create({"email": "prefs@analytical.example"}, principal=system())
        token = preference_token(contact.id)
    world.objects.update(acme_page=page.pk, acme_preference_token=token)
    world.markers.update({MARKER, SLUG, "Acme secret words"})


def _acme(world, tail: str, method: str = "GET", data=None) -> list[Probe]:
    return [Probe(method, f"/w/{world.acme.slug}/{tail}", data=data)]


def _page(world, tail: str = "", method: str = "GET", data=None) -> list[Probe]:
    path = f"pages/{world.objects['acme_page']}/{tail}"
    return [Probe(method, f"/w/{slug}/{path}", data=data) for slug in (world.acme.slug, world.globex.slug)]


def _native(method: str, data=None):
    def probes(world):
        path = f"/api/v1/pages/{world.objects['acme_page']}"
        return [Probe(method, path, actor=actor, data=data) for actor in ("bob_token", "bob_basic")]

    return probes


def _mautic(method: str, tail: str, data=None, *, bare: bool = True):
    def probes(world):
        end = tail.format(id=world.objects["acme_page"])
        bases = [f"/m/{world.acme.slug}/api/"] + (["/api/", f"/m/{world.globex.slug}/api/"] if bare else [])
        return [Probe(method, base + end, actor=actor, data=data) for base in bases
                for actor in ("bob_token", "bob_basic")]  # fmt: skip

    return probes


def _public(world, method: str = "GET", data=None) -> list[Probe]:
    own = world.globex.slug
    token = world.objects["acme_preference_token"]
    return [Probe(method, f"/m/{own}/preferences/{token}", data=data)]


CASES = {
    "pages:list": lambda w: _acme(w, "pages/"),
    "pages:create": lambda w: _acme(w, "pages/new/") + _acme(w, "pages/new/", "POST", {"title": "x"}),
    "pages:edit": lambda w: _page(w) + _page(w, "", "POST", {"title": "x", "content": "x"}),
    "pages:delete": lambda w: _page(w, "delete/", "POST", {"confirmed": "1"}),
    "api:v1:get_page": _native("GET"),
    "api:v1:update_page": _native("PATCH", {"title": "Eve"}),
    "api:v1:delete_page": _native("DELETE"),
    "mautic_compat:pages_list": _mautic("GET", "pages", bare=False),
    "mautic_compat:pages_new": _mautic("POST", "pages/new", {"title": "X"}, bare=False),
    "mautic_compat:pages_batch_new": _mautic("POST", "pages/batch/new", {}, bare=False),
    "mautic_compat:pages_batch_edit": _mautic("PATCH", "pages/batch/edit", {}, bare=False),
    "mautic_compat:pages_batch_delete": _mautic("DELETE", "pages/batch/delete?ids={id}", bare=False),
    "mautic_compat:pages_get": _mautic("GET", "pages/{id}"),
    "mautic_compat:pages_edit": _mautic("PATCH", "pages/{id}/edit", {"title": "Eve"}),
    "mautic_compat:pages_delete": _mautic("DELETE", "pages/{id}/delete"),
    "public_pages:landing_page": lambda w: [Probe("GET", f"/m/{w.globex.slug}/p/{SLUG}")],
    "public_pages:preferences": lambda w: (
        _public(w)
        + _public(w, "POST", {"action": "erasure"})
        + _public(w, "POST", {"action": "save", "unsubscribe_all": "1"})
    ),
}

OWN_WORKSPACE = {
    "api:v1:list_pages": lambda w: [Probe("GET", "/api/v1/pages", actor="bob_token", status=200)],
    "mautic_compat:pages_batch_delete": lambda w: [
        Probe("DELETE", f"/api/pages/batch/delete?ids[]={w.objects['acme_page']}", actor="bob_token")
    ],
}
