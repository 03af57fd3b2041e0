"""Behaviour filters against a plain Python evaluation of the same filters on generated events.

Events belong to a contact directly or through a visitor identified as the contact (who =
COALESCE(contact_id, the visitor's contact)); an event with a contact keeps it even when its
visitor was identified as someone else. Checked for has / has_not, counts, windows and data, on
the whole workspace (a rebuild) and restricted to a few contacts (the incremental refresh).
"""

import datetime
import random

import pytest
from django.utils import timezone

from tidings.contacts.actions import contact_create
from tidings.contacts.conditions import contacts_where
from tidings.events.actions import events_record
from tidings.events.models import Visitor
from tidings.events.registry import code_for
from tidings.segments import actions, selectors
from tidings.segments.selectors import condition_of
from tidings.tenancy import bulk
from tidings.tenancy.context import require_workspace
from tidings.tests.principals import system

URLS = ["https://acme.example/", "https://acme.example/pricing", "https://acme.example/pricing/team",
        "https://acme.example/blog/segments"]  # fmt: skip
FILTERS = [
    {"event": "page.hit"},
    {"event": "page.hit", "operator": "has_not"},
    {"event": "page.hit", "within_days": 10},
    {"event": "page.hit", "within_days": 10, "operator": "has_not"},
    {"event": "page.hit", "min_count": 3},
    {"event": "page.hit", "min_count": 2, "max_count": 3},
    {"event": "page.hit", "min_count": 2, "within_days": 20, "operator": "has_not"},
    {"event": "page.hit", "data": {"url__contains": "/pricing"}},
    {"event": "page.hit", "data": {"url__contains": "/pricing"}, "min_count": 2, "operator": "has_not"},
    {"event": "email.opened", "data": {"email_id": 2}},
    {"event": "email.opened", "data": {"email_id": 2}, "operator": "has_not", "within_days": 15},
]


@pytest.fixture
def world(in_acme):
    """Contacts, visitors (some identified) and events drawn from a fixed seed; return (contact ids, events)."""
    rng = random.Random(9)
    p = system()
    workspace = require_workspace()
    contacts = [contact_create({"email": f"oracle{n}@oracle.example"}, principal=p).pk for n in range(24)]
    visitors = {}  # visitor id -> identified contact or None
    for n in range(1, 13):
        visitors[n] = rng.choice(contacts) if n <= 9 else None
    now = timezone.now().replace(microsecond=0)
    bulk.insert(Visitor, ["workspace_id", "id", "contact_id", "created_at", "identified_at"],
                [(workspace.id, vid, cid, now, now if cid else None) for vid, cid in visitors.items()])  # fmt: skip
    hit, opened = code_for("page.hit"), code_for("email.opened")
    rows, events = [], []
    for _ in range(160):
        at = now - datetime.timedelta(days=rng.uniform(0, 40))
        contact = rng.choice([*contacts, None, None])
        visitor = rng.choice([*visitors, None]) if contact is None or rng.random() < 0.2 else None
        if contact is None and visitor is None:
            contact = rng.choice(contacts)
        if rng.random() < 0.7:
            kind, data = "page.hit", {"url": rng.choice(URLS)}
        else:
            kind, data = "email.opened", {"email_id": rng.randint(1, 3)}
        row = {"type": hit if kind == "page.hit" else opened, "at": at, "data": data}
        if contact is not None:
            row["contact_id"] = contact
        if visitor is not None:
            row["visitor_id"] = visitor
        rows.append(row)
        who = contact if contact is not None else visitors.get(visitor)
        events.append((kind, at, data, who))
    events_record(rows, principal=p)
    return contacts, events, now


def expected(spec: dict, contacts: list[int], events: list, now) -> set[int]:
    since = now - datetime.timedelta(days=spec["within_days"]) if spec.get("within_days") else None
    counts = dict.fromkeys(contacts, 0)
    for kind, at, data, who in events:
        if kind != spec["event"] or who is None or (since and at < since):
            continue
        wanted = spec.get("data", {})
        if "url__contains" in wanted and wanted["url__contains"] not in data["url"]:
            continue
        if "email_id" in wanted and data["email_id"] != wanted["email_id"]:
            continue
        counts[who] += 1
    low, high = spec.get("min_count", 1), spec.get("max_count")
    has = {c for c, n in counts.items() if n >= low and (high is None or n <= high)}
    return set(contacts) - has if spec.get("operator") == "has_not" else has


def definition(spec: dict) -> dict:
    node = {"kind": "event", "operator": "has", "min_count": 1, "max_count": None, "within_days": None, **spec}
    return {"match": "all", "filters": [node]}


@pytest.mark.parametrize("spec", FILTERS, ids=lambda spec: str(sorted(spec.items())))
def test_event_filters_match_the_python_evaluation_whole_and_restricted(world, spec):
    contacts, events, now = world
    checked = selectors.definition_check(definition(spec))
    want = expected(spec, contacts, events, now)
    whole = set(contacts_where(condition_of(checked, now=now)).values_list("id", flat=True))
    assert whole == want
    some = contacts[::3]
    restricted = condition_of(checked, now=now, contact_ids=some)
    assert set(contacts_where(restricted).filter(id__in=some).values_list("id", flat=True)) == want & set(some)


def test_the_incremental_refresh_agrees_with_a_rebuild_after_new_events(world):
    contacts, events, now = world
    p = system()
    segments = [actions.segment_create(principal=p, name=f"Oracle {n}", definition=definition(spec))
                for n, spec in enumerate(FILTERS)]  # fmt: skip
    changed = contacts[:6]
    events_record([{"type": code_for("page.hit"), "contact_id": c, "at": timezone.now(), "data": {"url": URLS[1]}}
                   for c in changed for _ in range(3)], principal=p)  # fmt: skip
    actions.segment_refresh_contacts(changed, principal=p)
    for segment in segments:
        rebuilt = actions.segment_rebuild(segment.pk, principal=p)
        assert (rebuilt.added, rebuilt.removed) == (0, 0), segment.name
