"""Routes of the segment pages: probes proving bob (Globex) gets 404 on Acme's segments and their members.

Each segment route is probed twice: under Acme's slug (bob is not a member) and under Globex's slug
with Acme's segment id (bob owns Globex and holds every permission there, but the id is not Globex's).
"""

import json

from tidings.tests.principals import system
from tidings.tests.world import Probe

MARKER = "Acme secret segment"


def setup(world):
    from tidings.contacts import actions as contacts
    from tidings.segments import actions
    from tidings.tenancy.context import use_workspace

    with use_workspace(world.acme):
        member = contacts.contact_create(
            {"email": "seg@analytical.example", "city": "Segmentville"}, principal=system()
        )
        segment = actions.segment_create(
            principal=system(),
            name=MARKER,
            alias="acme-secret-segment",
            definition={"match": "all", "filters": [
                {"kind": "field", "field": "city", "operator": "equals", "value": "Segmentville"}]},
        )  # fmt: skip
    world.objects.update(acme_segment=segment.pk, acme_segment_member=member.id)
    world.markers.update({MARKER, "acme-secret-segment"})


def _acme(world, tail: str, method: str = "GET") -> list[Probe]:
    return [Probe(method, f"/w/{world.acme.slug}/{tail}")]


def _segment(world, tail: str = "", method: str = "GET", data=None) -> list[Probe]:
    path = f"segments/{world.objects['acme_segment']}/{tail}"
    return [Probe(method, f"/w/{world.acme.slug}/{path}", data=data), Probe(method, f"/w/{world.globex.slug}/{path}",
                                                                           data=data)]  # fmt: skip


def _own(world, tail: str, method: str = "GET", data=None, status=None) -> list[Probe]:
    return [Probe(method, f"/w/{world.globex.slug}/{tail}", data=data, status=status)]


def _ids(world) -> dict:
    return {"ids": [world.objects["acme_segment_member"]]}


def _naming_acme(world) -> str:
    """A definition naming Acme's segment: refused as unknown in the attacker's workspace, never counted."""
    return json.dumps({"match": "all", "filters": [
        {"kind": "segment", "operator": "in", "value": [world.objects["acme_segment"]]}]})  # fmt: skip


OWN_WORKSPACE = {
    "segments:list": lambda w: _own(w, "segments/", status=200) + _own(w, "segments/?q=Acme+secret", status=200),
    "segments:preview": lambda w: _own(w, "segments/preview/", "POST", {"definition": _naming_acme(w)}, status=200),
    "segments:create": lambda w: _own(
        w, "segments/new/", "POST", {"name": "Mine", "definition": _naming_acme(w)}, status=400
    ),
    "segments:members_add_chosen": lambda w: _own(
        w,
        "segments/members/add/",
        "POST",
        {"segment": w.objects["acme_segment"], "ids": [w.own["contact"]]},
        status=404,
    ),
}

CASES = {
    "segments:list": lambda w: _acme(w, "segments/"),
    "segments:create": lambda w: _acme(w, "segments/new/") + _acme(w, "segments/new/", "POST"),
    "segments:preview": lambda w: _acme(w, "segments/preview/", "POST"),
    "segments:members_add_chosen": lambda w: _acme(w, "segments/members/add/", "POST"),
    "segments:detail": lambda w: _segment(w) + _segment(w, "?show=removed") + _segment(w, "?find=seg"),
    "segments:edit": lambda w: _segment(w, "edit/") + _segment(w, "edit/", "POST", {"name": "x"}),
    "segments:delete": lambda w: _segment(w, "delete/", "POST", {"confirmed": "1"}),
    "segments:rebuild": lambda w: _segment(w, "rebuild/", "POST"),
    "segments:members_add": lambda w: _segment(w, "members/add/", "POST", _ids(w)),
    "segments:members_remove": lambda w: _segment(w, "members/remove/", "POST", _ids(w)),
    "segments:members_reset": lambda w: _segment(w, "members/reset/", "POST", _ids(w)),
}
