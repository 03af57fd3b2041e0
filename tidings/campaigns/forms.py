"""The campaign pages' forms: a campaign's name, a source, the entry rules and one form per kind of step.

The forms only parse; the graph's rules are graph.check's (through the actions), whose errors come back
keyed by path and are put on the field they name (StepForm.add_graph_errors).
"""

from __future__ import annotations

from typing import Any

from django import forms

from tidings.campaigns import graph as graphs
from tidings.campaigns.selectors_ui import KIND_LABELS

UNITS = (("60", "minutes"), ("3600", "hours"), ("86400", "days"))
WEEKDAYS = [(str(i), day) for i, day in enumerate(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                                    "Saturday", "Sunday"))]  # fmt: skip

# Which of StepForm's fields each kind shows (the template renders these only).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "send_email": ("email_id",),
    "add_tags": ("tags",),
    "remove_tags": ("tags",),
    "add_to_segment": ("segment_id",),
    "remove_from_segment": ("segment_id",),
    "change_points": ("operator", "delta"),
    "update_fields": ("field", "value"),
    "do_not_contact": ("channel",),
    "exit": (),
    "decision": ("event", "window_amount", "window_unit", "email_id", "form_id", "url_contains", "asset_id"),
    "condition": (
        "test",
        "field",
        "field_operator",
        "value",
        "tag",
        "segment_id",
        "purpose",
        "points_operator",
        "points_value",
        "points_to",
        "device",
        "os",
        "start_hour",
        "end_hour",
        "weekdays",
        "timezone",
    ),
    "delay": (
        "mode",
        "amount",
        "unit",
        "until",
        "field",
        "offset_days",
        "hour",
        "start_hour",
        "end_hour",
        "weekdays",
        "timezone",
    ),  # fmt: skip
    "change_stage": ("stage_id",),
    "set_owner": ("user_id",),
    "notify_user": ("user_id", "subject"),
    "enter_campaign": ("campaign_id",),
    "call_webhook": ("url", "recipient_id", "purpose", "webhook_fields"),
}


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=191)
    description = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    max_steps_per_minute = forms.IntegerField(
        label="At most this many steps a minute", required=False, min_value=1, max_value=1_000_000,
        help_text="Slows this campaign down (e.g. for a webhook or a small mail quota); empty: no limit.",
    )  # fmt: skip


class SourceForm(forms.Form):
    kind = forms.ChoiceField(
        label="Contacts enter from",
        choices=[("segment", "Joining a segment"), ("form", "Submitting a form"), ("manual", "Added by hand"),
                 ("api", "The API")],
    )  # fmt: skip
    segment_id = forms.ChoiceField(label="Segment", required=False)
    form_id = forms.ChoiceField(label="Form", required=False)

    def __init__(self, *args, choices: dict, **kwargs):
        super().__init__(*args, **kwargs)
        _set_choices(self, "segment_id", [("", "—")] + choices["segments"])
        _set_choices(self, "form_id", [("", "—")] + choices["forms"])

    def source(self) -> dict:
        kind = self.cleaned_data["kind"]
        if kind == "segment":
            return {"kind": kind, "segment_id": _int(self.cleaned_data.get("segment_id"))}
        if kind == "form":
            return {"kind": kind, "form_id": _int(self.cleaned_data.get("form_id"))}
        return {"kind": kind}


class EntryForm(forms.Form):
    mode = forms.ChoiceField(label="A contact enters", choices=[("once", "Once"), ("repeat", "Again after leaving")])
    min_gap_hours = forms.IntegerField(label="Hours between entries", min_value=0, max_value=366 * 24, required=False,
                                       help_text="When contacts may enter again.")  # fmt: skip
    exit_on_segment_leave = forms.BooleanField(label="Leave the campaign when no longer in a source segment",
                                               required=False)  # fmt: skip

    def values(self) -> dict:
        data = self.cleaned_data
        entry: dict[str, Any] = {"mode": data["mode"]}
        if data["mode"] == "repeat":
            entry["min_gap_seconds"] = (data.get("min_gap_hours") or 0) * 3600
        return {"entry": entry, "exit_on_segment_leave": bool(data.get("exit_on_segment_leave"))}


class KindForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of step", choices=list(KIND_LABELS.items()))


def _set_choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def _int(raw: Any) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _condition_more(test: str, data: dict) -> dict:
    """Return a points, device or time condition's settings from the form's cleaned data."""
    if test == "points":
        out: dict[str, Any] = {"operator": data.get("points_operator") or "gte", "value": data.get("points_value")}
        if out["operator"] == "between":
            out["value_to"] = data.get("points_to")
        return out
    if test == "device":
        return {"device": data.get("device") or None, "os": (data.get("os") or "").strip() or None}
    return {"start_hour": data.get("start_hour") if data.get("start_hour") is not None else 9,
            "end_hour": data.get("end_hour") or 17, "weekdays": [int(d) for d in data.get("weekdays") or []],
            "timezone": data.get("timezone") or "UTC"}  # fmt: skip


class StepForm(forms.Form):
    """Every setting a step may have; KIND_FIELDS says which a kind shows and params() which it sends."""

    name = forms.CharField(label="Label (optional)", max_length=191, required=False)
    email_id = forms.ChoiceField(label="Email", required=False)
    tags = forms.CharField(label="Tags", max_length=2000, required=False, help_text="Separated by commas.",
                           widget=forms.TextInput(attrs={"list": "campaign-tags"}))  # fmt: skip
    segment_id = forms.ChoiceField(label="Segment", required=False)
    form_id = forms.ChoiceField(label="Form", required=False)
    operator = forms.ChoiceField(label="Operation", required=False, choices=[(o, o) for o in graphs.POINTS_OPERATORS])
    delta = forms.IntegerField(label="Points", required=False, min_value=-(2**31), max_value=2**31 - 1)
    channel = forms.ChoiceField(label="Channel", required=False, choices=[("email", "email"), ("sms", "SMS"),
                                                                           ("push", "push")])  # fmt: skip
    event = forms.ChoiceField(label="The contact has", required=False, choices=[
        ("opened_email", "opened an email"), ("clicked_email", "clicked in an email"),
        ("submitted_form", "submitted a form"), ("visited_page", "visited a page"),
        ("downloaded_asset", "downloaded an asset"), ("unsubscribed", "unsubscribed from email"),
        ("replied_email", "replied to an email")])  # fmt: skip
    window_amount = forms.IntegerField(label="Within", required=False, min_value=1, max_value=366 * 24 * 60)
    window_unit = forms.ChoiceField(label="Unit of the wait", required=False, choices=UNITS, initial="86400")
    url_contains = forms.CharField(label="Page address contains", required=False, max_length=200)
    test = forms.ChoiceField(label="Test", required=False, choices=[("field", "a field's value"),
                             ("tag", "a tag"), ("segment", "a segment"), ("consent", "a consent"),
                             ("points", "the contact's points"), ("device", "the device last seen"),
                             ("time", "the contact's local time and day")])  # fmt: skip
    # Conditions on points, device and local time (the time condition shares the window's hours and days).
    points_operator = forms.ChoiceField(label="Points are", required=False, choices=[
        ("gte", "at least"), ("lte", "at most"), ("equals", "exactly"), ("between", "between")])  # fmt: skip
    points_value = forms.IntegerField(label="Points", required=False, min_value=-(2**31), max_value=2**31 - 1)
    points_to = forms.IntegerField(label="And (for between)", required=False, min_value=-(2**31),
                                   max_value=2**31 - 1)  # fmt: skip
    device = forms.ChoiceField(label="Device type", required=False, choices=[("", "any"), *(
        (d, d) for d in graphs.DEVICE_TYPES)])  # fmt: skip
    os = forms.CharField(label="Operating system", required=False, max_length=graphs.MAX_OS,
                         help_text="As tracking names it, for example iOS, Android, Windows, Mac OS X.")  # fmt: skip
    asset_id = forms.ChoiceField(label="Asset", required=False, help_text="Any asset when none is chosen.")
    field = forms.ChoiceField(label="Field", required=False)
    field_operator = forms.ChoiceField(label="Comparison", required=False,
                                       choices=[(o, o.replace("_", " ")) for o in graphs.FIELD_OPERATORS])  # fmt: skip
    value = forms.CharField(label="Value", required=False, max_length=500)
    tag = forms.ChoiceField(label="Tag", required=False)
    purpose = forms.ChoiceField(label="Consent purpose", required=False)
    mode = forms.ChoiceField(label="Wait", required=False, choices=[("interval", "for a while"),
                             ("until", "until a date"), ("field", "until a date field of the contact"),
                             ("window", "for a time window")])  # fmt: skip
    amount = forms.IntegerField(label="For", required=False, min_value=1, max_value=366 * 24 * 60)
    unit = forms.ChoiceField(label="Unit", required=False, choices=UNITS, initial="86400")
    until = forms.CharField(label="Until (ISO 8601 with offset)", required=False, max_length=40,
                            help_text="For example 2027-01-31T09:00:00+00:00.")  # fmt: skip
    offset_days = forms.IntegerField(label="Days from the date", required=False, min_value=-366, max_value=366)
    hour = forms.IntegerField(label="At hour", required=False, min_value=0, max_value=23)
    start_hour = forms.IntegerField(label="From hour", required=False, min_value=0, max_value=23)
    end_hour = forms.IntegerField(label="To hour", required=False, min_value=1, max_value=24)
    weekdays = forms.MultipleChoiceField(label="On days", required=False, choices=WEEKDAYS,
                                         widget=forms.CheckboxSelectMultiple)  # fmt: skip
    timezone = forms.CharField(label="Time zone", required=False, max_length=64, initial="UTC",
                               help_text="For contacts without a time zone of their own.")  # fmt: skip
    # change_stage, set_owner, notify_user, enter_campaign
    stage_id = forms.ChoiceField(label="Stage", required=False, help_text="Stages are listed in Settings › Stages.")
    user_id = forms.ChoiceField(label="Member", required=False)
    subject = forms.CharField(label="Subject of the notice", required=False, max_length=150,
                              help_text="The member gets this subject and a link to each contact's page.")  # fmt: skip
    campaign_id = forms.ChoiceField(label="Campaign", required=False,
                                    help_text="Its own entry rules apply: a contact already in it, or who may "
                                              "not enter again yet, stays out.")  # fmt: skip
    # call_webhook
    url = forms.CharField(label="Address (https://)", required=False, max_length=500)
    recipient_id = forms.ChoiceField(label="Recipient in the privacy register", required=False,
                                     help_text="Only contacts whose consent allows the purpose are sent, and only "
                                               "the data categories registered for the recipient.")  # fmt: skip
    webhook_fields = forms.MultipleChoiceField(label="Fields sent", required=False,
                                               widget=forms.CheckboxSelectMultiple)  # fmt: skip

    def __init__(self, *args, kind: str, choices: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        none = [("", "—")]
        _set_choices(self, "email_id", none + choices["emails"])
        _set_choices(self, "segment_id", none + choices["segments"])
        _set_choices(self, "form_id", none + choices["forms"])
        _set_choices(self, "field", none + choices["fields"])
        _set_choices(self, "tag", none + choices["tags"])
        _set_choices(self, "purpose", none + choices["purposes"])
        _set_choices(self, "asset_id", none + choices.get("assets", []))
        _set_choices(self, "user_id", none + choices.get("members", []))
        _set_choices(self, "campaign_id", none + choices.get("campaigns", []))
        _set_choices(self, "stage_id", none + choices.get("stages", []))
        _set_choices(self, "recipient_id", none + choices.get("recipients", []))
        _set_choices(self, "webhook_fields", choices["fields"])
        if kind == "decision":
            self.fields["email_id"].help_text = "Any email when none is chosen."
            self.fields["form_id"].help_text = "Any form when none is chosen."
        shown = {"name", *KIND_FIELDS.get(kind, ())}
        for name in list(self.fields):
            if name not in shown:
                del self.fields[name]

    @classmethod
    def initial_from(cls, step: dict) -> dict:
        """Return the form's initial values for an existing step."""
        initial: dict[str, Any] = {k: v for k, v in step.items() if k not in ("values", "tags", "operator")}
        if step.get("kind") == "condition" and step.get("test") == "points":
            initial.update(points_operator=step.get("operator"), points_value=step.get("value"),
                           points_to=step.get("value_to"))  # fmt: skip
        elif step.get("kind") == "condition":
            initial["field_operator"] = step.get("operator")
        elif "operator" in step:
            initial["operator"] = step["operator"]
        if "tags" in step:
            initial["tags"] = ", ".join(step["tags"])
        if step.get("values"):
            alias, value = next(iter(step["values"].items()))
            initial.update(field=alias, value="" if value is None else value)
        for seconds_key, amount, unit in (("seconds", "amount", "unit"), ("window_seconds", "window_amount",
                                                                         "window_unit")):  # fmt: skip
            seconds = step.get(seconds_key)
            if seconds:
                size = next((s for s in (86400, 3600, 60) if seconds % s == 0), 60)
                initial[amount], initial[unit] = seconds // size, str(size)
        if "weekdays" in step:
            initial["weekdays"] = [str(d) for d in step["weekdays"]]
        if step.get("kind") == graphs.WEBHOOK:
            initial["webhook_fields"] = list(step.get("fields", []))
        return initial

    def params(self) -> dict:
        """Return the step's settings as the graph writes them (graph.check has the last word)."""
        data = self.cleaned_data
        kind = self.kind
        out: dict[str, Any] = {"kind": kind}
        if data.get("name"):
            out["name"] = data["name"]
        if kind == "send_email":
            out["email_id"] = _int(data.get("email_id"))
        elif kind in ("add_tags", "remove_tags"):
            out["tags"] = [t.strip() for t in (data.get("tags") or "").split(",") if t.strip()]
        elif kind in ("add_to_segment", "remove_from_segment"):
            out["segment_id"] = _int(data.get("segment_id"))
        elif kind == "change_points":
            out.update(operator=data.get("operator") or "plus", delta=data.get("delta"))
        elif kind == "update_fields":
            out["values"] = {data["field"]: data.get("value", "")} if data.get("field") else {}
        elif kind == "do_not_contact":
            out["channel"] = data.get("channel") or "email"
        elif kind == "decision":
            out["event"] = data.get("event")
            amount = data.get("window_amount")
            out["window_seconds"] = amount * int(data.get("window_unit") or 86400) if amount else None
            if out["event"] in ("opened_email", "clicked_email", "replied_email"):
                out["email_id"] = _int(data.get("email_id"))
            elif out["event"] == "submitted_form":
                out["form_id"] = _int(data.get("form_id"))
            elif out["event"] == "visited_page":
                out["url_contains"] = data.get("url_contains")
            elif out["event"] == "downloaded_asset":
                out["asset_id"] = _int(data.get("asset_id"))
            elif out["event"] == "unsubscribed":
                out["email_id"] = _int(data.get("email_id"))
        elif kind == "condition":
            test = data.get("test")
            out["test"] = test
            if test == "field":
                out.update(field=data.get("field"), operator=data.get("field_operator") or "equals",
                           value=data.get("value", ""))  # fmt: skip
            elif test == "tag":
                out["tag"] = data.get("tag")
            elif test == "segment":
                out["segment_id"] = _int(data.get("segment_id"))
            elif test == "consent":
                out["purpose"] = data.get("purpose")
            elif test in ("points", "device", "time"):
                out.update(_condition_more(test, data))
        elif kind in graphs.MORE_ACTIONS:
            out.update(self._more_params(kind, data))
        elif kind == graphs.WEBHOOK:
            out.update(url=(data.get("url") or "").strip(), recipient_id=_int(data.get("recipient_id")),
                       purpose=data.get("purpose"), fields=list(data.get("webhook_fields") or []))  # fmt: skip
        elif kind == "delay":
            mode = data.get("mode")
            out["mode"] = mode
            if mode == "interval":
                amount = data.get("amount")
                out["seconds"] = amount * int(data.get("unit") or 86400) if amount else None
            elif mode == "until":
                out["until"] = data.get("until")
            elif mode == "field":
                out.update(field=data.get("field"), offset_days=data.get("offset_days") or 0,
                           hour=data.get("hour") if data.get("hour") is not None else 9,
                           timezone=data.get("timezone") or "UTC")  # fmt: skip
            elif mode == "window":
                out.update(start_hour=data.get("start_hour") if data.get("start_hour") is not None else 9,
                           end_hour=data.get("end_hour") or 17, weekdays=[int(d) for d in data.get("weekdays") or []],
                           timezone=data.get("timezone") or "UTC")  # fmt: skip
        return out

    @staticmethod
    def _more_params(kind: str, data: dict) -> dict:
        """The settings of change_stage, set_owner, notify_user and enter_campaign."""
        if kind == "change_stage":
            return {"stage_id": _int(data.get("stage_id"))}
        if kind == "enter_campaign":
            return {"campaign_id": _int(data.get("campaign_id"))}
        out: dict[str, Any] = {"user_id": _int(data.get("user_id"))}
        if kind == "notify_user" and data.get("subject"):
            out["subject"] = data["subject"]
        return out

    # graph.check's names for a step's keys -> this form's fields
    _FIELD_OF = {"seconds": "amount", "window_seconds": "window_amount", "values": "field", "operator": "operator",
                 "weekdays": "weekdays", "fields": "webhook_fields"}  # fmt: skip

    def add_graph_errors(self, messages: dict[str, list[str]]) -> None:
        """Put errors of this step ("keyword: message", from builder.step_errors) on the fields they name."""
        for key, texts in messages.items():
            name = self._FIELD_OF.get(key, key)
            if (
                self.kind == "condition"
                and key in ("operator", "value", "value_to")
                and self.data.get("test") == "points"
            ):
                name = {"operator": "points_operator", "value": "points_value", "value_to": "points_to"}[key]
            elif self.kind == "condition" and key == "operator":
                name = "field_operator"
            self.add_error(name if name in self.fields else None, texts)


class GoalForm(forms.Form):
    """One goal: reaching it ends the contact's walk wherever it waits (graph.check has the last word)."""

    kind = forms.ChoiceField(label="The contact", choices=[
        ("submitted_form", "submitted a form"), ("clicked_email", "clicked in an email"),
        ("points_at_least", "reached a number of points"), ("has_tag", "has a tag")])  # fmt: skip
    form_id = forms.ChoiceField(label="Form", required=False, help_text="Any form when none is chosen.")
    email_id = forms.ChoiceField(label="Email", required=False, help_text="Any email when none is chosen.")
    points = forms.IntegerField(label="Points at least", required=False, min_value=-(2**31), max_value=2**31 - 1)
    tag = forms.ChoiceField(label="Tag", required=False)

    def __init__(self, *args, choices: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for name, key in (("form_id", "forms"), ("email_id", "emails"), ("tag", "tags")):
            _set_choices(self, name, [("", "—")] + choices[key])

    def goal(self) -> dict:
        data = self.cleaned_data
        kind = data["kind"]
        if kind == "submitted_form":
            return {"kind": kind, "form_id": _int(data.get("form_id"))}
        if kind == "clicked_email":
            return {"kind": kind, "email_id": _int(data.get("email_id"))}
        if kind == "points_at_least":
            return {"kind": kind, "points": data.get("points")}
        return {"kind": kind, "tag": data.get("tag") or None}
