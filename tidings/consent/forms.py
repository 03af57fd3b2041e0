"""Forms of the consent settings page: a purpose, and a new version of the privacy notice.

They only parse input; the actions check the values (a taken key, an address that is not http(s)).
"""

from __future__ import annotations

from django import forms

from tidings.privacy.models import LawfulBasis


class PurposeForm(forms.Form):
    key = forms.SlugField(
        max_length=64,
        help_text="How forms, the tracker and the API name the purpose; it never changes. Lowercase letters, "
        "digits and _.",
    )
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    lawful_basis = forms.ChoiceField(
        choices=LawfulBasis.choices,
        initial=LawfulBasis.CONSENT,
        help_text="Consent: allowed only after a person gives it. Another basis: allowed unless the person objects.",
    )
    active = forms.BooleanField(required=False, initial=True, help_text="An inactive purpose allows nothing.")


class PurposeEditForm(PurposeForm):
    """The same form without the key, which never changes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["key"]


class NoticeForm(forms.Form):
    title = forms.CharField(max_length=200)
    url = forms.CharField(
        label="Web address", required=False, max_length=500, help_text="Where the notice is published (https://...)."
    )
    text = forms.CharField(
        required=False, max_length=100_000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Or the notice's text itself.",
    )  # fmt: skip
