"""Sending's routes: the native send API, Mautic's send endpoints, the send page and the sending settings.

bob (Globex) and mallory (Initech) get 404 on Acme's emails, sends and contacts everywhere: under Acme's
slug (not a member), under their own slug with Acme's ids, and with their API credentials.
"""

from tidings.tests.principals import system
from tidings.tests.world import Probe

MARKER = "Acme secret broadcast"

GLOBAL_ROUTES = {
    "api:v1:list_sends": "no URL names a workspace: the credential's own sends are listed",
}


def setup(world):
    from tidings.emails.actions.sending import send_start
    from tidings.emails.models import Email, EmailVersion
    from tidings.segments.actions import segment_create
    from tidings.tenancy.context import use_workspace

    with use_workspace(world.acme):
        segment = segment_create(name="Acme send probe readers", principal=system())
        email = Email.objects.create(name=MARKER, kind="list", segment_ids=[segment.pk], published=True,
                                     subject=MARKER, html=f"<p>{MARKER}</p>")  # fmt: skip
        EmailVersion.objects.create(email_id=email.pk, number=1, subject=MARKER, html=f"<p>{MARKER}</p>")
        template = Email.objects.create(name=MARKER + " template", kind="template", published=True, subject=MARKER)
        EmailVersion.objects.create(email_id=template.pk, number=1, subject=MARKER)
        send = send_start(email.pk, principal=system())
    world.objects.update(acme_send_email=email.pk, acme_send_template=template.pk, acme_send=send.pk)
    world.markers.add(MARKER)


def _email(w):
    return w.objects["acme_send_email"]


def _native(method, tail, data=None):
    def probes(w):
        return [Probe(method, f"/api/v1/{tail(w)}", actor=actor, data=data) for actor in ("bob_token", "bob_basic")]

    return probes


def _mautic(method, tail, data=None):
    def probes(w):
        acme, bare, own = f"/m/{w.acme.slug}/api/{tail(w)}", f"/api/{tail(w)}", f"/m/{w.globex.slug}/api/{tail(w)}"
        return [
            Probe(method, path, actor=actor, data=data)
            for path, actor in ((acme, "bob_token"), (acme, "bob_basic"), (bare, "bob_token"), (own, "bob_token"))
        ]

    return probes


def _ui(tail, method="GET", data=None):
    def probes(w):
        path = tail(w)
        return [Probe(method, f"/w/{w.acme.slug}/{path}", data=data),
                Probe(method, f"/w/{w.globex.slug}/{path}", data=data)]  # fmt: skip

    return probes


def _contact(w):
    return w.objects["acme_contact"]


CASES = {
    "api:v1:start_send": _native("POST", lambda w: f"emails/{_email(w)}/send", {}),
    "api:v1:send_to_contact": lambda w: _native(
        "POST", lambda w: f"emails/{w.objects['acme_send_template']}/contacts/{_contact(w)}/send", {}
    )(w),
    "api:v1:list_email_sends": _native("GET", lambda w: f"emails/{_email(w)}/sends"),
    "api:v1:get_send": _native("GET", lambda w: f"sends/{w.objects['acme_send']}"),
    "api:v1:pause_send": _native("POST", lambda w: f"sends/{w.objects['acme_send']}/pause", {}),
    "api:v1:resume_send": _native("POST", lambda w: f"sends/{w.objects['acme_send']}/resume", {}),
    "api:v1:cancel_send": _native("POST", lambda w: f"sends/{w.objects['acme_send']}/cancel", {}),
    "mautic_compat:emails_send": _mautic("POST", lambda w: f"emails/{_email(w)}/send", {}),
    "mautic_compat:emails_send_contact": _mautic(
        "POST", lambda w: f"emails/{w.objects['acme_send_template']}/contact/{_contact(w)}/send", {}
    ),
    "emails_send:send_page": _ui(lambda w: f"emails/{_email(w)}/send/"),
    "emails_send:send_start": _ui(lambda w: f"emails/{_email(w)}/send/start/", "POST", {}),
    "emails_send:send_control": _ui(lambda w: f"emails/sends/{w.objects['acme_send']}/pause/", "POST", {}),
}

OWN_WORKSPACE = {
    "api:v1:list_sends": lambda w: [Probe("GET", "/api/v1/sends", actor="bob_token", status=200)],
    "emails_send:sending_settings": lambda w: [Probe("GET", f"/w/{w.globex.slug}/settings/sending/", status=200)],
}
GLOBAL_ROUTES["emails_send:sending_settings"] = "the signed-in member's own workspace's settings (under its slug)"
