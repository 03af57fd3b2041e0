"""OAuth2 endpoints (django-oauth-toolkit) where Mautic clients look: /oauth/v2/token and /oauth/v2/authorize.

The same views answer under a workspace's Mautic base URL (/m/<slug>/oauth/v2/...), where
the application must also be bound to that workspace. Only confidential applications
exist (created in tidings.api.actions.oauth_app_create), each bound to one workspace.

Authorization code: the signing-in user must be a member of the application's workspace;
anyone else gets 404, as for an application that does not exist. A member with a second factor, or
of a workspace that requires one, must have passed it in this session before consenting. Client credentials need
no user. Tokens are turned into principals by tidings.api.auth.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from oauth2_provider.views import AuthorizationView, TokenView

from tidings.accounts.decorators import authenticated, public
from tidings.accounts.permissions import PERMISSIONS
from tidings.accounts.selectors import membership_for
from tidings.api.selectors import binding_for_client_id
from tidings.api.views import confirm_second_factor_redirect
from tidings.web.entry import second_factor_passed

_token_view = TokenView.as_view()


def _client_id_of(request) -> str:
    """Return the client_id of a token request: from HTTP Basic (RFC 6749 2.3.1) or the form body."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return ""
        return unquote(decoded.partition(":")[0])
    return request.POST.get("client_id", "")


@public  # the client's own credentials (client_id and secret, or a code) decide, inside DOT
@csrf_exempt  # clients authenticate with their secret, not a cookie
@require_POST
def token(request, workspace=None):
    """Issue, refresh or exchange tokens (django-oauth-toolkit's TokenView).

    With workspace (the Mautic base URL's), refuse with invalid_client an application bound
    to another workspace, before any token is issued.
    """
    if workspace is not None:
        binding = binding_for_client_id(_client_id_of(request))
        if binding is None or binding.workspace_id != workspace.pk:
            return JsonResponse(
                {"error": "invalid_client", "error_description": "Unknown client for this workspace."}, status=401
            )
    return _token_view(request)


class WorkspaceAuthorizationView(AuthorizationView):
    """DOT's consent page, refused (404) to anyone who is not a member of the application's workspace."""

    template_name = "api/oauth_authorize.html"

    def dispatch(self, request, *args, **kwargs):
        workspace = kwargs.pop("workspace", None)
        self.binding = None
        if request.user.is_authenticated:
            client_id = request.GET.get("client_id") or request.POST.get("client_id", "")
            binding = binding_for_client_id(client_id)
            if binding is None:
                if workspace is not None:
                    raise Http404("No such application.")
            else:
                if workspace is not None and binding.workspace_id != workspace.pk:
                    raise Http404("No such application.")
                if not request.user.is_active or membership_for(request.user, binding.workspace) is None:
                    raise Http404("No such application.")
                if not second_factor_passed(request, binding.workspace):
                    # Consent hands out lasting access: it needs the second factor the member has or the
                    # workspace requires, as creating an API token does.
                    return confirm_second_factor_redirect(request, binding.workspace)
                self.binding = binding
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.binding is not None:
            context["binding"] = self.binding
            context["granted"] = [(name, PERMISSIONS[name]) for name in self.binding.permissions if name in PERMISSIONS]
        return context


authorize = authenticated(WorkspaceAuthorizationView.as_view())  # DOT sends anonymous users to sign in
