"""Sign-in (with a second step for two-factor), the user's security page, invitations and staff support access."""

from __future__ import annotations

import base64
import time
from functools import wraps

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token

from tidings.accounts import actions, selectors
from tidings.accounts.decorators import authenticated, public, require_permission, signed_in
from tidings.accounts.forms import (
    CodeForm,
    NewAccountForm,
    PasswordChangeForm,
    SetPasswordForm,
    SignInForm,
    SupportRequestForm,
)
from tidings.accounts.lockout import describe_wait
from tidings.accounts.models import User
from tidings.accounts.permissions import Role
from tidings.validation import error_message

# Between the password and the code, the session remembers who is signing in, for a few minutes.
PENDING_KEY = "tidings_two_factor_pending"
PENDING_SECONDS = 5 * 60
MAX_CODE_ATTEMPTS = 5


def lockout_response(request, original_response=None, credentials=None, *args, **kwargs):
    """Answer a paused sign-in (django-axes) with 429, Retry-After and how long to wait."""
    from axes.helpers import get_cool_off

    wait = max(1, int(get_cool_off(request).total_seconds()))
    response = render(request, "accounts/locked_out.html", {"wait": describe_wait(wait)}, status=429)
    response["Retry-After"] = str(wait)
    return response


def _safe_next(request, fallback: str = "") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


class SignInView(auth_views.LoginView):
    """Email and password; users with a confirmed second factor continue to login_verify."""

    template_name = "accounts/login.html"
    form_class = SignInForm

    def form_valid(self, form):
        user = form.get_user()
        if selectors.has_two_factor(user):
            self.request.session[PENDING_KEY] = {
                "user_id": user.pk,
                "backend": user.backend,
                "next": self.get_success_url(),
                "started": int(time.time()),
                "attempts": 0,
            }
            return redirect("accounts:login_verify")
        return super().form_valid(form)


@public
@never_cache
def login_verify(request):
    """Ask for the second factor (an authenticator code or a backup code) and finish signing in.

    The pending sign-in expires after a few minutes or after MAX_CODE_ATTEMPTS wrong codes; the user
    then starts again with the password (where django-axes counts failures).
    """
    pending = request.session.get(PENDING_KEY)
    user = None
    if pending and time.time() - pending["started"] <= PENDING_SECONDS:
        user = User.objects.filter(pk=pending["user_id"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, "Please sign in again.")
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["code"])
        if device is not None:
            del request.session[PENDING_KEY]
            auth_login(request, user, backend=pending["backend"])
            otp_login(request, device)
            return redirect(pending["next"])
        pending["attempts"] += 1
        if pending["attempts"] >= MAX_CODE_ATTEMPTS:
            request.session.pop(PENDING_KEY, None)
            messages.error(request, "Too many wrong codes. Sign in again with your password.")
            return redirect("accounts:login")
        request.session[PENDING_KEY] = pending
        form.add_error("code", "That code is not valid. Codes change every 30 seconds; try the current one.")
    return render(request, "accounts/login_verify.html", {"form": form})


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("accounts:security")
    success_message = "Your password has been changed."


class PasswordResetView(auth_views.PasswordResetView):
    """Email a reset link built on TIDINGS_BASE_URL, never on the Host header of the request."""

    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        self.extra_email_context = {"base_url": settings.TIDINGS_BASE_URL}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = SetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")


@signed_in
@never_cache
def security(request, code_form=None, status=200):
    """Show the user's password and two-factor settings; while setting up, the QR code and the secret."""
    state = selectors.two_factor_state(request.user)
    context = {
        **state,
        "code_form": code_form or CodeForm(),
        "next": _safe_next(request),
        "two_factor_on": state["confirmed"] is not None,
    }
    pending = state["pending"]
    if pending is not None and state["confirmed"] is None:
        # An <img> with a data: URI, because the CSP allows neither inline SVG styles nor scripts.
        context["qr_data_uri"] = segno.make(pending.config_url, error="m").svg_data_uri(scale=5, border=2)
        context["secret"] = base64.b32encode(pending.bin_key).decode().rstrip("=")
    return render(request, "accounts/security.html", context, status=status)


def _back_to_security(request):
    url = reverse("accounts:security")
    target = _safe_next(request)
    return redirect(f"{url}?next={target}" if target else url)


@signed_in
@require_POST
def two_factor_start(request):
    actions.totp_device_start(user=request.user)
    return _back_to_security(request)


@signed_in
@require_POST
def two_factor_confirm(request):
    """Confirm the new authenticator with a code; the session counts as verified from now on."""
    form = CodeForm(request.POST)
    device = selectors.two_factor_state(request.user)["pending"]
    if device is None:
        messages.error(request, "Start the set-up again.")
        return _back_to_security(request)
    if form.is_valid():
        try:
            actions.totp_device_confirm(device=device, token=form.cleaned_data["code"], request=request)
        except ValidationError as error:
            form.add_error("code", error_message(error))
        else:
            otp_login(request, device)
            messages.success(request, "Two-factor sign-in is on. Create backup codes in case you lose your phone.")
            return redirect(_safe_next(request) or reverse("accounts:security"))
    return security(request, code_form=form, status=400)


@signed_in
@require_POST
@never_cache
def backup_codes(request):
    """Create new backup codes and show them this once; the old ones stop working."""
    try:
        codes = actions.backup_codes_generate(user=request.user, request=request)
    except ValidationError as error:
        messages.error(request, error_message(error))
        return redirect("accounts:security")
    return render(request, "accounts/backup_codes.html", {"codes": codes})


@signed_in
@require_POST
def two_factor_disable(request):
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            actions.two_factor_disable(user=request.user, token=form.cleaned_data["code"], request=request)
        except ValidationError as error:
            form.add_error("code", error_message(error))
        else:
            messages.success(request, "Two-factor sign-in is off.")
            return redirect("accounts:security")
    return security(request, code_form=form, status=400)


@require_permission("workspace:view", verifies_two_factor=True)
@never_cache
def two_factor_required(request, workspace_slug):
    """Let the user pass their second factor in this session, or set one up, then go on to ?next=.

    Reached when the workspace requires two-factor sign-in, and before creating an API token or
    consenting to an OAuth2 application when the user has a second factor the session has not passed.
    """
    workspace = request.workspace
    dashboard = reverse("web:dashboard", kwargs={"workspace_slug": workspace.slug})
    target = _safe_next(request, dashboard)
    has_device = selectors.has_two_factor(request.user)
    if request.user.is_verified() or not (workspace.require_two_factor or has_device):
        return redirect(target)
    form = CodeForm(request.POST or None)
    if has_device and request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            return redirect(target)
        form.add_error("code", "That code is not valid.")
    context = {
        "workspace": workspace,
        "has_device": has_device,
        "form": form,
        "next": target,
        "required": workspace.require_two_factor,
    }
    return render(request, "accounts/two_factor_required.html", context)


@public  # the invitation token decides; an existing account must sign in as the invited address
@never_cache
def invitation_accept(request, token):
    """Let the invited person join: an existing user signed in as the invited address, or a new person.

    An unknown token answers 404; a used, revoked or expired one 410; someone signed in as another
    address 403.
    """
    invitation = selectors.invitation_by_token(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", {"reason": "unknown"}, status=404)
    if not invitation.is_open:
        return render(request, "accounts/invitation_invalid.html", {"invitation": invitation}, status=410)
    context = {"invitation": invitation, "role": Role(invitation.role).label}
    existing = selectors.user_by_email(invitation.email)
    dashboard = reverse("web:dashboard", kwargs={"workspace_slug": invitation.workspace.slug})
    if existing is not None:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request.user.pk != existing.pk:
            return render(request, "accounts/invitation_wrong_user.html", context, status=403)
        if request.method == "POST":
            try:
                actions.invitation_accept(invitation=invitation, user=request.user, request=request)
            except ValidationError as error:
                messages.error(request, error_message(error))
                return redirect("web:home")
            messages.success(request, f"Welcome to {invitation.workspace.name}.")
            return redirect(dashboard)
        return render(request, "accounts/invitation_accept.html", context)
    if request.user.is_authenticated:
        return render(request, "accounts/invitation_wrong_user.html", context, status=403)
    form = NewAccountForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = actions.invitation_accept_as_new_user(
                invitation=invitation,
                password=data["password1"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error_message(error))
        else:
            auth_login(request, user, backend="tidings.accounts.backends.EmailBackend")
            messages.success(request, f"Welcome to {invitation.workspace.name}.")
            return redirect(dashboard)
    return render(request, "accounts/invitation_accept.html", {**context, "form": form})


def staff_only(view):
    """Let only Tidings staff in; everyone else gets 404, as if the page did not exist."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not (request.user.is_authenticated and request.user.is_staff and request.user.is_active):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return authenticated(wrapped)  # and more: staff only, anyone else 404


@staff_only
def staff_support(request):
    """Let staff ask a workspace for support access and follow their requests."""
    form = SupportRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.support_grant_request(
                staff_user=request.user,
                workspace=data["workspace"],
                reason=data["reason"],
                hours=data["hours"],
                allow_write=data["allow_write"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error_message(error))
        else:
            messages.success(request, f"Access requested. The admins of {data['workspace'].name} have been emailed.")
            return redirect("accounts:staff_support")
    grants = list(selectors.support_grants_of_staff(request.user))
    now = timezone.now()
    rows = [{"grant": grant, "active": grant.is_active(now)} for grant in grants]
    return render(request, "accounts/staff_support.html", {"form": form, "rows": rows})
