"""The builder's Django forms: a form's settings, one field, one submit action. The actions check everything."""

from __future__ import annotations

from django import forms

from tidings.forms.models import ActionKind, FieldKind


class FormSettingsForm(forms.Form):
    name = forms.CharField(max_length=191)
    alias = forms.CharField(
        max_length=64,
        required=False,
        help_text="Used in the embed code; made from the name when left empty (a-z, 0-9, - and _).",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)
    published = forms.BooleanField(required=False, help_text="Only a published form can be submitted.")
    success_message = forms.CharField(max_length=500, required=False,
                                      help_text="Shown after a submission; a default thanks the person.")  # fmt: skip
    redirect_url = forms.CharField(
        max_length=500, required=False, label="Redirect address",
        help_text="Send the person there after a submission instead (http:// or https://).",
    )  # fmt: skip

    @classmethod
    def for_form(cls, form) -> FormSettingsForm:
        return cls(initial={name: getattr(form, name) for name in cls.base_fields})


class FieldForm(forms.Form):
    kind = forms.ChoiceField(choices=FieldKind.choices)
    label = forms.CharField(max_length=500, required=False, help_text="For a consent box: the exact wording shown.")
    alias = forms.CharField(max_length=64, required=False, help_text="Made from the label when left empty.")
    help = forms.CharField(max_length=500, required=False, label="Help text")
    required = forms.BooleanField(required=False)
    default = forms.CharField(max_length=1000, required=False, label="Default value")
    options = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                              help_text="Lists and groups: one option a line, as value or value|label.")  # fmt: skip
    maps_to = forms.ChoiceField(required=False, label="Fills the contact field")
    progressive = forms.BooleanField(
        required=False,
        label="Skip when the contact's value is known",
        help_text="Progressive profiling: only for a visitor already identified.",
    )
    purpose = forms.ChoiceField(required=False, label="Consent purpose", help_text="For a consent checkbox.")
    html = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Free text or HTML",
                           help_text="Cleaned on save: no scripts, styles or event handlers.")  # fmt: skip
    min_length = forms.IntegerField(required=False, min_value=0, label="Minimum length")
    max_length = forms.IntegerField(required=False, min_value=0, label="Maximum length")
    pattern = forms.CharField(max_length=200, required=False, help_text="A regular expression the answer must match.")
    min = forms.IntegerField(required=False, label="Smallest number")
    max = forms.IntegerField(required=False, label="Largest number")

    def __init__(self, *args, contact_fields=(), purposes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["maps_to"].choices = [("", "None")] + list(contact_fields)  # type: ignore[attr-defined]
        self.fields["purpose"].choices = [("", "None")] + list(purposes)  # type: ignore[attr-defined]

    def field_values(self, field_id: int | None = None) -> dict:
        data = self.cleaned_data
        rules = {name: data[name] for name in ("min_length", "max_length", "pattern", "min", "max")
                 if data.get(name) not in (None, "")}  # fmt: skip
        values = {name: data.get(name) for name in ("kind", "label", "alias", "help", "required", "default", "maps_to",
                                                     "progressive", "purpose", "html")}  # fmt: skip
        values["options"] = data.get("options") or []
        values["rules"] = rules
        if field_id is not None:
            values["id"] = field_id
        return values

    @classmethod
    def initial_of(cls, field: dict) -> dict:
        initial = {name: field.get(name) for name in ("kind", "label", "alias", "help", "required", "default",
                                                      "maps_to", "progressive", "purpose", "html")}  # fmt: skip
        initial["options"] = "\n".join(f"{o['value']}|{o['label']}" for o in field.get("options") or [])
        initial.update(field.get("rules") or {})
        return initial


class ActionForm(forms.Form):
    kind = forms.ChoiceField(choices=ActionKind.choices, label="Action")
    segment_id = forms.ChoiceField(required=False, label="Segment")
    tags = forms.CharField(required=False, max_length=2000, help_text="Tag names, separated by commas.")
    delta = forms.IntegerField(required=False, label="Points", help_text="Negative to take points away.")
    member_ids = forms.MultipleChoiceField(required=False, label="Members to notify",
                                           widget=forms.CheckboxSelectMultiple)  # fmt: skip
    purpose = forms.ChoiceField(required=False, label="Purpose confirmed by the double opt-in")
    subject = forms.CharField(required=False, max_length=200, label="Confirmation email subject")
    email_id = forms.ChoiceField(required=False, label="Email to send (a template email)")

    def __init__(self, *args, segments=(), members=(), purposes=(), emails=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email_id"].choices = [("", "None")] + list(emails)  # type: ignore[attr-defined]
        self.fields["segment_id"].choices = [("", "None")] + list(segments)  # type: ignore[attr-defined]
        self.fields["member_ids"].choices = list(members)  # type: ignore[attr-defined]
        self.fields["purpose"].choices = list(purposes)  # type: ignore[attr-defined]

    def action_values(self) -> dict:
        data = self.cleaned_data
        kind = data["kind"]
        keys = {
            ActionKind.SEGMENT_ADD: ["segment_id"], ActionKind.SEGMENT_REMOVE: ["segment_id"],
            ActionKind.TAGS_ADD: ["tags"], ActionKind.TAGS_REMOVE: ["tags"], ActionKind.POINTS: ["delta"],
            ActionKind.NOTIFY: ["member_ids"], ActionKind.DOUBLE_OPT_IN: ["purpose", "subject"],
            ActionKind.SEND_EMAIL: ["email_id"],
        }.get(kind, [])  # fmt: skip
        return {"kind": kind, **{key: data.get(key) for key in keys}}
