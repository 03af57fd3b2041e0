"""Mautic's campaign API (CampaignApiController) on Tidings' campaigns actions and selectors.

Facts read from Mautic 5's source (not copied): the entity ``campaign``/``campaigns`` serialised with the
groups campaignDetails, campaignEventDetails, categoryList, publishDetails, leadListList and formList:
isPublished, dateAdded, dateModified, createdBy(User), modifiedBy(User), id, name, category, description,
allowRestart, publishUp, publishDown, events, forms, lists and canvasSettings. An event: id, name,
description, type ("email.send", "lead.changetags"...), eventType (action, decision, condition), order,
properties, triggerDate, triggerInterval, triggerIntervalUnit, triggerHour, triggerRestricted*,
triggerMode (immediate, interval, date), decisionPath (yes/no under a decision or condition), channel,
channelId, parent and children (one level deep). POST new and PUT need events and at least one of lists
or forms (else 400, Mautic's wording). ``POST /campaigns/{id}/contact/{cid}/add|remove`` answer
``{"success": 1}``; ``GET /campaigns/{id}/contacts`` answers the stats rows of campaign_leads (values as
strings, as Mautic's stats API reads them from the database) without the removed ones; ``GET
/contacts/{id}/campaigns`` answers ``campaigns`` keyed by id: id, name, dateAdded, manuallyRemoved,
manuallyAdded, listMembership (the campaign's source segments).

The translation, both ways, one event per Tidings step (the event's id is the step's id):

    email.send            send_email           lead.changetags     add_tags / remove_tags (one of the two)
    lead.changelist       add_to/remove_from_segment (one segment)  lead.changepoints  change_points (plus)
    lead.updatelead       update_fields        lead.adddnc         do_not_contact (one channel)
    campaign.addremovelead  exit (removeFrom this campaign)
    email.open / email.click / email.reply / form.submit / page.pagehit
                          decisions (opened, clicked, replied, submitted, visited)
    lead.field_value / lead.tags / lead.segments                  conditions (field, tag, segment)
    tidings.<kind>        any step Mautic has no event for (a delay, a consent condition, points times or
                          divided), its properties being the step's parameters: a GET sent back as a PUT
                          keeps the campaign as it was.

An event with triggerMode interval waits first: it becomes a delay step before it (a date is refused: a
tidings.delay event says it). A decision's
window is its "no" child's interval (Mautic fires the no path after it), else Mautic's default of an hour.
What Tidings' graph cannot walk is refused with 422 and Mautic's error envelope, and nothing is saved:
more than one event without a parent (Tidings starts a walk at one step), an action with more than one
child, two children on one path of a decision, an unknown event type, properties it cannot read. PATCH
and PUT with events replace the whole graph (the graph is checked as a whole; Mautic's PATCH merges
events into the existing ones); an edit that changes a published campaign's graph publishes it again
(contacts already in it keep their version), isPublished=0 unpublishes it. Contacts are added to a
published campaign only (Tidings enters a contact at the first step of the published version); adding
one to an unpublished campaign answers 422.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.urls import path

from tidings.accounts.decorators import require_permission
from tidings.accounts.selectors import members_by_id
from tidings.campaigns import actions, selectors
from tidings.campaigns import graph as graphs
from tidings.campaigns.models import CampaignStatus, EnrolmentStatus
from tidings.campaigns.selectors_ui import KIND_LABELS
from tidings.contacts.conditions import existing_contact_ids
from tidings.inputs import InvalidInput, parse_bool
from tidings.mautic_compat.decorators import mautic_api
from tidings.mautic_compat.parsing import MAX_LIMIT, ListParams, optional_text, strict_int
from tidings.mautic_compat.responses import MauticError, mautic_datetime, validation_error
from tidings.mautic_compat.standard import ENTITY_COLUMNS, Resource, allow, listed, standard_views
from tidings.tenancy.context import require_workspace

VIEW, EDIT = "campaigns:view", "campaigns:edit"
ORDER_COLUMNS = {"id": "id", "name": "name", "dateAdded": "created_at", "c.id": "id", "c.name": "name",
                 "c.dateAdded": "created_at", "date_added": "created_at"}  # fmt: skip
MAX_EVENTS = graphs.MAX_STEPS
DEFAULT_WINDOW = 3600  # Mautic's campaign_time_wait_on_event_false: the no path after an hour
CONTACTS_LIMIT = 100  # Mautic's default page of GET /campaigns/{id}/contacts
UNITS = {"i": 60, "h": 3600, "d": 86400, "m": 30 * 86400, "y": 365 * 86400}

# Tidings' step kind -> (Mautic type, eventType), for the kinds with a Mautic event of their own.
ACTION_TYPES = {"send_email": "email.send", "add_tags": "lead.changetags", "remove_tags": "lead.changetags",
                "add_to_segment": "lead.changelist", "remove_from_segment": "lead.changelist",
                "change_points": "lead.changepoints", "update_fields": "lead.updatelead",
                "do_not_contact": "lead.adddnc", "exit": "campaign.addremovelead"}  # fmt: skip
DECISION_TYPES = {"opened_email": "email.open", "clicked_email": "email.click", "replied_email": "email.reply",
                  "submitted_form": "form.submit", "visited_page": "page.pagehit"}  # fmt: skip
CONDITION_TYPES = {"field": "lead.field_value", "tag": "lead.tags", "segment": "lead.segments"}
FIELD_OPERATORS = {"equals": "=", "not_equals": "!=", "empty": "empty", "not_empty": "!empty", "gt": "gt",
                   "lt": "lt", "contains": "like"}  # fmt: skip
EVENT_TYPES = {"action", "decision", "condition"}
TIDINGS_PREFIX = "tidings."


def _unprocessable(path: str, message: str) -> MauticError:
    return MauticError(422, f"{path}: {message}.", {path: [message]})


# ==============================================================================================
# Tidings' graph -> Mautic's events


def _tidings_event(step: dict) -> tuple[str, str, dict]:
    params = {k: v for k, v in step.items() if k not in ("id", "kind", "next", "yes", "no", "name")}
    kind = step["kind"]
    event_type = "condition" if kind == "condition" else "decision" if kind == "decision" else "action"
    return f"{TIDINGS_PREFIX}{kind}", event_type, params


def _mautic_event(step: dict) -> tuple[str, str, dict]:
    """Return (type, eventType, properties) of a step as Mautic names it."""
    kind = step["kind"]
    if kind == "send_email":
        return "email.send", "action", {"email": step["email_id"], "email_type": "marketing"}
    if kind in ("add_tags", "remove_tags"):
        tags = list(step["tags"])
        added = tags if kind == "add_tags" else []
        return "lead.changetags", "action", {"add_tags": added, "remove_tags": [] if added else tags}
    if kind in ("add_to_segment", "remove_from_segment"):
        ids = [step["segment_id"]]
        adding = kind == "add_to_segment"
        return "lead.changelist", "action", {"addToLists": ids if adding else [],
                                             "removeFromLists": [] if adding else ids}  # fmt: skip
    if kind == "change_points" and step["operator"] in ("plus", "minus"):
        points = step["delta"] if step["operator"] == "plus" else -step["delta"]
        return "lead.changepoints", "action", {"points": points}
    if kind == "update_fields":
        return "lead.updatelead", "action", dict(step["values"])
    if kind == "do_not_contact":
        return "lead.adddnc", "action", {"channels": [step["channel"]], "reason": ""}
    if kind == "exit":
        return "campaign.addremovelead", "action", {"addTo": [], "removeFrom": ["this"]}
    if kind == "decision" and step["event"] in DECISION_TYPES:  # the others (downloads...) as tidings.decision
        properties: dict[str, Any] = {}
        if step["event"] == "submitted_form":
            properties = {"forms": [step["form_id"]] if step.get("form_id") else []}
        elif step["event"] == "visited_page":
            properties = {"page_url": step["url_contains"]}
        elif step.get("email_id"):
            properties = {"email": step["email_id"]}
        return DECISION_TYPES[step["event"]], "decision", properties
    if kind == "condition" and step["test"] in CONDITION_TYPES:
        if step["test"] == "field":
            properties = {"field": step["field"], "operator": FIELD_OPERATORS[step["operator"]],
                          "value": step.get("value")}  # fmt: skip
        elif step["test"] == "tag":
            properties = {"tags": [step["tag"]]}
        else:
            properties = {"segments": [step["segment_id"]]}
        return CONDITION_TYPES[step["test"]], "condition", properties
    return _tidings_event(step)


def _interval(seconds: int) -> tuple[int, str]:
    """Return seconds in the largest of Mautic's units that divides them (s when none does: a Tidings window)."""
    for unit in ("d", "h", "i"):
        if seconds % UNITS[unit] == 0:
            return seconds // UNITS[unit], unit
    return seconds, "s"


def serialize_events(graph: dict) -> tuple[list[dict], dict]:
    """Return Mautic's events and canvasSettings for a Tidings graph (one event per step)."""
    steps = {s["id"]: s for s in graph.get("steps", [])}
    parents: dict[int, tuple[int, str | None]] = {}
    children: dict[int, list[int]] = defaultdict(list)
    for step in steps.values():
        for edge in ("next", "yes", "no"):
            target = step.get(edge)
            if target is not None and target in steps and target not in parents:
                parents[target] = (step["id"], None if edge == "next" else edge)
                children[step["id"]].append(target)
    order: dict[int, int] = {}
    frontier = [s for s in steps if s not in parents]
    level = 1
    while frontier:
        for step_id in frontier:
            order.setdefault(step_id, level)
        frontier = [c for s in frontier for c in children[s] if c not in order]
        level += 1
    events = []
    for step_id, step in steps.items():
        mautic_type, event_type, properties = _mautic_event(step)
        parent = parents.get(step_id)
        window = None
        if parent and parent[1] == "no" and steps[parent[0]]["kind"] == "decision":
            window = steps[parent[0]]["window_seconds"]
        channel = "email" if step["kind"] == "send_email" else None
        events.append({
            "id": step_id,
            "name": step.get("name") or KIND_LABELS.get(step["kind"], step["kind"]),
            "description": None,
            "type": mautic_type,
            "eventType": event_type,
            "order": order.get(step_id, 1),
            "properties": properties,
            "triggerDate": None,
            "triggerInterval": _interval(window)[0] if window is not None else 0,
            "triggerIntervalUnit": _interval(window)[1] if window is not None else "d",
            "triggerHour": None,
            "triggerRestrictedStartHour": None,
            "triggerRestrictedStopHour": None,
            "triggerRestrictedDaysOfWeek": [],
            "triggerMode": "interval" if window is not None else "immediate",
            "decisionPath": parent[1] if parent else None,
            "channel": channel,
            "channelId": step.get("email_id") if channel else None,
            "parent": {"id": parent[0]} if parent else None,
            "children": [{"id": c} for c in children[step_id]],
        })  # fmt: skip
    source = "lists" if any(s["kind"] == "segment" for s in graph.get("sources", [])) else "forms"
    start = graph.get("start")
    canvas = {
        "nodes": [{"id": str(e["id"]), "positionX": "0", "positionY": str(100 * e["order"])} for e in events]
        + [{"id": source, "positionX": "0", "positionY": "0"}],
        "connections": ([{"sourceId": source, "targetId": str(start), "anchors": {"source": "leadsource",
                                                                                   "target": "top"}}]
                        if start is not None else [])
        + [{"sourceId": str(e["parent"]["id"]), "targetId": str(e["id"]),
            "anchors": {"source": e["decisionPath"] or "bottom", "target": "top"}} for e in events if e["parent"]],
    }  # fmt: skip
    return events, canvas


def _user_name(user) -> str | None:
    if user is None:
        return None
    return f"{user.first_name} {user.last_name}".strip() or user.email


def serialize_campaigns(campaigns: list) -> list[dict]:
    """Return campaigns in the shape of Mautic's GET /campaigns/{id}; names of segments, forms and creators
    are read in one query each for all."""
    if not campaigns:
        return []
    from tidings.forms import selectors as forms_selectors
    from tidings.segments import selectors as segments_selectors

    creators = members_by_id(require_workspace(), {c.created_by for c in campaigns if c.created_by})
    sources = [s for c in campaigns for s in (c.graph or {}).get("sources", [])]
    segment_ids = {s["segment_id"] for s in sources if s.get("kind") == "segment"}
    form_ids = {s["form_id"] for s in sources if s.get("kind") == "form"}
    segment_names = segments_selectors.segment_names(segment_ids) if segment_ids else {}
    forms = {f.pk: f for f in forms_selectors.forms().filter(pk__in=form_ids)} if form_ids else {}
    result = []
    for campaign in campaigns:
        graph = campaign.graph or {}
        events, canvas = serialize_events(graph)
        graph_sources = graph.get("sources", [])
        modified = (campaign.updated_at - campaign.created_at).total_seconds() >= 1
        result.append({
            "isPublished": campaign.status == CampaignStatus.PUBLISHED,
            "dateAdded": mautic_datetime(campaign.created_at),
            "dateModified": mautic_datetime(campaign.updated_at) if modified else None,
            "createdBy": campaign.created_by,
            "createdByUser": _user_name(creators.get(campaign.created_by)),
            "modifiedBy": None,
            "modifiedByUser": None,
            "id": campaign.pk,
            "name": campaign.name,
            "category": None,
            "description": campaign.description or None,
            "allowRestart": (graph.get("entry") or {}).get("mode") == "repeat",
            "publishUp": None,
            "publishDown": None,
            "events": events,
            "forms": [{"id": s["form_id"], "name": getattr(forms.get(s["form_id"]), "name", None)}
                      for s in graph_sources if s.get("kind") == "form"],
            "lists": [{"id": s["segment_id"], "name": segment_names.get(s["segment_id"])}
                      for s in graph_sources if s.get("kind") == "segment"],
            "canvasSettings": canvas,
        })  # fmt: skip
    return result


# ==============================================================================================
# Mautic's events -> Tidings' graph


def _items(raw: Any, name: str) -> list:
    """Return a list given as a JSON list or as a form's {"0": ..., "1": ...}."""
    if raw in (None, ""):
        return []
    if isinstance(raw, dict):
        return list(raw.values())
    if not isinstance(raw, list):
        raise MauticError(400, f"{name}: a list.", {name: ["a list"]})
    return raw


def _ref(raw: Any) -> str | None:
    """Return an event reference (an id, "new_43", or {"id": ...}) as text; None for none."""
    if isinstance(raw, dict):
        raw = raw.get("id")
    if raw in (None, "", 0, "0"):
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int) or len(str(raw)) > 40:
        raise MauticError(400, "events: an event id is a number or a text such as new_1.")
    return str(raw)


def _source_ids(raw: Any, name: str) -> list[int]:
    out = []
    for index, item in enumerate(_items(raw, name)):
        value = item.get("id") if isinstance(item, dict) else item
        out.append(strict_int(f"{name}[{index}][id]", value, minimum=1))
    return out


def _id_list(properties: dict, key: str, path: str) -> list[int]:
    values = _items(properties.get(key), f"{path}.properties.{key}")
    return [strict_int(f"{path}.properties.{key}", v, minimum=1) for v in values]


def _one(values: list, path: str, what: str) -> Any:
    if len(values) != 1:
        raise _unprocessable(path, f"Tidings' step takes exactly one {what}")
    return values[0]


def _step_of(event: dict, path: str, parent_step: dict | None) -> dict:
    """Return the Tidings step (without id and edges) of one Mautic event; raise MauticError(422) otherwise."""
    kind_type = event.get("type")
    properties = event.get("properties") or {}
    if not isinstance(kind_type, str) or not isinstance(properties, dict):
        raise _unprocessable(f"{path}.type", "an event type such as email.send, and properties as an object")
    if kind_type.startswith(TIDINGS_PREFIX):
        kind = kind_type[len(TIDINGS_PREFIX) :]
        if kind not in graphs.KINDS:
            raise _unprocessable(f"{path}.type", "an unknown Tidings step")
        params = {k: v for k, v in properties.items() if k not in ("id", "kind", "next", "yes", "no", "name")}
        return {"kind": kind, **params}
    if kind_type == "email.send":
        return {"kind": "send_email", "email_id": properties.get("email")}
    if kind_type == "lead.changetags":
        added = _items(properties.get("add_tags"), f"{path}.properties.add_tags")
        removed = _items(properties.get("remove_tags"), f"{path}.properties.remove_tags")
        if bool(added) == bool(removed):
            raise _unprocessable(f"{path}.properties", "either tags to add or tags to remove (one step each)")
        return {"kind": "add_tags" if added else "remove_tags", "tags": added or removed}
    if kind_type == "lead.changelist":
        added = _id_list(properties, "addToLists", path)
        removed = _id_list(properties, "removeFromLists", path)
        if bool(added) == bool(removed):
            raise _unprocessable(f"{path}.properties", "either one segment to add to or one to remove from")
        kind = "add_to_segment" if added else "remove_from_segment"
        return {"kind": kind, "segment_id": _one(added or removed, f"{path}.properties", "segment")}
    if kind_type == "lead.changepoints":
        points = strict_int(f"{path}.properties.points", properties.get("points"), minimum=-(2**31), maximum=2**31 - 1)
        return {"kind": "change_points", "operator": "minus" if points < 0 else "plus", "delta": abs(points)}
    if kind_type == "lead.updatelead":
        return {"kind": "update_fields", "values": properties}
    if kind_type == "lead.adddnc":
        channels = _items(properties.get("channels", ["email"]), f"{path}.properties.channels")
        return {"kind": "do_not_contact", "channel": _one(channels, f"{path}.properties.channels", "channel")}
    if kind_type == "campaign.addremovelead":
        if _items(properties.get("addTo"), f"{path}.properties.addTo"):
            raise _unprocessable(f"{path}.properties.addTo", "Tidings cannot yet move a contact to another campaign")
        return {"kind": "exit"}
    decision = {v: k for k, v in DECISION_TYPES.items()}.get(kind_type)
    if decision is not None:
        step: dict[str, Any] = {"kind": "decision", "event": decision}
        if decision in ("opened_email", "clicked_email", "replied_email"):
            email = properties.get("email")
            if email is None and parent_step is not None and parent_step.get("kind") == "send_email":
                email = parent_step.get("email_id")  # Mautic's email decisions are on the email before them
            step["email_id"] = email
        elif decision == "submitted_form":
            forms = _id_list(properties, "forms", path)
            step["form_id"] = _one(forms, f"{path}.properties.forms", "form") if forms else None
        else:
            step["url_contains"] = properties.get("page_url")
        return step
    if kind_type == "lead.field_value":
        operators = {v: k for k, v in FIELD_OPERATORS.items()}
        raw_operator = properties.get("operator", "=")
        operator = operators.get(raw_operator) if isinstance(raw_operator, str) else None
        if operator is None:
            raise _unprocessable(f"{path}.properties.operator", "one of " + ", ".join(operators))
        step = {"kind": "condition", "test": "field", "field": properties.get("field"), "operator": operator}
        if operator not in ("empty", "not_empty"):
            step["value"] = properties.get("value")
        return step
    if kind_type == "lead.tags":
        tags = _items(properties.get("tags"), f"{path}.properties.tags")
        return {"kind": "condition", "test": "tag", "tag": _one(tags, f"{path}.properties.tags", "tag name")}
    if kind_type == "lead.segments":
        segments = _id_list(properties, "segments", path)
        return {"kind": "condition", "test": "segment",
                "segment_id": _one(segments, f"{path}.properties.segments", "segment")}  # fmt: skip
    raise _unprocessable(f"{path}.type", "an event type Tidings' campaigns do not run")


def _wait_seconds(event: dict, path: str) -> int:
    """Return the seconds an event waits before it runs (triggerMode interval); 0 when immediate."""
    mode = event.get("triggerMode") or "immediate"
    if mode == "immediate":
        return 0
    if mode != "interval":
        raise _unprocessable(f"{path}.triggerMode", "immediate or interval (a date: use a tidings.delay event)")
    amount = strict_int(f"{path}.triggerInterval", event.get("triggerInterval", 0), minimum=0,
                        maximum=graphs.MAX_SECONDS)  # fmt: skip
    unit = event.get("triggerIntervalUnit") or "d"
    if not isinstance(unit, str) or (unit != "s" and unit not in UNITS):
        raise _unprocessable(f"{path}.triggerIntervalUnit", "one of i, h, d, m, y")
    return amount * (1 if unit == "s" else UNITS[unit])


def graph_of(events_raw: Any, sources: list[dict], entry: dict, exit_on_leave: bool) -> dict:
    """Return the Tidings graph of Mautic's events and sources; raise MauticError(422) for what it cannot walk.

    The graph is then checked by the actions (graph.check) like any other.
    """
    events = _items(events_raw, "events")
    if len(events) > MAX_EVENTS:
        raise _unprocessable("events", f"at most {MAX_EVENTS} events")
    by_ref: dict[str, tuple[int, dict]] = {}
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise _unprocessable(f"events.{index}", "an event is an object")
        ref = _ref(event.get("id")) or f"#{index}"
        if ref in by_ref:
            raise _unprocessable(f"events.{index}.id", "another event has this id")
        by_ref[ref] = (index, event)
    # Ids: a numeric id is kept as the step's id; "new_43" gets the next free number.
    ids: dict[str, int] = {}
    for ref in by_ref:
        if ref.isascii() and ref.isdigit() and 1 <= int(ref) <= graphs.MAX_ID // 2:
            ids[ref] = int(ref)
    free = max([0, *ids.values()]) + 1
    for ref in by_ref:
        if ref not in ids:
            ids[ref] = free
            free += 1
    parents: dict[str, tuple[str, str | None]] = {}
    for ref, (index, event) in by_ref.items():
        parent_ref = _ref(event.get("parent"))
        if parent_ref is None:
            continue
        if parent_ref not in by_ref:
            raise _unprocessable(f"events.{index}.parent", "the id of another event of this campaign")
        path_ = event.get("decisionPath") or None
        if path_ not in (None, "yes", "no"):
            raise _unprocessable(f"events.{index}.decisionPath", "yes, no or null")
        parents[ref] = (parent_ref, path_)
    roots = [ref for ref in by_ref if ref not in parents]
    if len(roots) != 1:
        raise _unprocessable("events", "exactly one event without a parent: Tidings starts each walk at one step")
    steps: dict[str, dict] = {}
    order = [roots[0]]
    for ref in order:  # parents before children, so a decision can read the email before it
        index, event = by_ref[ref]
        parent = parents.get(ref)
        parent_step = steps[parent[0]] if parent else None
        step = _step_of(event, f"events.{index}", parent_step)
        name = event.get("name")
        # The kind's label is what a GET shows for a step without a name: it is not stored as one.
        if isinstance(name, str) and name.strip() and name.strip() != KIND_LABELS.get(step["kind"]):
            step["name"] = name.strip()[:191]
        steps[ref] = {"id": ids[ref], **step}
        order.extend(child for child, (p, _) in parents.items() if p == ref)
    if len(steps) != len(by_ref):
        raise _unprocessable("events", "every event descends from the first one (no loop of parents)")
    out_steps: list[dict] = []
    for ref, step in steps.items():
        index, event = by_ref[ref]
        parent = parents.get(ref)
        wait = _wait_seconds(event, f"events.{index}")
        if parent and parent[1] == "no" and steps[parent[0]]["kind"] == "decision":
            steps[parent[0]]["window_seconds"] = wait or DEFAULT_WINDOW
            wait = 0
        if wait:  # the event waits first: a delay step before it takes its place in the tree
            delay_id = free
            free += 1
            out_steps.append({"id": delay_id, "kind": "delay", "mode": "interval", "seconds": wait,
                              "next": step["id"]})  # fmt: skip
            step["_entry"] = delay_id
        out_steps.append(step)
    for ref, step in steps.items():
        if step["kind"] == "decision":
            step.setdefault("window_seconds", DEFAULT_WINDOW)
        children = [(c, p) for c, (parent, p) in parents.items() if parent == ref]
        branching = step["kind"] in graphs.BRANCHING
        for child, path_ in children:
            edge = (path_ or "yes") if branching else "next"
            if not branching and path_:
                raise _unprocessable(f"events.{by_ref[child][0]}.decisionPath", "only under a decision or condition")
            if step.get(edge) is not None:
                raise _unprocessable(f"events.{by_ref[ref][0]}.children",
                                     "one event per path: Tidings walks one step after another")  # fmt: skip
            if step["kind"] == "exit":
                raise _unprocessable(f"events.{by_ref[ref][0]}.children", "nothing follows leaving the campaign")
            step[edge] = steps[child].get("_entry", steps[child]["id"])
    start = steps[roots[0]].get("_entry", steps[roots[0]]["id"])
    for step in out_steps:
        step.pop("_entry", None)
    return {"sources": sources, "entry": entry, "exit_on_segment_leave": exit_on_leave, "start": start,
            "steps": sorted(out_steps, key=lambda step: step["id"])}  # fmt: skip


# ==============================================================================================
# Listing and writing


def _list(params: ListParams, request) -> tuple[list[dict], int]:
    campaigns = selectors.campaigns(search=params.search)
    if params.published_only:
        campaigns = campaigns.filter(status=CampaignStatus.PUBLISHED)
    page, total = listed(campaigns, params, ORDER_COLUMNS)
    return serialize_campaigns(page), total


def _bool(data: dict, key: str) -> bool:
    try:
        return parse_bool(data[key], strict=True)
    except InvalidInput as error:
        raise MauticError(400, f"{key}: 0 or 1.", {key: ["0 or 1"]}) from error


def _changes(data: dict, method: str, campaign=None) -> tuple[dict, bool | None]:
    """Return (the campaign_create/update arguments of a Mautic body, whether to publish: None leaves it)."""
    full = method in ("POST", "PUT")
    changes: dict[str, Any] = {}
    name = optional_text(data, "name")
    if name is not None or full:
        changes["name"] = name or ""
    description = optional_text(data, "description")
    if description is not None or full:
        changes["description"] = description or ""
    if full and not data.get("events"):
        raise MauticError(400, "A campaign needs at least one event.", {"events": ["add at least one event"]})
    if full and not data.get("lists") and not data.get("forms"):
        raise MauticError(400, "A campaign needs at least one contact source: a segment or a form.",
                          {"lists": ["add a segment or a form"]})  # fmt: skip
    graph = dict((campaign.graph if campaign is not None else None) or {})
    touches_graph = any(key in data for key in ("events", "lists", "forms", "allowRestart")) or full
    if touches_graph:
        kept = [s for s in graph.get("sources", []) if s.get("kind") not in ("segment", "form")]
        old = graph.get("sources", [])
        segments = (_source_ids(data.get("lists"), "lists") if "lists" in data or full
                    else [s["segment_id"] for s in old if s.get("kind") == "segment"])  # fmt: skip
        forms = (_source_ids(data.get("forms"), "forms") if "forms" in data or full
                 else [s["form_id"] for s in old if s.get("kind") == "form"])  # fmt: skip
        sources = kept + [{"kind": "segment", "segment_id": pk} for pk in dict.fromkeys(segments)]
        sources += [{"kind": "form", "form_id": pk} for pk in dict.fromkeys(forms)]
        entry = graph.get("entry") or {"mode": "once"}
        if "allowRestart" in data:
            entry = {"mode": "repeat", "min_gap_seconds": 0} if _bool(data, "allowRestart") else {"mode": "once"}
        exit_on_leave = graph.get("exit_on_segment_leave", False)
        if "events" in data:
            changes["graph"] = graph_of(data["events"], sources, entry, exit_on_leave)
        else:
            changes["graph"] = {**graph, "sources": sources, "entry": entry}
    publish = _bool(data, "isPublished") if "isPublished" in data else (False if method == "PUT" else None)
    return changes, publish


def _published_as_asked(campaign, publish: bool | None, request, principal, *, graph_changed: bool):
    """Publish or unpublish as isPublished asks; a published campaign whose graph changed is published again
    (Mautic runs what it saved; contacts already in it keep their version)."""
    live = campaign.status == CampaignStatus.PUBLISHED
    if (publish and (not live or graph_changed)) or (publish is None and live and graph_changed):
        return actions.campaign_publish(campaign.pk, principal=principal, request=request)
    if publish is False and campaign.status == CampaignStatus.PUBLISHED:
        return actions.campaign_unpublish(campaign.pk, principal=principal, request=request)
    return campaign


def _written(write):
    """Run a write; a graph the actions refuse is Mautic's 422 (nothing saved: the request's transaction)."""
    try:
        return write()
    except ValidationError as error:
        raise validation_error(error, status=422) from error


def _create(request, data: dict, principal, *, method: str):
    changes, publish = _changes(data, method)

    def write():
        campaign = actions.campaign_create(principal=principal, request=request, **changes)
        return _published_as_asked(campaign, True if publish is None else publish, request, principal,
                                   graph_changed=True)  # fmt: skip

    return _written(write), True


def _update(request, campaign_id: int, data: dict, method: str, principal):
    campaign = selectors.campaign_get(campaign_id)
    changes, publish = _changes(data, method, campaign)

    def write():
        updated = actions.campaign_update(campaign_id, principal=principal, request=request, **changes)
        return _published_as_asked(updated, publish, request, principal, graph_changed="graph" in changes)

    return _written(write)


CAMPAIGNS = Resource(
    one="campaign",
    many="campaigns",
    list=_list,
    get=selectors.campaign_get,
    serialize=serialize_campaigns,
    create=_create,
    update=_update,
    delete=lambda request, campaign_id, principal: actions.campaign_delete(
        campaign_id, principal=principal, request=request
    ),
    view_permission=VIEW,
    edit_permission=EDIT,
    delete_permission=EDIT,
    columns=set(ORDER_COLUMNS),
    selectable=ENTITY_COLUMNS
    | frozenset(
        {
            "name",
            "category",
            "description",
            "allowRestart",
            "publishUp",
            "publishDown",
            "events",
            "forms",
            "lists",
            "canvasSettings",
        }
    ),  # fmt: skip
    published="filter",
)


# ==============================================================================================
# Membership


def _campaign_or_404(campaign_id: int):
    try:
        return selectors.campaign_get(campaign_id)
    except ObjectDoesNotExist as error:
        raise MauticError(404) from error


def _change_one(request, campaign_id: int, contact_id: int, change, **options) -> dict:
    """Add or remove one contact (change is the action); {"success": 1}; 404 for a campaign or contact not here."""
    allow(request, "POST")
    _campaign_or_404(campaign_id)
    if not existing_contact_ids([contact_id]):
        raise MauticError(404)
    try:
        change(campaign_id, [contact_id], principal=request.principal, request=request, **options)
    except ValidationError as error:
        raise validation_error(error, status=422) from error
    return {"success": 1}


@mautic_api
@require_permission(EDIT)
def add_contact(request, id, contact_id):
    """POST /campaigns/{id}/contact/{cid}/add: {"success": 1}; the contact enters the published campaign."""
    return _change_one(request, id, contact_id, actions.campaign_contacts_add, source="api")


@mautic_api
@require_permission(EDIT)
def remove_contact(request, id, contact_id):
    """POST /campaigns/{id}/contact/{cid}/remove: {"success": 1}; its steps still to do are cancelled."""
    return _change_one(request, id, contact_id, actions.campaign_contacts_remove)


def _stats_datetime(value) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


@mautic_api
@require_permission(VIEW)
def campaign_contacts(request, id):
    """GET /campaigns/{id}/contacts: {total, contacts: [campaign_leads rows]} without the contacts taken out,
    values as strings as Mautic's stats API answers them; start and limit (100) page."""
    allow(request, "GET")
    start = strict_int("start", request.GET.get("start", 0), minimum=0, maximum=2**62)
    limit = strict_int("limit", request.GET.get("limit", CONTACTS_LIMIT), minimum=1, maximum=MAX_LIMIT)
    _campaign_or_404(id)
    rows = selectors.enrolments(id).exclude(status=EnrolmentStatus.EXITED)
    total = rows.count()
    page = list(rows[start : start + limit]) if total else []
    contacts = [
        {
            "campaign_id": str(id),
            "lead_id": str(row.contact_id),
            "date_added": _stats_datetime(row.entered_at),
            "manually_removed": "0",
            "manually_added": "1" if row.source in ("manual", "api") else "0",
            "date_last_exited": _stats_datetime(row.left_at),
            "rotation": str(row.entries),
        }
        for row in page
    ]
    return {"total": str(total), "contacts": contacts}


@mautic_api
@require_permission("contacts:view")
def contact_campaigns(request, id):
    """GET /contacts/{id}/campaigns: {total, campaigns} keyed by campaign id, the published campaigns the contact
    is in. Declares contacts:view as Mautic does; naming campaigns also needs campaigns:view."""
    allow(request, "GET")
    if not request.principal.can(VIEW):
        raise MauticError(403)
    if not existing_contact_ids([id]):
        raise MauticError(404)
    enrolments = [e for e in selectors.contact_enrolments(id) if e.status != EnrolmentStatus.EXITED]
    published = {c.pk: c for c in selectors.campaigns().filter(pk__in=[e.campaign_id for e in enrolments],
                                                               status=CampaignStatus.PUBLISHED)}  # fmt: skip
    campaigns = {}
    for enrolment in sorted(enrolments, key=lambda e: e.campaign_id):
        campaign = published.get(enrolment.campaign_id)
        if campaign is None:
            continue
        segments = [s["segment_id"] for s in (campaign.graph or {}).get("sources", []) if s.get("kind") == "segment"]
        campaigns[str(campaign.pk)] = {
            "id": campaign.pk,
            "name": campaign.name,
            "dateAdded": mautic_datetime(enrolment.entered_at),
            "manuallyRemoved": False,
            "manuallyAdded": enrolment.source in ("manual", "api"),
            "listMembership": segments,
        }
    return {"total": len(campaigns), "campaigns": campaigns or []}


_VIEWS = standard_views(CAMPAIGNS)

urlpatterns = [
    path("campaigns", _VIEWS["list"], name="campaigns_list"),
    path("campaigns/new", _VIEWS["new"], name="campaigns_new"),
    path("campaigns/<int:id>", _VIEWS["get"], name="campaigns_get"),
    path("campaigns/<int:id>/edit", _VIEWS["edit"], name="campaigns_edit"),
    path("campaigns/<int:id>/delete", _VIEWS["delete"], name="campaigns_delete"),
    path("campaigns/<int:id>/contact/<int:contact_id>/add", add_contact, name="campaigns_add_contact"),
    path("campaigns/<int:id>/contact/<int:contact_id>/remove", remove_contact, name="campaigns_remove_contact"),
    path("campaigns/<int:id>/contacts", campaign_contacts, name="campaigns_contacts"),
    path("contacts/<int:id>/campaigns", contact_campaigns, name="contacts_campaigns"),
]
