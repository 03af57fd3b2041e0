"""Routes of consent: probes proving an attacker (bob in another region, mallory in Acme's) gets 404 on Acme's ledger.

The settings pages are probed under Acme's slug (not his workspace) and, for a purpose, under his own slug
with Acme's purpose id; the API with his own credentials naming Acme's contact or visitor.
"""

from tidings.tests.principals import system
from tidings.tests.world import Probe

PURPOSE_MARKER = "Acme secret purpose"
NOTICE_MARKER = "Acme secret notice"

GLOBAL_ROUTES = {
    "api:v1:list_purposes": "no URL names a workspace: the credential's own purposes are listed",
    "api:v1:list_notices": "no URL names a workspace: the credential's own notices are listed",
}


def setup(world):
    from tidings.consent import actions
    from tidings.contacts import actions as contacts
    from tidings.events import actions as events
    from tidings.tenancy.context import use_workspace

    with use_workspace(world.acme):
        contact = contacts.contact_create({"email": "consenting@analytical.example"}, principal=system())
        visitor = events.visitor_create(principal=system())
        purpose = actions.purpose_create(principal=system(), key="acme_secret_purpose", name=PURPOSE_MARKER)
        actions.notice_publish(principal=system(), title=NOTICE_MARKER, url="https://acme.example/secret-notice")
        actions.consent_record(purpose="acme_secret_purpose", given=True, contact_id=contact.id, method="form",
                               source="acme-secret-form", principal=system())  # fmt: skip
        actions.consent_record(purpose="tracking", given=True, visitor_id=visitor.pk, method="tracker",
                               principal=system())  # fmt: skip
    world.objects.update(consent_contact=contact.id, consent_visitor=visitor.pk, consent_purpose=purpose.pk)
    world.markers.update({PURPOSE_MARKER, NOTICE_MARKER, "acme_secret_purpose", "acme-secret-form", "secret-notice"})


def _acme(world, tail: str, method: str = "GET", data=None) -> list[Probe]:
    return [Probe(method, f"/w/{world.acme.slug}/privacy/consent/{tail}", data=data)]


def _purpose(world, method: str = "GET", data=None) -> list[Probe]:
    tail = f"privacy/consent/purposes/{world.objects['consent_purpose']}/"
    return [Probe(method, f"/w/{slug}/{tail}", data=data) for slug in (world.acme.slug, world.globex.slug)]


def _api(method: str, path, data=None, status=None):
    def probes(world):
        return [
            Probe(
                method,
                f"/api/v1/{path(world)}",
                actor=actor,
                data=data(world) if callable(data) else data,
                status=status,
            )  # fmt: skip
            for actor in ("bob_token", "bob_basic")
        ]

    return probes


def _record(world, **subject) -> dict:
    return {"purpose": "tracking", "given": False, "method": "api", **subject}


CASES = {
    "consent:settings": lambda w: _acme(w, ""),
    "consent:purpose_create": lambda w: _acme(w, "purposes/new/", "POST", {"key": "x", "name": "x"}),
    "consent:notice_publish": lambda w: _acme(
        w, "notices/publish/", "POST", {"title": "x", "url": "https://x.example"}
    ),
    "consent:purpose_edit": lambda w: _purpose(w) + _purpose(w, "POST", {"name": "Eve's", "lawful_basis": "consent"}),
    "api:v1:list_consents": _api("GET", lambda w: f"consents?contact_id={w.objects['consent_contact']}"),
    "api:v1:consent_state": _api("GET", lambda w: f"consents/state?contact_id={w.objects['consent_contact']}"),
    "api:v1:record_consent": lambda w: [
        *_api("POST", lambda x: "consents", lambda x: _record(x, contact_id=x.objects["consent_contact"]))(w),
        *_api("POST", lambda x: "consents", lambda x: _record(x, visitor_id=x.objects["consent_visitor"]))(w),
    ],
}

OWN_WORKSPACE = {
    "consent:settings": lambda w: [Probe("GET", f"/w/{w.globex.slug}/privacy/consent/", status=200)],
    "consent:purpose_create": lambda w: [
        Probe(
            "POST",
            f"/w/{w.globex.slug}/privacy/consent/purposes/new/",
            data={"key": "acme_secret_purpose", "name": "Mine", "lawful_basis": "consent"},
        )
    ],
    "api:v1:list_purposes": _api("GET", lambda w: "purposes", status=200),
    "api:v1:list_notices": _api("GET", lambda w: "notices", status=200),
}
