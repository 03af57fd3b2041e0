"""A campaign's graph: what it is made of, and the check that turns any input into a graph or clear errors.

    {
      "sources": [{"kind": "segment", "segment_id": 4}, {"kind": "form", "form_id": 2}, {"kind": "manual"}],
      "entry": {"mode": "once"},                       # or {"mode": "repeat", "min_gap_seconds": 86400}
      "exit_on_segment_leave": false,                  # leave when no longer in any source segment
      "start": 1,
      "steps": [
        {"id": 1, "kind": "delay", "mode": "interval", "seconds": 3600, "next": 2},
        {"id": 2, "kind": "send_email", "email_id": 7, "next": 3},
        {"id": 3, "kind": "decision", "event": "clicked_email", "email_id": 7, "window_seconds": 86400,
         "yes": 4, "no": null},
        {"id": 4, "kind": "add_tags", "tags": ["clicked"], "next": null}
      ]
    }

Step kinds: actions (send_email, add_tags, remove_tags, add_to_segment, remove_from_segment, change_points,
update_fields, do_not_contact, exit, change_stage, set_owner, notify_user, enter_campaign, call_webhook),
decisions on behaviour with a wait window and a "no" path (opened_email, clicked_email, submitted_form,
visited_page, downloaded_asset, unsubscribed, replied_email), conditions on data (field, tag, segment,
consent, points, device, time of day and day of week) and delays (interval, until a date, relative to a date
field, a time window on weekdays). Time windows and time conditions are read in the contact's time zone (its
timezone field) when it has one, else in the step's `timezone`.

replied_email waits for email.replied: a person's reply to the email (any email without email_id), which the
emails app records from the bounce mailbox and its inbound API; automatic answers are not replies (decision 0040).

"goals": [{"kind": "has_tag", "tag": "buyer"}, ...] end a contact's walk when reached (decision 0034).

check() is pure: ids of emails, segments and forms are checked through the callables the caller passes
(the actions pass the selectors). Errors are keyed by path ("steps.2.email_id") and never repeat a value.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError

MAX_STEPS = 200
MAX_ID = 1_000_000
MAX_TAGS = 20
MAX_TAG = 100
MAX_FIELDS = 20
MAX_TEXT = 500
MAX_SECONDS = 366 * 86400
MAX_SOURCES = 20

SOURCE_KINDS = ("segment", "form", "manual", "api")
ACTIONS = ("send_email", "add_tags", "remove_tags", "add_to_segment", "remove_from_segment", "change_points",
           "update_fields", "do_not_contact", "exit", "change_stage", "set_owner", "notify_user",
           "enter_campaign", "call_webhook")  # fmt: skip
DECISION_EVENTS = ("opened_email", "clicked_email", "submitted_form", "visited_page", "downloaded_asset",
                   "unsubscribed", "replied_email")  # fmt: skip
CONDITION_TESTS = ("field", "tag", "segment", "consent", "points", "device", "time")
FIELD_OPERATORS = ("equals", "not_equals", "empty", "not_empty", "gt", "lt", "contains")
DELAY_MODES = ("interval", "until", "field", "window")
POINTS_OPERATORS = ("plus", "minus", "times", "divide")
# Conditions on points, the device tracking last saw and the contact's local time (see _condition_more).
POINTS_TESTS = ("gte", "lte", "equals", "between")
DEVICE_TYPES = ("desktop", "mobile", "tablet")  # tracking.collect.agents' device kinds
MAX_OS = 32  # tracking keeps 32 characters of an OS name
KINDS = (*ACTIONS, "decision", "condition", "delay")
BRANCHING = ("decision", "condition")
OUTBOUND = ("send_email",)
# Issue 14's remaining actions (their parameters: _more_params) and goals (_goals).
MORE_ACTIONS = ("change_stage", "set_owner", "notify_user", "enter_campaign")
GOAL_KINDS = ("submitted_form", "clicked_email", "points_at_least", "has_tag")
MAX_GOALS = 10
WEBHOOK = "call_webhook"  # outbound, run like a send (webhook_step.run_webhook), checked by _webhook_params

Exists = Callable[[Iterable[int]], set[int]]


def _none(ids: Iterable[int]) -> set[int]:
    return set(ids)


class _Errors(dict):
    def add(self, path: str, message: str) -> None:
        self.setdefault(path, []).append(message)


def _int(raw: Any, errors: _Errors, path: str, *, low: int = 1, high: int = MAX_ID, optional: bool = False):
    if raw is None and optional:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        errors.add(path, f"a whole number from {low} to {high}")
        return None
    return raw


def _text(raw: Any, errors: _Errors, path: str, *, limit: int = MAX_TEXT, optional: bool = False) -> str | None:
    if raw is None and optional:
        return None
    if not isinstance(raw, str) or not raw.strip() or len(raw) > limit or "\x00" in raw:
        errors.add(path, f"a text of 1 to {limit} characters")
        return None
    return raw.strip()


def _choice(raw: Any, choices: tuple[str, ...], errors: _Errors, path: str) -> str | None:
    if not isinstance(raw, str) or raw not in choices:
        errors.add(path, f"one of {', '.join(choices)}")
        return None
    return raw


def check(
    raw: Any,
    *,
    emails: Exists = _none,
    segments: Exists = _none,
    forms: Exists = _none,
    assets: Exists = _none,
    members: Exists = _none,
    campaigns: Exists = _none,
    recipients: Exists = _none,
    stages: Exists = _none,
    webhook_private_ok: bool = False,
) -> dict:
    """Return raw as a clean graph; raise ValidationError keyed by path when anything is wrong.

    emails(ids), segments(ids), forms(ids), assets(ids) return which of ids exist (template emails for emails);
    members(ids) which user ids are members of the workspace; campaigns(ids) which campaigns of the
    workspace (other than the one checked) a contact may be sent to; recipients(ids) which are active
    webhook recipients of the privacy centre's register; stages(ids) which are stages of the workspace
    (contacts' stages, change_stage). webhook_private_ok allows http and private
    addresses in webhook URLs (tests' loopback receiver only).
    """
    errors = _Errors()
    if not isinstance(raw, Mapping):
        raise ValidationError({"graph": ["an object with sources, entry, start and steps"]})
    unknown = set(raw) - {"sources", "entry", "exit_on_segment_leave", "start", "steps", "goals"}
    for key in sorted(str(k) for k in unknown)[:5]:
        errors.add(key[:40], "not part of a campaign graph")
    graph: dict[str, Any] = {
        "sources": _sources(raw.get("sources", []), errors),
        "entry": _entry(raw.get("entry", {"mode": "once"}), errors),
        "exit_on_segment_leave": raw.get("exit_on_segment_leave", False),
    }
    if not isinstance(graph["exit_on_segment_leave"], bool):
        errors.add("exit_on_segment_leave", "true or false")
    declared: set[int] = set()
    steps = _steps(raw.get("steps", []), errors, declared)
    _webhook_urls(steps, errors, private_ok=webhook_private_ok)
    graph["steps"] = steps
    start = raw.get("start")
    if declared or start is not None:
        start = _int(start, errors, "start")
        if start is not None and start not in declared:
            errors.add("start", "the id of one of the steps")
    graph["start"] = start
    if "goals" in raw:
        graph["goals"] = _goals(raw["goals"], errors)
    if not errors:
        _edges(steps, errors)
    if not errors:
        _loops(steps, errors)
    if not errors:
        _references(graph, errors, emails=emails, segments=segments, forms=forms, assets=assets)
        _more_references(graph, errors, emails=emails, forms=forms, members=members, campaigns=campaigns,
                         recipients=recipients, stages=stages)  # fmt: skip
    if errors:
        raise ValidationError(dict(errors))
    return graph


def _sources(raw: Any, errors: _Errors) -> list[dict]:
    if not isinstance(raw, list) or len(raw) > MAX_SOURCES:
        errors.add("sources", f"a list of at most {MAX_SOURCES} sources")
        return []
    out = []
    for index, item in enumerate(raw):
        path = f"sources.{index}"
        if not isinstance(item, Mapping):
            errors.add(path, "an object with a kind")
            continue
        kind = _choice(item.get("kind"), SOURCE_KINDS, errors, f"{path}.kind")
        if kind == "segment":
            out.append({"kind": kind, "segment_id": _int(item.get("segment_id"), errors, f"{path}.segment_id",
                                                         high=2**63 - 1)})  # fmt: skip
        elif kind == "form":
            out.append({"kind": kind, "form_id": _int(item.get("form_id"), errors, f"{path}.form_id", high=2**63 - 1)})
        elif kind:
            out.append({"kind": kind})
    return out


def _entry(raw: Any, errors: _Errors) -> dict:
    if not isinstance(raw, Mapping):
        errors.add("entry", 'an object: {"mode": "once"} or {"mode": "repeat", "min_gap_seconds": N}')
        return {"mode": "once"}
    mode = _choice(raw.get("mode", "once"), ("once", "repeat"), errors, "entry.mode")
    if mode == "repeat":
        gap = _int(raw.get("min_gap_seconds", 0), errors, "entry.min_gap_seconds", low=0, high=MAX_SECONDS)
        return {"mode": mode, "min_gap_seconds": gap or 0}
    return {"mode": "once"}


def _steps(raw: Any, errors: _Errors, declared: set[int]) -> list[dict]:
    if not isinstance(raw, list) or len(raw) > MAX_STEPS:
        errors.add("steps", f"a list of at most {MAX_STEPS} steps")
        return []
    out: list[dict] = []
    seen: set[int] = set()
    for index, item in enumerate(raw):
        path = f"steps.{index}"
        if not isinstance(item, Mapping):
            errors.add(path, "an object with an id and a kind")
            continue
        step_id = _int(item.get("id"), errors, f"{path}.id")
        if step_id is not None and step_id in seen:
            errors.add(f"{path}.id", "another step has this id")
        seen.add(step_id or 0)
        if step_id is not None:
            declared.add(step_id)
        kind = item.get("kind")
        if not isinstance(kind, str) or kind not in KINDS:
            errors.add(f"{path}.kind", "an unknown kind of step; one of " + ", ".join(KINDS))
            continue
        step = {"id": step_id, "kind": kind, **_params(kind, item, errors, path)}
        if kind in BRANCHING:
            step["yes"] = _int(item.get("yes"), errors, f"{path}.yes", optional=True)
            step["no"] = _int(item.get("no"), errors, f"{path}.no", optional=True)
        elif kind != "exit":
            step["next"] = _int(item.get("next"), errors, f"{path}.next", optional=True)
        name = item.get("name")
        if name is not None:
            step["name"] = _text(name, errors, f"{path}.name", limit=191)
        out.append(step)
    return out


def _params(kind: str, item: Mapping, errors: _Errors, path: str) -> dict:
    """Return the checked parameters of a step of kind."""
    big = 2**63 - 1
    if kind == "send_email":
        if item.get("email_id") is None:
            errors.add(f"{path}.email_id", "choose the email to send")
            return {"email_id": None}
        return {"email_id": _int(item.get("email_id"), errors, f"{path}.email_id", high=big)}
    if kind in ("add_tags", "remove_tags"):
        tags = item.get("tags")
        if not isinstance(tags, list) or not 1 <= len(tags) <= MAX_TAGS:
            errors.add(f"{path}.tags", f"a list of 1 to {MAX_TAGS} tag names")
            return {"tags": []}
        names = [_text(t, errors, f"{path}.tags", limit=MAX_TAG) for t in tags]
        if any(n is not None and n.startswith("-") for n in names):
            errors.add(f"{path}.tags", "a tag name does not start with -")
        return {"tags": sorted({n for n in names if n})}
    if kind in ("add_to_segment", "remove_from_segment"):
        return {"segment_id": _int(item.get("segment_id"), errors, f"{path}.segment_id", high=big)}
    if kind == "change_points":
        operator = _choice(item.get("operator", "plus"), POINTS_OPERATORS, errors, f"{path}.operator")
        delta = _int(item.get("delta"), errors, f"{path}.delta", low=-(2**31), high=2**31 - 1)
        if operator == "divide" and delta == 0:
            errors.add(f"{path}.delta", "not 0 when dividing")
        return {"operator": operator, "delta": delta}
    if kind == "update_fields":
        values = item.get("values")
        if not isinstance(values, Mapping) or not 1 <= len(values) <= MAX_FIELDS:
            errors.add(f"{path}.values", f"an object of 1 to {MAX_FIELDS} field aliases and values")
            return {"values": {}}
        clean = {}
        for alias, value in values.items():
            if not isinstance(alias, str) or not alias or len(alias) > 64:
                errors.add(f"{path}.values", "field aliases of 1 to 64 characters")
            elif value is not None and not isinstance(value, str | int | float | bool):
                errors.add(f"{path}.values", "plain values (text, numbers, true/false or null)")
            elif isinstance(value, str) and len(value) > MAX_TEXT:
                errors.add(f"{path}.values", f"values of at most {MAX_TEXT} characters")
            else:
                clean[alias] = value
        return {"values": clean}
    if kind == "do_not_contact":
        return {"channel": _choice(item.get("channel", "email"), ("email", "sms", "push"), errors, f"{path}.channel")}
    if kind == "exit":
        return {}
    if kind in MORE_ACTIONS:
        return _more_params(kind, item, errors, path)
    if kind == WEBHOOK:
        return _webhook_params(item, errors, path)
    if kind == "decision":
        return _decision(item, errors, path)
    if kind == "condition":
        return _condition(item, errors, path)
    return _delay(item, errors, path)


def _more_params(kind: str, item: Mapping, errors: _Errors, path: str) -> dict:
    """Return the checked parameters of change_stage, set_owner, notify_user and enter_campaign."""
    big = 2**63 - 1
    if kind == "change_stage":
        return {"stage_id": _int(item.get("stage_id"), errors, f"{path}.stage_id", high=big)}  # a stage: stages=
    if kind == "set_owner":
        return {"user_id": _int(item.get("user_id"), errors, f"{path}.user_id", high=big)}
    if kind == "notify_user":
        params: dict[str, Any] = {"user_id": _int(item.get("user_id"), errors, f"{path}.user_id", high=big)}
        params["subject"] = _text(item.get("subject", "A contact reached a campaign step"), errors,
                                  f"{path}.subject", limit=150)  # fmt: skip
        return params
    return {"campaign_id": _int(item.get("campaign_id"), errors, f"{path}.campaign_id", high=big)}


def _webhook_params(item: Mapping, errors: _Errors, path: str) -> dict:
    """A webhook: an https URL, a registered recipient and purpose (privacy centre), the contact fields sent."""
    url = item.get("url")
    params: dict[str, Any] = {"url": url.strip() if isinstance(url, str) else None}
    params["recipient_id"] = _int(item.get("recipient_id"), errors, f"{path}.recipient_id", high=2**63 - 1)
    params["purpose"] = _text(item.get("purpose"), errors, f"{path}.purpose", limit=64)
    fields = item.get("fields")
    if not isinstance(fields, list) or not 1 <= len(fields) <= MAX_FIELDS:
        errors.add(f"{path}.fields", f"a list of 1 to {MAX_FIELDS} field aliases")
        fields = []
    names = [_text(f, errors, f"{path}.fields", limit=64) for f in fields]
    params["fields"] = sorted({n for n in names if n})
    return params


def _webhook_urls(steps: list[dict], errors: _Errors, *, private_ok: bool) -> None:
    from tidings.campaigns.webhooks import url_problem

    messages = {"not_https": "an https:// address", "private_address": "an address on the internet, not a private "
                "or local one", "invalid_url": "a web address of at most 500 characters"}  # fmt: skip
    for index, step in enumerate(steps):
        if step.get("kind") == WEBHOOK:
            problem = url_problem(step.get("url"), resolve=False, private_ok=private_ok)
            if problem:
                errors.add(f"steps.{index}.url", messages.get(problem, messages["invalid_url"]))


def _goals(raw: Any, errors: _Errors) -> list[dict]:
    """Return the checked goals: reaching any of them ends the contact's enrolment (exit reason "goal")."""
    if not isinstance(raw, list) or len(raw) > MAX_GOALS:
        errors.add("goals", f"a list of at most {MAX_GOALS} goals")
        return []
    out = []
    big = 2**63 - 1
    for index, item in enumerate(raw):
        path = f"goals.{index}"
        if not isinstance(item, Mapping):
            errors.add(path, "an object with a kind")
            continue
        kind = _choice(item.get("kind"), GOAL_KINDS, errors, f"{path}.kind")
        if kind == "submitted_form":
            out.append({"kind": kind, "form_id": _int(item.get("form_id"), errors, f"{path}.form_id", high=big,
                                                      optional=True)})  # fmt: skip
        elif kind == "clicked_email":
            out.append({"kind": kind, "email_id": _int(item.get("email_id"), errors, f"{path}.email_id", high=big,
                                                       optional=True)})  # fmt: skip
        elif kind == "points_at_least":
            out.append({"kind": kind, "points": _int(item.get("points"), errors, f"{path}.points", low=-(2**31),
                                                     high=2**31 - 1)})  # fmt: skip
        elif kind == "has_tag":
            out.append({"kind": kind, "tag": _text(item.get("tag"), errors, f"{path}.tag", limit=MAX_TAG)})
    return out


def _decision(item: Mapping, errors: _Errors, path: str) -> dict:
    event = _choice(item.get("event"), DECISION_EVENTS, errors, f"{path}.event")
    params: dict[str, Any] = {"event": event}
    params["window_seconds"] = _int(item.get("window_seconds"), errors, f"{path}.window_seconds", low=60,
                                    high=MAX_SECONDS)  # fmt: skip
    if event in ("opened_email", "clicked_email", "replied_email"):
        params["email_id"] = _int(item.get("email_id"), errors, f"{path}.email_id", high=2**63 - 1, optional=True)
    elif event == "submitted_form":
        params["form_id"] = _int(item.get("form_id"), errors, f"{path}.form_id", high=2**63 - 1, optional=True)
    elif event == "visited_page":
        params["url_contains"] = _text(item.get("url_contains"), errors, f"{path}.url_contains", limit=200)
    elif event == "downloaded_asset":
        params["asset_id"] = _int(item.get("asset_id"), errors, f"{path}.asset_id", high=2**63 - 1, optional=True)
    elif event == "unsubscribed":
        params["email_id"] = _int(item.get("email_id"), errors, f"{path}.email_id", high=2**63 - 1, optional=True)
    return params


def _condition(item: Mapping, errors: _Errors, path: str) -> dict:
    test = _choice(item.get("test"), CONDITION_TESTS, errors, f"{path}.test")
    params: dict[str, Any] = {"test": test}
    if test == "field":
        params["field"] = _text(item.get("field"), errors, f"{path}.field", limit=64)
        operator = _choice(item.get("operator", "equals"), FIELD_OPERATORS, errors, f"{path}.operator")
        params["operator"] = operator
        if operator not in ("empty", "not_empty"):
            value = item.get("value")
            if isinstance(value, bool) or not isinstance(value, str | int | float) or len(str(value)) > MAX_TEXT:
                errors.add(f"{path}.value", f"a text or number of at most {MAX_TEXT} characters")
            params["value"] = value
    elif test == "tag":
        params["tag"] = _text(item.get("tag"), errors, f"{path}.tag", limit=MAX_TAG)
    elif test == "segment":
        params["segment_id"] = _int(item.get("segment_id"), errors, f"{path}.segment_id", high=2**63 - 1)
    elif test == "consent":
        params["purpose"] = _text(item.get("purpose"), errors, f"{path}.purpose", limit=64)
    elif test in ("points", "device", "time"):
        params.update(_condition_more(test, item, errors, path))
    return params


def _condition_more(test: str, item: Mapping, errors: _Errors, path: str) -> dict:
    """Check a condition on points (gte, lte, equals, between), on device, or on the contact's local time."""
    if test == "points":
        operator = _choice(item.get("operator", "gte"), POINTS_TESTS, errors, f"{path}.operator")
        low = -(2**31)
        params: dict[str, Any] = {
            "operator": operator,
            "value": _int(item.get("value"), errors, f"{path}.value", low=low, high=2**31 - 1),
        }
        if operator == "between":
            params["value_to"] = _int(item.get("value_to"), errors, f"{path}.value_to", low=low, high=2**31 - 1)
            if params["value"] is not None and params["value_to"] is not None and params["value_to"] < params["value"]:
                errors.add(f"{path}.value_to", "at least the lower bound")
        return params  # fmt: skip
    if test == "device":
        device = item.get("device")
        if device is not None and device not in DEVICE_TYPES:
            errors.add(f"{path}.device", f"one of {', '.join(DEVICE_TYPES)}, or none")
            device = None
        os = _text(item.get("os"), errors, f"{path}.os", limit=MAX_OS, optional=True)
        if item.get("device") is None and item.get("os") is None:
            errors.add(f"{path}.device", "a device type, an operating system or both")
        return {"device": device, "os": os}
    return _hours_and_days(item, errors, path)


def _hours_and_days(item: Mapping, errors: _Errors, path: str) -> dict:
    """Check start_hour, end_hour, weekdays and the fallback timezone (a delay's window, a time condition)."""
    start = _int(item.get("start_hour", 9), errors, f"{path}.start_hour", low=0, high=23)
    end = _int(item.get("end_hour", 17), errors, f"{path}.end_hour", low=1, high=24)
    if start is not None and end is not None and start >= end:
        errors.add(f"{path}.end_hour", "later than start_hour")
    weekdays = item.get("weekdays", [0, 1, 2, 3, 4])
    days_ok = isinstance(weekdays, list) and bool(weekdays)
    if not days_ok or any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in weekdays):
        errors.add(f"{path}.weekdays", "a list of days, 0 (Monday) to 6 (Sunday)")
        weekdays = []
    return {"start_hour": start, "end_hour": end, "weekdays": sorted(set(weekdays)),
            "timezone": _zone(item.get("timezone", "UTC"), errors, f"{path}.timezone")}  # fmt: skip


def _delay(item: Mapping, errors: _Errors, path: str) -> dict:
    mode = _choice(item.get("mode"), DELAY_MODES, errors, f"{path}.mode")
    params: dict[str, Any] = {"mode": mode}
    if mode == "interval":
        params["seconds"] = _int(item.get("seconds"), errors, f"{path}.seconds", low=1, high=MAX_SECONDS)
    elif mode == "until":
        raw = item.get("until")
        try:
            moment = datetime.datetime.fromisoformat(raw) if isinstance(raw, str) and len(raw) <= 40 else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            errors.add(f"{path}.until", "a date and time with its offset (ISO 8601, 2027-01-31T09:00:00+00:00)")
        params["until"] = moment.isoformat() if moment is not None and moment.tzinfo is not None else None
    elif mode == "field":
        params["field"] = _text(item.get("field"), errors, f"{path}.field", limit=64)
        params["offset_days"] = _int(item.get("offset_days", 0), errors, f"{path}.offset_days", low=-366, high=366)
        params["hour"] = _int(item.get("hour", 9), errors, f"{path}.hour", low=0, high=23)
        params["timezone"] = _zone(item.get("timezone", "UTC"), errors, f"{path}.timezone")
    elif mode == "window":
        params.update(_hours_and_days(item, errors, path))
    return params


def _zone(raw: Any, errors: _Errors, path: str) -> str | None:
    if isinstance(raw, str) and 0 < len(raw) <= 64:
        try:
            zoneinfo.ZoneInfo(raw)
            return raw
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    errors.add(path, "a time zone name such as Europe/Paris")
    return None


def successors(step: Mapping) -> list[tuple[str, int]]:
    """Return [(edge name, step id)] of step's outgoing edges (next, or yes and no)."""
    names = ("yes", "no") if step["kind"] in BRANCHING else ("next",)
    return [(name, step[name]) for name in names if step.get(name) is not None]


def _edges(steps: list[dict], errors: _Errors) -> None:
    ids = {s["id"] for s in steps}
    for index, step in enumerate(steps):
        for name, target in successors(step):
            if target not in ids:
                errors.add(f"steps.{index}.{name}", "leads to a step that does not exist")
            elif target == step["id"]:
                errors.add(f"steps.{index}.{name}", "leads back to the same step")


def _waits(step: Mapping) -> bool:
    """Whether walking through step always waits (an interval delay): a loop needs one."""
    return step["kind"] == "delay" and step.get("mode") == "interval"


def _loops(steps: list[dict], errors: _Errors) -> None:
    """Refuse a cycle that goes through no interval delay: it would walk forever without waiting."""
    by_id = {s["id"]: s for s in steps}
    index_of = {s["id"]: i for i, s in enumerate(steps)}
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    for root in by_id:
        if state.get(root) or _waits(by_id[root]):
            continue
        stack: list[tuple[int, list[int]]] = [(root, [t for _, t in successors(by_id[root])])]
        path = [root]
        state[root] = 1
        while stack:
            node, todo = stack[-1]
            if not todo:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            target = todo.pop()
            if _waits(by_id[target]) or state.get(target) == 2:
                continue
            if state.get(target) == 1:
                loop = path[path.index(target) :]
                named = ", ".join(str(s) for s in loop)
                errors.add(f"steps.{index_of[target]}", f"a loop through steps {named} has no interval delay")
                return
            state[target] = 1
            path.append(target)
            stack.append((target, [t for _, t in successors(by_id[target])]))


def _references(graph: dict, errors: _Errors, *, emails: Exists, segments: Exists, forms: Exists,
                assets: Exists = _none) -> None:  # fmt: skip
    """Check that every email, segment, form and asset the graph names exists in the workspace."""
    wanted: dict[str, list[tuple[str, int]]] = {"email": [], "segment": [], "form": [], "asset": []}
    for index, source in enumerate(graph["sources"]):
        if source["kind"] == "segment":
            wanted["segment"].append((f"sources.{index}.segment_id", source["segment_id"]))
        elif source["kind"] == "form":
            wanted["form"].append((f"sources.{index}.form_id", source["form_id"]))
    for index, step in enumerate(graph["steps"]):
        for key, kind in (("email_id", "email"), ("segment_id", "segment"), ("form_id", "form"), ("asset_id", "asset")):
            if step.get(key) is not None:
                wanted[kind].append((f"steps.{index}.{key}", step[key]))
    messages = {"email": "a template email of this workspace", "segment": "a segment of this workspace",
                "form": "a form of this workspace", "asset": "an asset of this workspace"}  # fmt: skip
    for kind, exists in (("email", emails), ("segment", segments), ("form", forms), ("asset", assets)):
        if not wanted[kind]:
            continue
        found = exists({i for _, i in wanted[kind]})
        for path, ident in wanted[kind]:
            if ident not in found:
                errors.add(path, messages[kind])


def _more_references(graph: dict, errors: _Errors, *, emails: Exists, forms: Exists, members: Exists,
                     campaigns: Exists, recipients: Exists, stages: Exists = _none) -> None:  # fmt: skip
    """Check the members, campaigns, stages, forms and emails that the newer actions and the goals name."""
    wanted: dict[str, list[tuple[str, int]]] = {"member": [], "campaign": [], "form": [], "email": [],
                                                "recipient": [], "stage": []}  # fmt: skip
    for index, step in enumerate(graph["steps"]):
        if step["kind"] in ("set_owner", "notify_user") and step.get("user_id") is not None:
            wanted["member"].append((f"steps.{index}.user_id", step["user_id"]))
        elif step["kind"] == "change_stage" and step.get("stage_id") is not None:
            wanted["stage"].append((f"steps.{index}.stage_id", step["stage_id"]))
        elif step["kind"] == "enter_campaign" and step.get("campaign_id") is not None:
            wanted["campaign"].append((f"steps.{index}.campaign_id", step["campaign_id"]))
        elif step["kind"] == WEBHOOK and step.get("recipient_id") is not None:
            wanted["recipient"].append((f"steps.{index}.recipient_id", step["recipient_id"]))
    for index, goal in enumerate(graph.get("goals", [])):
        for key, kind in (("form_id", "form"), ("email_id", "email")):
            if goal.get(key) is not None:
                wanted[kind].append((f"goals.{index}.{key}", goal[key]))
    messages = {"member": "a member of this workspace", "campaign": "another campaign of this workspace",
                "form": "a form of this workspace", "email": "a template email of this workspace",
                "recipient": "an active recipient in this workspace's privacy register",
                "stage": "a stage of this workspace"}  # fmt: skip
    for kind, exists in (("member", members), ("campaign", campaigns), ("form", forms), ("email", emails),
                         ("recipient", recipients), ("stage", stages)):  # fmt: skip
        if wanted[kind]:
            found = exists({i for _, i in wanted[kind]})
            for path, ident in wanted[kind]:
                if ident not in found:
                    errors.add(path, messages[kind])


def step_map(graph: Mapping) -> dict[int, dict]:
    """Return the graph's steps by id."""
    return {int(s["id"]): s for s in graph.get("steps", [])}


def segment_sources(graph: Mapping) -> list[int]:
    return [int(s["segment_id"]) for s in graph.get("sources", []) if s["kind"] == "segment"]


def form_sources(graph: Mapping) -> list[int]:
    return [int(s["form_id"]) for s in graph.get("sources", []) if s["kind"] == "form"]
