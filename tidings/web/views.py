from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from tidings.tenancy.selectors import workspaces_for_user
from tidings.web.decorators import require_permission


@login_required
def home(request):
    """Open the user's only workspace, or let them choose among several."""
    workspaces = list(workspaces_for_user(request.user))
    if len(workspaces) == 1:
        return redirect("web:dashboard", workspace_slug=workspaces[0].slug)
    return render(request, "web/home.html", {"workspaces": workspaces})


@require_permission("workspace:view")
def dashboard(request, workspace_slug):
    from tidings.accounts.selectors import members_of

    return render(request, "web/dashboard.html", {"member_count": members_of(request.workspace).count()})
