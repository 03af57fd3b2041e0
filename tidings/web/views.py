from django.shortcuts import redirect, render

from tidings.accounts.decorators import require_permission, signed_in
from tidings.accounts.selectors import actor_labels, has_two_factor, members_of
from tidings.audit.selectors import audit_entries_for_workspace
from tidings.tenancy.selectors import workspaces_for_user
from tidings.ui.dashboard import load_widgets

DASHBOARD_AUDIT_ENTRIES = 5


@signed_in
def home(request):
    """Open the user's only workspace, or let them choose among several."""
    workspaces = list(workspaces_for_user(request.user))
    if len(workspaces) == 1:
        return redirect("web:dashboard", workspace_slug=workspaces[0].slug)
    return render(request, "web/home.html", {"workspaces": workspaces})


@require_permission("workspace:view")
def dashboard(request, workspace_slug):
    """Show the workspace at a glance: members, region, two-factor status, the widgets the domains registered
    (tidings.ui.dashboard) that the principal may see and, for auditors, recent activity."""
    principal = request.principal
    context = {
        "widgets": load_widgets(request),
        "member_count": members_of(request.workspace).count(),
        "user_has_two_factor": has_two_factor(request.user),
        "verified": request.user.is_verified(),
    }
    if principal.can("audit:view"):
        entries = list(audit_entries_for_workspace()[:DASHBOARD_AUDIT_ENTRIES])
        labels = actor_labels(entries)
        context["audit_rows"] = [{"entry": e, "actor": labels[(e.actor_type, e.actor_id)]} for e in entries]
    return render(request, "web/dashboard.html", context)
