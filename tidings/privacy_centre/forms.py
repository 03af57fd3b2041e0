"""Forms of the privacy centre's pages: a retention period, a recipient. They parse; the actions check."""

from __future__ import annotations

from django import forms

from tidings.countries import country_choices
from tidings.privacy.categories import DataCategory
from tidings.privacy_centre.models import RecipientKind, Safeguard


class RetentionForm(forms.Form):
    """One period per data class that can be changed: days, or empty to keep without limit."""

    def __init__(self, *args, rules, **kwargs):
        super().__init__(*args, **kwargs)
        for rule in rules:
            if rule.fixed_reason:
                continue
            self.fields[rule.data_class] = forms.IntegerField(
                label=f"{rule.label} (days)",
                required=False,
                min_value=1,
                max_value=36_500,
                initial=rule.days,
                help_text="Empty: kept without limit."
                + (f" Default: {rule.default_days} days." if rule.default_days else " Default: without limit."),
            )


class RecipientForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=RecipientKind.choices)
    country = forms.ChoiceField(choices=(("", "Choose a country"), *country_choices()))
    safeguard = forms.ChoiceField(
        choices=Safeguard.choices, help_text="What makes a transfer outside the workspace's region lawful."
    )
    purposes = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple,
                                         help_text="What the recipient receives data for.")  # fmt: skip
    categories = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(value, label) for value, label in DataCategory.choices if value],
        help_text="Which kinds of personal data it receives.",
    )
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, purposes, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["purposes"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(p.key, p.name) for p in purposes]
