"""Routes of email authoring: bob (Globex) and mallory (Initech) get 404 on Acme's emails.

The editor, builder and their forms are probed under Acme's slug and under the attacker's own slug with
Acme's email id; both APIs with the attacker's credentials naming Acme's email.
"""

from tidings.tests.principals import system
from tidings.tests.world import Probe

MARKER = "Acme secret email"
SUBJECT = "Acme secret subject line"

GLOBAL_ROUTES = {
    "api:v1:list_emails": "no URL names a workspace: the credential's own emails are listed",
    "api:v1:create_email": "creates in the credential's own workspace",
}


def setup(world):
    from tidings.emails.actions import authoring
    from tidings.tenancy.context import use_workspace

    with use_workspace(world.acme):
        email = authoring.email_create(principal=system(), name=MARKER, subject=SUBJECT,
                                       html="<p>Acme secret body</p>")  # fmt: skip
    world.objects.update(acme_email=email.pk)
    world.markers.update({MARKER, SUBJECT, "Acme secret body"})


def _acme(world, tail: str, method: str = "GET", data=None) -> list[Probe]:
    return [Probe(method, f"/w/{world.acme.slug}/{tail}", data=data)]


def _email(world, tail: str = "", method: str = "GET", data=None) -> list[Probe]:
    path = f"emails/{world.objects['acme_email']}/{tail}"
    return [Probe(method, f"/w/{slug}/{path}", data=data) for slug in (world.acme.slug, world.globex.slug)]


def _native(method: str, tail: str = "", data=None):
    def probes(world):
        path = f"/api/v1/emails/{world.objects['acme_email']}{tail}"
        return [Probe(method, path, actor=actor, data=data) for actor in ("bob_token", "bob_basic")]

    return probes


def _mautic(method: str, tail: str, data=None, *, bare: bool = True):
    def probes(world):
        end = tail.format(id=world.objects["acme_email"])
        bases = [f"/m/{world.acme.slug}/api/"] + (["/api/", f"/m/{world.globex.slug}/api/"] if bare else [])
        return [Probe(method, base + end, actor=actor, data=data) for base in bases
                for actor in ("bob_token", "bob_basic")]  # fmt: skip

    return probes


CASES = {
    "emails:list": lambda w: _acme(w, "emails/"),
    "emails:create": lambda w: _acme(w, "emails/new/") + _acme(w, "emails/new/", "POST", {"subject": "x"}),
    "emails:edit": lambda w: _email(w) + _email(w, "?contact=1") + _email(w, "", "POST", {"subject": "x"}),
    "emails:builder": lambda w: _email(w, "builder/") + _email(w, "builder/", "POST", {"source": "<mjml></mjml>"}),
    "emails:clone": lambda w: _email(w, "clone/", "POST", {}),
    "emails:delete": lambda w: _email(w, "delete/", "POST", {"confirmed": "1"}),
    "emails:variant_create": lambda w: _email(
        w, "variants/", "POST", {"variant_weight": "50", "ab_criterion": "open_rate", "ab_test_hours": "4"}
    ),  # fmt: skip
    "api:v1:get_email": _native("GET"),
    "api:v1:update_email": _native("PATCH", "", {"subject": "Eve"}),
    "api:v1:delete_email": _native("DELETE"),
    "api:v1:create_variant": _native("POST", "/variants", {"subject": "Eve"}),
    "api:v1:clone_email": _native("POST", "/clone", {}),
    "mautic_compat:emails_list": _mautic("GET", "emails", bare=False),
    "mautic_compat:emails_new": _mautic("POST", "emails/new", {"subject": "X"}, bare=False),
    "mautic_compat:emails_batch_new": _mautic("POST", "emails/batch/new", {}, bare=False),
    "mautic_compat:emails_batch_edit": _mautic("PATCH", "emails/batch/edit", {}, bare=False),
    "mautic_compat:emails_batch_delete": _mautic("DELETE", "emails/batch/delete?ids={id}", bare=False),
    "mautic_compat:emails_get": _mautic("GET", "emails/{id}"),
    "mautic_compat:emails_edit": _mautic("PATCH", "emails/{id}/edit", {"subject": "Eve"}),
    "mautic_compat:emails_delete": _mautic("DELETE", "emails/{id}/delete"),
}

OWN_WORKSPACE = {
    "api:v1:list_emails": lambda w: [Probe("GET", "/api/v1/emails", actor="bob_token", status=200)],
    "mautic_compat:emails_batch_delete": lambda w: [
        Probe("DELETE", f"/api/emails/batch/delete?ids[]={w.objects['acme_email']}", actor="bob_token")
    ],
}
