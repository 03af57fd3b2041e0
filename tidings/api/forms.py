"""Forms of the two settings pages: API tokens and OAuth2 applications."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

from tidings.accounts.permissions import PERMISSIONS
from tidings.api.actions import OAuthGrant

EXPIRY_CHOICES = [("", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]


def _permission_choices(principal) -> list[tuple[str, str]]:
    return [(name, f"{name} · {label}") for name, label in PERMISSIONS.items() if principal.can(name)]


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “CRM sync”.")
    permissions = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, help_text="A token can do only what you can do, and no more than you tick."
    )
    expires = forms.ChoiceField(choices=EXPIRY_CHOICES, required=False)

    def __init__(self, *args, principal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].choices = _permission_choices(principal)
        self.fields["permissions"].initial = [name for name, _ in self.fields["permissions"].choices]

    def expires_at(self):
        days = self.cleaned_data.get("expires")
        return timezone.now() + timedelta(days=int(days)) if days else None


class OAuthAppForm(forms.Form):
    name = forms.CharField(max_length=255)
    grant_type = forms.ChoiceField(choices=OAuthGrant.CHOICES, widget=forms.RadioSelect)
    redirect_uris = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Authorization code only: one URI per line, e.g. https://crm.example/oauth/callback.",
    )
    permissions = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, principal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].choices = _permission_choices(principal)
