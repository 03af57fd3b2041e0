"""Forms for signing in, two-factor, invitations, workspace settings and support access."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password

from tidings.accounts.actions import user_password_set
from tidings.accounts.models import User
from tidings.accounts.permissions import Role
from tidings.tenancy.selectors import workspace_by_slug


class SignInForm(auth_forms.AuthenticationForm):
    """Email and password. The field keeps Django's name "username" so django-axes finds it."""

    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"})
    )

    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an account.",
    }


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=16,
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].replace(" ", "").strip().lower()


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's form; the write goes through accounts.actions."""

    def save(self, commit: bool = True):
        return user_password_set(user=self.user, password=self.cleaned_data["new_password1"])


class SetPasswordForm(auth_forms.SetPasswordForm):
    """Django's reset form; the write goes through accounts.actions."""

    def save(self, commit: bool = True):
        return user_password_set(user=self.user, password=self.cleaned_data["new_password1"], reset=True)


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.MARKETER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class NewAccountForm(forms.Form):
    """A new person's name and password when accepting an invitation; Django's password validators apply."""

    first_name = forms.CharField(
        label="First name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label="Last name", max_length=150, required=False, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            candidate = User(
                email=self.email, first_name=cleaned.get("first_name", ""), last_name=cleaned.get("last_name", "")
            )
            try:
                validate_password(first, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class WorkspaceSettingsForm(forms.Form):
    name = forms.CharField(label="Workspace name", max_length=120)
    require_two_factor = forms.BooleanField(
        label="Require two-factor sign-in",
        required=False,
        help_text=(
            "Members, and staff under a support grant, must confirm a code from an authenticator app"
            " to open this workspace."
        ),
    )
    allow_password_basic = forms.BooleanField(
        label="Allow passwords on the API (HTTP Basic)",
        required=False,
        help_text=(
            "Let members call the APIs with their email and password, as older Mautic clients do. Never for a"
            " member with two-factor sign-in, nor while two-factor sign-in is required; API tokens and OAuth2"
            " always work."
        ),
    )


def _hours_field(initial: int = 24) -> forms.IntegerField:
    maximum = settings.TIDINGS_SUPPORT_GRANT_MAX_HOURS
    return forms.IntegerField(
        label="Hours", min_value=1, max_value=maximum, initial=initial, help_text=f"At most {maximum} hours."
    )


class SupportApproveForm(forms.Form):
    hours = forms.IntegerField()
    allow_write = forms.BooleanField(label="Allow changes (read-write)", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hours"] = _hours_field()


class SupportRequestForm(forms.Form):
    workspace = forms.SlugField(label="Workspace (slug)", max_length=50)
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    hours = forms.IntegerField()
    allow_write = forms.BooleanField(label="I need to make changes (read-write)", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hours"] = _hours_field()
        # Keep the field order stable after replacing hours.
        self.order_fields(["workspace", "reason", "hours", "allow_write"])

    def clean_workspace(self):
        workspace = workspace_by_slug(self.cleaned_data["workspace"].lower())
        if workspace is None:
            raise forms.ValidationError("There is no workspace with this slug.")
        return workspace
