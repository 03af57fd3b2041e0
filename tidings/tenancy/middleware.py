"""Set the current workspace for UI requests whose URL carries one (/w/<workspace_slug>/...)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect
from django.urls import Resolver404, resolve

from tidings.tenancy.context import use_workspace


class WorkspaceMiddleware:
    """Resolve the workspace in the URL, decide who the user is there, and scope the request to it.

    A workspace the user cannot enter answers 404, exactly like one that does not exist.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        slug = match.kwargs.get("workspace_slug")
        if slug is None:
            return self.get_response(request)

        from tidings.accounts.selectors import principal_for_user
        from tidings.tenancy.selectors import workspace_by_slug

        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        workspace = workspace_by_slug(slug)
        principal = principal_for_user(request.user, workspace) if workspace else None
        if principal is None:
            raise Http404("No such workspace.")
        # The page where an unverified user verifies must itself open, or the redirect would loop.
        if (
            workspace.require_two_factor
            and not request.user.is_verified()
            and match.view_name != "accounts:two_factor_required"
        ):
            return redirect("accounts:two_factor_required", workspace_slug=workspace.slug)
        request.workspace = workspace
        request.principal = principal
        with use_workspace(workspace):
            response = self.get_response(request)
            if principal.via == "support":
                from tidings.accounts.actions import support_grant_log_request

                support_grant_log_request(principal, request, response.status_code)
        return response
