"""Routes of the campaign pages: bob (Globex) and mallory (Initech) get 404 on Acme's campaigns.

Each page is probed under Acme's slug (he is no member: 404) and under the attacker's own slug with
Acme's campaign id (the probe that catches a read with no workspace filter). cross_workspace.py gathers
these with the API's.
"""

from tidings.tests.principals import system
from tidings.tests.world import Probe

MARKER = "Acme secret campaign of the builder"
TAG = "acme-secret-campaign-tag"

GLOBAL_ROUTES: dict[str, str] = {}


def setup(world):
    from tidings.campaigns.actions import campaign_contacts_add, campaign_create, campaign_publish
    from tidings.contacts.actions import contact_create
    from tidings.tenancy.context import use_workspace

    with use_workspace(world.acme):
        contact = contact_create({"email": "builder.walker@acme.example"}, principal=system())
        graph = {"sources": [{"kind": "manual"}], "start": 1,
                 "steps": [{"id": 1, "kind": "delay", "mode": "interval", "seconds": 3600, "next": 2},
                           {"id": 2, "kind": "add_tags", "tags": [TAG]}],
                 "goals": [{"kind": "has_tag", "tag": TAG}]}  # fmt: skip
        campaign = campaign_create(principal=system(), name=MARKER, graph=graph)
        campaign_publish(campaign.pk, principal=system())
        campaign_contacts_add(campaign.pk, [contact.id], principal=system())
    world.objects.update(acme_ui_campaign=campaign.pk, acme_ui_campaign_contact=contact.id)
    world.markers.update({MARKER, TAG})


def _acme(world, tail: str, method: str = "GET", data=None) -> list[Probe]:
    return [Probe(method, f"/w/{world.acme.slug}/{tail}", data=data)]


def _campaign(tail: str = "", method: str = "GET", data=None):
    def probes(world) -> list[Probe]:
        path = f"campaigns/{world.objects['acme_ui_campaign']}/{tail}".format(
            contact=world.objects["acme_ui_campaign_contact"]
        )
        return [Probe(method, f"/w/{slug}/{path}", data=data) for slug in (world.acme.slug, world.globex.slug)]

    return probes


CASES = {
    "campaigns:list": lambda w: _acme(w, "campaigns/"),
    "campaigns:create": lambda w: _acme(w, "campaigns/new/") + _acme(w, "campaigns/new/", "POST", {"name": "x"}),
    "campaigns:detail": _campaign(),
    "campaigns:rename": _campaign("rename/", "POST", {"name": "Eve"}),
    "campaigns:source_add": _campaign("sources/", "POST", {"kind": "manual"}),
    "campaigns:source_remove": _campaign("sources/0/remove/", "POST", {}),
    "campaigns:entry": _campaign("entry/", "POST", {"mode": "once"}),
    "campaigns:goal_add": _campaign("goals/", "POST", {"kind": "has_tag", "tag": TAG}),
    "campaigns:goal_remove": _campaign("goals/0/remove/", "POST", {}),
    "campaigns:step_add": lambda w: (
        _campaign("steps/new/?after=1&edge=next&kind=exit")(w)
        + _campaign("steps/new/", "POST", {"after": "1", "edge": "next", "kind": "exit"})(w)
    ),
    "campaigns:step_edit": lambda w: _campaign("steps/1/")(w) + _campaign("steps/2/", "POST", {"tags": "eve"})(w),
    "campaigns:step_remove": _campaign("steps/1/remove/", "POST", {"confirmed": "1"}),
    "campaigns:publish": lambda w: _campaign("publish/")(w) + _campaign("publish/", "POST", {"move_1": "2"})(w),
    "campaigns:unpublish": _campaign("unpublish/", "POST", {"confirmed": "1"}),
    "campaigns:delete": _campaign("delete/", "POST", {"confirmed": "1"}),
    "campaigns:journey": _campaign("contacts/{contact}/"),
}

# In his own workspace the list and the contact page's panel show his own data and nothing of Acme.
OWN_WORKSPACE = {
    "campaigns:list": lambda w: [Probe("GET", f"/w/{w.globex.slug}/campaigns/", status=200)],
}
