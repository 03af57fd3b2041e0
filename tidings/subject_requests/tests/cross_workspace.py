"""Routes of data-subject requests: bob (Globex) gets 404 on Acme's requests, under either slug.

The public routes are probed under the attacker's own workspace base with Acme's request id and
confirmation code, and with an access-package token Acme issued (bound to Acme: forged elsewhere).
"""

from tidings.tests.principals import system
from tidings.tests.world import Probe

MARKER = "Acme secret correction wording"

GLOBAL_ROUTES = {
    "api:v1:list_requests": "no URL names a workspace: the credential's own requests are listed",
    "api:v1:create_request": "files in the credential's own workspace (Acme's contact id answers 404: OWN_WORKSPACE)",
    "subject_requests:public_request": "names no object: files a request in the URL's own workspace, and answers "
    "the same page whatever the address",
}


def setup(world):
    from tidings.contacts import actions as contacts
    from tidings.subject_requests import actions, links
    from tidings.tenancy.context import use_workspace

    with use_workspace(world.acme):
        contact = contacts.contact_create({"email": "dsr@analytical.example"}, principal=system())
        row = actions.request_receive("rectification", source="operator", contact_id=contact.id, details=MARKER,
                                      verified=True, principal=system())  # fmt: skip
        token = links.package_token(world.acme.pk, row.pk)
    world.objects.update(acme_request=row.pk, acme_package_token=token)
    world.markers.update({MARKER})


def _acme(world, tail: str, method: str = "GET", data=None) -> list[Probe]:
    return [Probe(method, f"/w/{world.acme.slug}/{tail}", data=data)]


def _one(world, tail: str = "", method: str = "GET", data=None) -> list[Probe]:
    path = f"privacy/requests/{world.objects['acme_request']}/{tail}"
    return [Probe(method, f"/w/{slug}/{path}", data=data) for slug in (world.acme.slug, world.globex.slug)]


def _native(method: str, tail: str = "", data=None):
    def probes(world):
        path = f"/api/v1/privacy/requests/{world.objects['acme_request']}{tail}"
        return [Probe(method, path, actor=actor, data=data) for actor in ("bob_token", "bob_basic")]

    return probes


CASES = {
    "api:v1:get_request": _native("GET"),
    "api:v1:act_on_request": _native("POST", "/steps", {"step": "approve"}),
    "subject_requests:queue": lambda w: _acme(w, "privacy/requests/"),
    "subject_requests:record": lambda w: _acme(
        w, "privacy/requests/record/", "POST", {"contact_id": "1", "kind": "access"}
    ),
    "subject_requests:detail": lambda w: _one(w),
    "subject_requests:act": lambda w: (
        _one(w, "act/", "POST", {"step": "approve"}) + _one(w, "act/", "POST", {"step": "deny", "reason": "no"})
    ),
    "subject_requests:package": lambda w: _one(w, "package.json"),
    "subject_requests:public_verify": lambda w: [
        Probe(method, f"/m/{w.globex.slug}/privacy/verify/{w.objects['acme_request']}/not-the-code")
        for method in ("GET", "POST")
    ],
    "subject_requests:public_package": lambda w: [
        Probe("GET", f"/m/{w.globex.slug}/privacy/package/{w.objects['acme_package_token']}")
    ],
}

# The public request form names no object: under the attacker's own base it files a request in the attacker's
# own workspace, and says nothing either way.
OWN_WORKSPACE = {
    "api:v1:create_request": lambda w: [
        Probe("POST", "/api/v1/privacy/requests", actor="bob_token", data={"kind": "access", "contact_id": 1})
    ],
    "subject_requests:public_request": lambda w: [
        Probe(
            "POST",
            f"/m/{w.globex.slug}/privacy/request",
            data={"email": "dsr@analytical.example", "kind": "access"},
            status=200,
        )
    ],
}
