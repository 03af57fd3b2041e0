"""Routes of the privacy centre: an attacker (bob in another region, mallory in Acme's) gets 404 on Acme's pages,
its recipients and its transfer log; his own lists show nothing of Acme's.
"""

from tidings.tests.principals import system
from tidings.tests.world import Probe

RECIPIENT_MARKER = "Acme secret recipient"
USE_MARKER = "acme-secret-flow"

GLOBAL_ROUTES = {
    "api:v1:list_retention_rules": "no URL names a workspace: the credential's own rules are listed",
    "api:v1:set_retention_rule": "no URL names a workspace: sets the credential's own rule",
    "api:v1:records_of_processing": "no URL names a workspace: the credential's own records",
    "api:v1:list_recipients": "no URL names a workspace: the credential's own register",
    "api:v1:create_recipient": "no URL names a workspace: adds to the credential's own register",
    "api:v1:list_transfers": "no URL names a workspace: the credential's own log",
}


def setup(world):
    from tidings.consent.actions import consent_record
    from tidings.contacts import actions as contacts
    from tidings.privacy_centre import actions
    from tidings.tenancy.context import use_workspace

    with use_workspace(world.acme):
        contact = contacts.contact_create({"email": "transferred@analytical.example"}, principal=system())
        consent_record(purpose="marketing_email", given=True, contact_id=contact.id, method="api", principal=system())
        recipient = actions.recipient_create(principal=system(), name=RECIPIENT_MARKER, kind="integration",
                                             country="DE", purposes=["marketing_email"])  # fmt: skip
        actions.transfer_contacts(recipient.pk, [contact.id], purpose="marketing_email", categories=[],
                                  use=USE_MARKER, principal=system())  # fmt: skip
        actions.retention_rule_set("tracking_events", 77, principal=system())
    world.objects.update(pc_recipient=recipient.pk, pc_contact=contact.id)
    world.markers.update({RECIPIENT_MARKER, USE_MARKER})


def _acme(tail: str, method: str = "GET", data=None):
    return lambda w: [Probe(method, f"/w/{w.acme.slug}/privacy/{tail}", data=data)]


def _recipient(tail: str = "", method: str = "GET", data=None):
    def probes(w):
        path = f"privacy/recipients/{w.objects['pc_recipient']}/{tail}"
        return [Probe(method, f"/w/{slug}/{path}", data=data) for slug in (w.acme.slug, w.globex.slug)]

    return probes


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


_RECIPIENT_BODY = {"name": "Eve's", "kind": "webhook", "country": "FR"}

CASES = {
    "privacy_centre:retention": lambda w: [
        *_acme("retention/")(w),
        *_acme("retention/", "POST", {"tracking_events": "1"})(w),
    ],
    "privacy_centre:retention_run": _acme("retention/run/", "POST", {"confirmed": "1"}),
    "privacy_centre:records": _acme("records/"),
    "privacy_centre:records_json": _acme("records.json"),
    "privacy_centre:records_csv": _acme("records.csv"),
    "privacy_centre:recipients": _acme("recipients/"),
    "privacy_centre:recipient_create": _acme("recipients/new/", "POST", _RECIPIENT_BODY),
    "privacy_centre:recipient_edit": lambda w: _recipient()(w) + _recipient("", "POST", _RECIPIENT_BODY)(w),
    "privacy_centre:recipient_delete": _recipient("delete/", "POST", {"confirmed": "1"}),
    "api:v1:get_recipient": _api("GET", lambda w: f"privacy/recipients/{w.objects['pc_recipient']}"),
    "api:v1:update_recipient": _api(
        "PUT", lambda w: f"privacy/recipients/{w.objects['pc_recipient']}", _RECIPIENT_BODY
    ),  # fmt: skip
    "api:v1:delete_recipient": _api("DELETE", lambda w: f"privacy/recipients/{w.objects['pc_recipient']}"),
    "api:v1:create_transfer": _api(
        "POST",
        lambda w: "privacy/transfers",
        lambda w: {
            "recipient_id": w.objects["pc_recipient"],
            "contact_ids": [w.objects["pc_contact"]],
            "purpose": "marketing_email",
            "categories": [],
        },
    ),  # fmt: skip
}

OWN_WORKSPACE = {
    "privacy_centre:retention": lambda w: [Probe("GET", f"/w/{w.globex.slug}/privacy/retention/", status=200)],
    "privacy_centre:records": lambda w: [Probe("GET", f"/w/{w.globex.slug}/privacy/records/", status=200)],
    "privacy_centre:records_json": lambda w: [Probe("GET", f"/w/{w.globex.slug}/privacy/records.json", status=200)],
    "privacy_centre:recipients": lambda w: [Probe("GET", f"/w/{w.globex.slug}/privacy/recipients/", status=200)],
    "api:v1:list_retention_rules": _api("GET", lambda w: "privacy/retention", status=200),
    "api:v1:records_of_processing": _api("GET", lambda w: "privacy/records", status=200),
    "api:v1:list_recipients": _api("GET", lambda w: "privacy/recipients", status=200),
    "api:v1:list_transfers": lambda w: [
        *_api("GET", lambda x: "privacy/transfers", status=200)(w),
        *_api("GET", lambda x: f"privacy/transfers?recipient_id={x.objects['pc_recipient']}", status=200)(w),
    ],
    # Mallory sends Acme's contact to his own recipient: nothing of Acme's is allowed or changed.
    "api:v1:create_transfer": _api(
        "POST",
        lambda w: "privacy/transfers",
        lambda w: {
            "recipient_id": 1,
            "contact_ids": [w.objects["pc_contact"]],
            "purpose": "marketing_email",
            "categories": [],
        },
    ),  # fmt: skip
}
