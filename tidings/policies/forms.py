from __future__ import annotations

from django import forms

from tidings.policies.models import PolicyKind


class PublishForm(forms.Form):
    kind = forms.ChoiceField(label="Policy", choices=PolicyKind.choices)
    title = forms.CharField(max_length=200)
    summary = forms.CharField(label="What changed", required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="A few lines for the email and the banner.")  # fmt: skip
    text = forms.CharField(
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text="The whole text; admins see the changes from the version before, line by line.",
    )
