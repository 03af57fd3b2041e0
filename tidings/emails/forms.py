"""The email editor's forms; values are checked by tidings.emails.actions.authoring (one place for the rules)."""

from __future__ import annotations

from django import forms

from tidings.emails import content
from tidings.emails.models import AbCriterion, Editor, EmailKind

CHOICE_ERRORS = {"invalid_choice": "Choose one of the options."}
SETTINGS = ("name", "subject", "preheader", "from_name", "from_address", "reply_to", "kind", "transactional",
            "purpose_key", "segment_ids", "published", "variant_weight")  # fmt: skip


class EmailForm(forms.Form):
    name = forms.CharField(max_length=191, required=False, help_text="For you; recipients never see it. Left "
                           "empty, it is the subject.")  # fmt: skip
    subject = forms.CharField(max_length=255, help_text="Tokens work here: {contactfield=firstname|there}.")
    preheader = forms.CharField(max_length=255, required=False, help_text="The line inboxes show after the subject.")
    from_name = forms.CharField(max_length=191, required=False, label="From name")
    from_address = forms.CharField(max_length=254, required=False, label="From address",
                                   help_text="Empty: the workspace's sending address.")  # fmt: skip
    reply_to = forms.CharField(max_length=254, required=False, label="Reply-to address")
    kind = forms.ChoiceField(choices=EmailKind.choices, widget=forms.RadioSelect, error_messages=CHOICE_ERRORS,
                             initial=EmailKind.TEMPLATE)  # fmt: skip
    transactional = forms.BooleanField(required=False, label="Transactional (a receipt, a password link: sent "
                                       "under the contract, not marketing consent)")  # fmt: skip
    purpose_key = forms.ChoiceField(label="Purpose", error_messages=CHOICE_ERRORS, initial="marketing_email",
                                    help_text="The consent purpose this email serves; only contacts who allow it "
                                    "receive it.")  # fmt: skip
    segment_ids = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        label="Segments (broadcasts)",
        widget=forms.CheckboxSelectMultiple,
        error_messages=CHOICE_ERRORS,
    )
    published = forms.BooleanField(required=False, label="Published", help_text="Only published emails are sent.")
    variant_weight = forms.IntegerField(
        min_value=0,
        max_value=100,
        required=False,
        label="Share of the A/B test group (%)",
        help_text="With variants: the share of the audience that gets this email during the test. The shares of "
        "the email and its variants add up to at most 100%; the rest gets the winner.",
    )

    def __init__(self, *args, purposes=(), segments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose_key"].choices = list(purposes)  # type: ignore[attr-defined]
        self.fields["segment_ids"].choices = list(segments)  # type: ignore[attr-defined]

    def values(self) -> dict:
        values = {name: self.cleaned_data.get(name) for name in SETTINGS if name in self.cleaned_data}
        if values.get("variant_weight") is None:
            values.pop("variant_weight", None)  # left empty: unchanged
        if not values.get("name"):
            values["name"] = (values.get("subject") or "")[:191]  # left empty: the subject, as when created
        return values


class NewEmailForm(EmailForm):
    variant_weight = None  # type: ignore[assignment]  # a new email has no variants: its share is set later
    editor = forms.ChoiceField(choices=Editor.choices, widget=forms.RadioSelect, initial=Editor.BUILDER,
                               error_messages=CHOICE_ERRORS, label="Edit with")  # fmt: skip
    theme = forms.ChoiceField(choices=[(t.key, f"{t.name}: {t.description}") for t in content.THEMES.values()],
                              initial="blank", widget=forms.RadioSelect, error_messages=CHOICE_ERRORS,
                              label="Start from (builder)")  # fmt: skip

    def values(self) -> dict:
        return {**super().values(), "editor": self.cleaned_data["editor"], "theme": self.cleaned_data["theme"]}


class CodeForm(forms.Form):
    html = forms.CharField(required=False, strip=False, max_length=content.MAX_SOURCE, label="HTML",
                           widget=forms.Textarea(attrs={"rows": 20, "spellcheck": "false", "class": "code"}),
                           help_text="Sent as written. Members see it only in a sandboxed preview.")  # fmt: skip
    text = forms.CharField(required=False, strip=False, max_length=content.MAX_SOURCE, label="Plain text",
                           widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
                           help_text="Left empty, it is made from the HTML.")  # fmt: skip


class VariantForm(forms.Form):
    name = forms.CharField(max_length=191, required=False, label="Variant name")
    subject = forms.CharField(max_length=255, required=False, label="Variant subject",
                              help_text="Empty: the parent's subject.")  # fmt: skip
    variant_weight = forms.IntegerField(min_value=0, max_value=100, initial=50, label="Share of the test group (%)")
    ab_criterion = forms.ChoiceField(choices=AbCriterion.choices, label="Winner by", error_messages=CHOICE_ERRORS)
    ab_test_hours = forms.IntegerField(min_value=1, max_value=720, initial=4, label="Test period (hours)")

    def values(self) -> dict:
        data = {key: value for key, value in self.cleaned_data.items() if value not in ("", None)}
        return data


class PreviewForm(forms.Form):
    contact = forms.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        label="Contact id",
        help_text="Preview with this contact's data; empty: every token shows its default.",
    )
