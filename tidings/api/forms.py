"""Forms of the two settings pages: API tokens and OAuth2 applications."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from django import forms
from django.utils import timezone

from tidings.accounts.permissions import PERMISSIONS
from tidings.api.actions import OAuthGrant

EXPIRY_CHOICES = [("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year"), ("", "Never")]
SUGGESTED_EXPIRY = "90"  # days: long enough for a project, short enough that a forgotten token dies


def _permission_choices(principal) -> list[tuple[str, str]]:
    return [(name, f"{name} · {label}") for name, label in PERMISSIONS.items() if principal.can(name)]


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “CRM sync”.")
    permissions = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick only what the program needs. A token can never do more than you can.",
        error_messages={"required": "Tick at least one permission."},
    )
    expires = forms.ChoiceField(choices=EXPIRY_CHOICES, required=False, initial=SUGGESTED_EXPIRY)

    def __init__(self, *args, principal, **kwargs):
        # Least privilege: nothing is ticked until the member ticks it.
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["permissions"]).choices = _permission_choices(principal)

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
        cast(forms.MultipleChoiceField, self.fields["permissions"]).choices = _permission_choices(principal)
