"""The tree editor's changes to a draft graph: pure functions from a graph to a new graph.

The views save the result through actions.campaign_update, which checks it (graph.check), so a
change that would break the graph is refused with errors keyed by path and the draft stays valid.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from tidings.campaigns import graph as graphs

EDGES = ("next", "yes", "no")


def empty() -> dict:
    return {"sources": [], "entry": {"mode": "once"}, "exit_on_segment_leave": False, "start": None, "steps": []}


def normalised(graph: Mapping | None) -> dict:
    out = empty()
    out.update(copy.deepcopy(dict(graph or {})))
    return out


def _outgoing(kind: str) -> tuple[str, ...]:
    if kind in graphs.BRANCHING:
        return ("yes", "no")
    return () if kind == "exit" else ("next",)


def insert_step(graph: Mapping, params: Mapping[str, Any], *, after: int | None, edge: str) -> tuple[dict, int]:
    """Return (graph with a new step hung on `after`'s edge, or first when after is None; the new step's id).

    What followed on that edge now follows the new step (on its next, or its yes path for a branch).
    """
    new = normalised(graph)
    steps = graphs.step_map(new)
    step_id = max(steps, default=0) + 1
    step = {**params, "id": step_id}
    for name in _outgoing(step["kind"]):
        step[name] = None
    if after is None:
        following = new.get("start")
        new["start"] = step_id
    else:
        parent = steps[after]
        if edge not in _outgoing(parent["kind"]):
            raise KeyError(edge)
        following = parent.get(edge)
        parent[edge] = step_id
    outgoing = _outgoing(step["kind"])
    if outgoing:
        step[outgoing[0]] = following
    new["steps"].append(step)
    return new, step_id


def replace_step(graph: Mapping, step_id: int, params: Mapping[str, Any]) -> dict:
    """Return graph with step_id's settings replaced by params, keeping its edges (a new kind keeps what fits)."""
    new = normalised(graph)
    for index, step in enumerate(new["steps"]):
        if step["id"] == step_id:
            edges = [step.get(name) for name in _outgoing(step["kind"])]
            following = next((e for e in edges if e is not None), None)
            changed = {**params, "id": step_id}
            outgoing = _outgoing(changed["kind"])
            if outgoing == _outgoing(step["kind"]):
                for name in outgoing:
                    changed[name] = step.get(name)
            else:
                for name in outgoing:
                    changed[name] = None
                if outgoing:
                    changed[outgoing[0]] = following
            new["steps"][index] = changed
            return new
    raise KeyError(step_id)


def remove_step(graph: Mapping, step_id: int, *, keep: str = "next") -> dict:
    """Return graph without step_id: whatever led to it now leads to what followed it (its `keep` path).

    A branch's other path is not deleted: its steps stay in the draft as "not connected" until removed.
    """
    new = normalised(graph)
    steps = graphs.step_map(new)
    gone = steps[step_id]
    outgoing = _outgoing(gone["kind"])
    following = gone.get(keep if keep in outgoing else (outgoing[0] if outgoing else "next"))
    if following == step_id:
        following = None
    new["steps"] = [s for s in new["steps"] if s["id"] != step_id]
    for step in new["steps"]:
        for name in EDGES:
            if step.get(name) == step_id:
                step[name] = following if following != step["id"] else None
    if new.get("start") == step_id:
        new["start"] = following
    if new["start"] is None and new["steps"]:
        new["start"] = new["steps"][0]["id"]
    return new


def step_errors(graph: Mapping, message_dict: Mapping[str, list[str]]) -> tuple[dict[int, list[str]], list[str]]:
    """Split check errors ("graph.steps.2.email_id") into {step id: messages} and the rest (sources, entry)."""
    steps = list(graph.get("steps", []))
    by_step: dict[int, list[str]] = {}
    other: list[str] = []
    for key, messages in message_dict.items():
        parts = key.split(".")
        if parts and parts[0] == "graph":
            parts = parts[1:]
        if len(parts) >= 2 and parts[0] == "steps" and parts[1].isdigit() and int(parts[1]) < len(steps):
            step_id = steps[int(parts[1])].get("id")
            label = parts[2].replace("_", " ") if len(parts) > 2 else ""
            by_step.setdefault(step_id, []).extend(f"{label}: {m}" if label else m for m in messages)
        else:
            other.extend(f"{'.'.join(parts).replace('_', ' ')}: {m}" for m in messages)
    return by_step, other
