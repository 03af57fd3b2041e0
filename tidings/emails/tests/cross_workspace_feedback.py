"""Emails' feedback routes: another workspace's member, a token of Acme on the attacker's public path, and Acme's
ids in the attacker's URLs all get 404 (the open pixel answers its one pixel to anyone, and records nothing)."""

from tidings.tests.world import Probe

MARKER = "Acme secret newsletter"

GLOBAL_ROUTES = {
    "emails_public:open": "the pixel is the same answer for any token; tested to record nothing across workspaces",
    "api:v1:report_bounce": "a DSN records in the credential's own workspace only (OWN_WORKSPACE probe below)",
    "api:v1:report_reply": "a reply records in the credential's own workspace only (OWN_WORKSPACE probe below; "
    "test_replies sends Acme's Message-ID with another workspace's token)",
}


def setup(world):
    from django.utils import timezone

    from tidings.contacts.actions import contact_create
    from tidings.emails.headers import message_id
    from tidings.emails.links import message_token
    from tidings.emails.models import Delivery, Email, EmailLink, EmailVersion, Send, Suppression
    from tidings.emails.selectors import suppression_index
    from tidings.tenancy.context import use_workspace
    from tidings.tests.principals import system

    acme = world.acme
    with use_workspace(acme):
        contact = contact_create({"email": "ada.cross@analytical.example"}, principal=system())
        email = Email.objects.create(workspace_id=acme.id, name=MARKER)
        EmailVersion.objects.create(workspace_id=acme.id, email_id=email.pk, number=1, html="<p>x</p>")
        link = EmailLink.objects.create(workspace_id=acme.id, email_id=email.pk, version=1,
                                        url="https://acme.example/secret-offer")  # fmt: skip
        send = Send.objects.create(workspace_id=acme.id, email_id=email.pk, version=1)
        Delivery.objects.create(workspace_id=acme.id, send_id=send.pk, email_id=email.pk, contact_id=contact.id,
                                status="sent", sent_at=timezone.now(),
                                message_id=f"<{send.pk}.{contact.id}.cafe0123@acme.example>")  # fmt: skip
        gone = suppression_index("gone@acme.example")
        suppression = Suppression.objects.create(workspace_id=acme.id, email_index=gone, reason="hard_bounce",
                                                 contact_id=contact.id)  # fmt: skip
    world.objects.update(emails_email=email.pk, emails_link=link.pk, emails_suppression=suppression.pk,
                         emails_token=message_token(acme.id, send.pk, contact.id),
                         emails_message_id=f"<{send.pk}.{contact.id}.cafe0123@acme.example>",
                         emails_reply_hash=message_id(send.pk, contact.id, "acme.example",
                                                      workspace_id=acme.id).strip("<>").split("@")[0])  # fmt: skip
    world.markers.update({MARKER, "acme.example/secret-offer"})


def _token(world) -> str:
    return world.objects["emails_token"]


def _public(tail, method="GET", data=None):
    """Acme's token under the attacker's own public path."""
    return lambda w: [Probe(method, f"/m/{w.globex.slug}/e/{tail(w)}", data=data)]


def _ui(tail, method="GET", data=None):
    def probes(w):
        path = tail(w)
        return [Probe(method, f"/w/{w.acme.slug}/emails/{path}", data=data),
                Probe(method, f"/w/{w.globex.slug}/emails/{path}", data=data)]  # fmt: skip

    return probes


def _dsn(world) -> str:
    from tidings.emails.tests.dsn_samples import dsn

    return dsn("ada.cross@analytical.example", message_id=world.objects["emails_message_id"]).decode()


CASES = {
    "emails_public:click": _public(lambda w: f"c/{_token(w)}/{w.objects['emails_link']}"),
    "emails_public:webview": _public(lambda w: f"v/{_token(w)}"),
    "emails_public:unsubscribe": lambda w: _public(lambda w: f"u/{_token(w)}")(w)
    + _public(lambda w: f"u/{_token(w)}", "POST", {"List-Unsubscribe": "One-Click"})(w),
    "emails_public:esp_tracking": lambda w: [Probe("POST", f"/m/{w.globex.slug}/e/hooks/postmark/",
                                                   data={"RecordType": "Bounce", "Type": "HardBounce",
                                                         "Email": "ada.cross@analytical.example"})],
    "emails_feedback:stats": _ui(lambda w: f"{w.objects['emails_email']}/stats/"),
    "emails_feedback:suppressions": lambda w: [
        Probe("GET", f"/w/{w.acme.slug}/emails/suppressions/"),
        Probe("POST", f"/w/{w.acme.slug}/emails/suppressions/", data={"address": "x@acme.example"})],
    "emails_feedback:suppression_remove": _ui(lambda w: f"suppressions/{w.objects['emails_suppression']}/remove/",
                                              "POST", {"confirmed": "1"}),
    "api:v1:email_stats": lambda w: [Probe("GET", f"/api/v1/emails/{w.objects['emails_email']}/stats", actor=a)
                                     for a in ("bob_token", "bob_basic")],
    # Acme's real tracking hash (its HMAC is Acme's): the attacker's credentials, on each base, find nothing.
    "mautic_compat:emails_reply": lambda w: [
        Probe("POST", f"{base}emails/reply/{w.objects['emails_reply_hash']}", actor=actor, data={})
        for base, actor in ((f"/m/{w.acme.slug}/api/", "bob_token"), (f"/m/{w.acme.slug}/api/", "bob_basic"),
                            ("/api/", "bob_token"), (f"/m/{w.globex.slug}/api/", "bob_token"))],
}  # fmt: skip

OWN_WORKSPACE = {
    "emails_public:open": lambda w: [Probe("GET", f"/m/{w.globex.slug}/e/o/{_token(w)}.gif", status=200)],
    "emails_feedback:suppressions": lambda w: [Probe("GET", f"/w/{w.globex.slug}/emails/suppressions/", status=200)],
    "api:v1:report_bounce": lambda w: [Probe("POST", "/api/v1/emails/bounces", actor="bob_token",
                                             data={"raw": _dsn(w)})],
    "api:v1:report_reply": lambda w: [Probe("POST", "/api/v1/emails/replies", actor="bob_token",
                                            data={"raw": f"In-Reply-To: {w.objects['emails_message_id']}"})],
}  # fmt: skip
