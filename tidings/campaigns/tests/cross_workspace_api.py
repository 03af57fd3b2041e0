"""Campaigns' routes: bob (Globex) and mallory (Initech) get 404 on Acme's campaigns and contacts everywhere.

Each route is probed with their API credentials and Acme's ids; a graph naming Acme's segment or email is
refused in their own workspace (422, nothing shown), and Acme's contact ids added to their own campaign
are not found and change nothing.
"""

from tidings.tests.principals import system
from tidings.tests.world import Probe

MARKER = "Acme secret campaign"

GLOBAL_ROUTES = {
    "api:v1:list_campaigns": "no URL names a workspace: the credential's own campaigns are listed",
    "api:v1:create_campaign": "creates in the credential's own workspace",
}


def setup(world):
    from tidings.campaigns.actions import campaign_contacts_add, campaign_create, campaign_publish, campaigns_run
    from tidings.contacts.actions import contact_create
    from tidings.segments.actions import segment_create
    from tidings.tenancy.context import use_workspace

    with use_workspace(world.acme):
        contact = contact_create({"email": "walker@analytical.example"}, principal=system())
        segment = segment_create(name="Acme campaign probe segment", principal=system())
        graph = {"sources": [{"kind": "manual"}, {"kind": "segment", "segment_id": segment.pk}], "start": 1,
                 "steps": [{"id": 1, "kind": "delay", "mode": "interval", "seconds": 3600}]}  # fmt: skip
        campaign = campaign_create(name=MARKER, graph=graph, principal=system())
        campaign_publish(campaign.pk, principal=system())
        campaign_contacts_add(campaign.pk, [contact.id], principal=system())
        campaigns_run(principal=system())
    world.objects.update(acme_campaign=campaign.pk, acme_campaign_contact=contact.id,
                         acme_campaign_segment=segment.pk)  # fmt: skip
    world.markers.add(MARKER)


def _campaign(w):
    return w.objects["acme_campaign"]


def _native(method, tail, data=None, status=None):
    def probes(w):
        body = data(w) if callable(data) else data
        return [Probe(method, f"/api/v1/{tail(w)}", actor=actor, data=body, status=status)
                for actor in ("bob_token", "bob_basic")]  # fmt: skip

    return probes


def _naming_acme_segment(w):
    source = {"kind": "segment", "segment_id": w.objects["acme_campaign_segment"]}
    return {"name": "Probe", "graph": {"sources": [source],
                                       "start": 1, "steps": [{"id": 1, "kind": "exit"}]}}  # fmt: skip


CASES = {
    "api:v1:get_campaign": _native("GET", lambda w: f"campaigns/{_campaign(w)}"),
    "api:v1:update_campaign": _native("PATCH", lambda w: f"campaigns/{_campaign(w)}", {"name": "Taken over"}),
    "api:v1:delete_campaign": _native("DELETE", lambda w: f"campaigns/{_campaign(w)}"),
    "api:v1:publish_campaign": _native("POST", lambda w: f"campaigns/{_campaign(w)}/publish", {}),
    "api:v1:unpublish_campaign": _native("POST", lambda w: f"campaigns/{_campaign(w)}/unpublish", {}),
    "api:v1:campaign_step_counts": _native("GET", lambda w: f"campaigns/{_campaign(w)}/steps"),
    "api:v1:list_campaign_contacts": _native("GET", lambda w: f"campaigns/{_campaign(w)}/contacts"),
    "api:v1:add_campaign_contacts": _native(
        "POST",
        lambda w: f"campaigns/{_campaign(w)}/contacts/add",
        lambda w: {"ids": [w.objects["acme_campaign_contact"]]},
    ),  # fmt: skip
    "api:v1:remove_campaign_contacts": _native(
        "POST",
        lambda w: f"campaigns/{_campaign(w)}/contacts/remove",
        lambda w: {"ids": [w.objects["acme_campaign_contact"]]},
    ),  # fmt: skip
    "api:v1:contact_journey": _native(
        "GET", lambda w: f"campaigns/{_campaign(w)}/contacts/{w.objects['acme_campaign_contact']}"
    ),
}

OWN_WORKSPACE = {
    "api:v1:list_campaigns": lambda w: [Probe("GET", "/api/v1/campaigns", actor="bob_token", status=200)],
    "api:v1:create_campaign": _native("POST", lambda w: "campaigns", _naming_acme_segment, status=422),
}
