"""The two settings pages: personal API tokens (every member) and OAuth2 applications (settings:manage)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import require_permission
from tidings.api import actions, selectors
from tidings.api.forms import ApiTokenForm, OAuthAppForm
from tidings.ui.confirm import confirmation_required
from tidings.validation import form_add_errors
from tidings.web.entry import may_mint_credentials


def confirm_second_factor_redirect(request, workspace):
    """Redirect to the page where the signed-in user confirms their second factor, and back here after."""
    from urllib.parse import urlencode

    from django.urls import reverse

    url = reverse("accounts:two_factor_required", kwargs={"workspace_slug": workspace.slug})
    return redirect(f"{url}?{urlencode({'next': request.get_full_path()})}")


@never_cache  # the page that shows a new secret must never be stored by a browser or proxy
@require_permission("workspace:view")
def api_tokens(request, workspace_slug):
    """List the tokens the member may see and let them create one for themselves (secret shown once).

    Creating one needs a session that passed the second factor where one applies (the member has one,
    or the workspace requires it); otherwise the member is sent to confirm it first.
    """
    principal = request.principal
    may_mint = may_mint_credentials(request, principal)
    if request.method == "POST" and not may_mint:
        messages.error(request, "Confirm your second factor before creating an API token.")
        return confirm_second_factor_redirect(request, principal.workspace)
    form = ApiTokenForm(request.POST or None, principal=principal)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = actions.api_token_create(
                workspace=request.workspace,
                user=request.user,
                name=form.cleaned_data["name"],
                permissions=form.cleaned_data["permissions"],
                expires_at=form.expires_at(),
                principal=principal,
                request=request,
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            created = {"token": token, "secret": secret}
            form = ApiTokenForm(principal=principal)
    tokens = selectors.tokens_visible_to(principal)
    return render(
        request,
        "api/api_tokens.html",
        {
            "form": form,
            "created": created,
            "tokens": tokens,
            "sees_all": principal.can("settings:manage"),
            # Without a confirmed second factor the page links to it instead of offering a form whose
            # ticks the detour would lose.
            "may_mint": may_mint,
        },
    )


@require_POST
@require_permission("workspace:view")
def api_token_revoke(request, workspace_slug, token_id):
    """Revoke a token: one's own, or any of the workspace's with settings:manage; otherwise 404."""
    token = selectors.token_for_revocation(request.principal, token_id)
    if token is None:
        raise Http404("No such token.")
    page = confirmation_required(
        request,
        title="Revoke this token?",
        message=f"Programs using “{token.name}” will stop working at once. This cannot be undone.",
        label="Revoke token",
        back=reverse("api:tokens", kwargs={"workspace_slug": workspace_slug}),
    )
    if page:
        return page
    actions.api_token_revoke(token=token, principal=request.principal, request=request)
    messages.success(request, f"The token “{token.name}” is revoked.")
    return redirect("api:tokens", workspace_slug=workspace_slug)


@never_cache
@require_permission("settings:manage")
def oauth_apps(request, workspace_slug):
    """List the workspace's OAuth2 applications and create one (client secret shown once)."""
    principal = request.principal
    form = OAuthAppForm(request.POST or None, principal=principal)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            binding, secret = actions.oauth_app_create(
                workspace=request.workspace,
                name=form.cleaned_data["name"],
                grant_type=form.cleaned_data["grant_type"],
                permissions=form.cleaned_data["permissions"],
                redirect_uris=form.cleaned_data["redirect_uris"],
                principal=principal,
                request=request,
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            created = {"binding": binding, "secret": secret}
            form = OAuthAppForm(principal=principal)
    return render(
        request,
        "api/oauth_apps.html",
        {"form": form, "created": created, "apps": selectors.oauth_apps_of(request.workspace)},
    )


@require_POST
@require_permission("settings:manage")
def oauth_app_delete(request, workspace_slug, binding_id):
    """Delete an application of this workspace and every token it was given; another's answers 404."""
    binding = selectors.oauth_app_of(request.workspace, binding_id)
    if binding is None:
        raise Http404("No such application.")
    name = binding.application.name
    actions.oauth_app_delete(binding=binding, principal=request.principal, request=request)
    messages.success(request, f"The application “{name}” is deleted and its tokens no longer work.")
    return redirect("api:oauth_apps", workspace_slug=workspace_slug)
