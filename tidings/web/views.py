import re
from pathlib import Path

from django.contrib import messages
from django.contrib.staticfiles import finders
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


def _icon_names() -> list[str]:
    sprite = finders.find("tidings/icons.svg")
    return re.findall(r'<symbol id="([a-z0-9-]+)"', Path(str(sprite)).read_text()) if sprite else []


@require_permission("settings:manage")
def kit(request, workspace_slug):
    """Show every component of the UI kit, for the people who build pages (admins only: it holds no data).

    POST demonstrates the results: "toasts" adds one message of each level; "confirm" is what a
    confirmed destructive action looks like (nothing is changed). Both come back here.
    """
    from tidings.web.forms import KitSampleForm

    if request.method == "POST":
        if request.POST.get("demo") == "toasts":
            messages.success(request, "Saved: a success toast leaves by itself.")
            messages.info(request, "Note: so does an information toast.")
            messages.warning(request, "Careful: a warning stays until dismissed.")
            messages.error(request, "Refused: an error stays until dismissed.")
        elif request.POST.get("demo") == "confirm":
            messages.success(request, "Confirmed. (The kit page changes nothing.)")
        return redirect("web:kit", workspace_slug=workspace_slug)
    context = {
        "icons": _icon_names(),
        "sample_form": KitSampleForm({"name": "", "email": "not-an-email", "channel": "email"}),
        "type_scale": ["text-2xl", "text-xl", "text-lg", "text-base", "text-sm", "text-xs"],
        "spaces": ["space-1", "space-2", "space-3", "space-4", "space-5", "space-6", "space-8"],
        "swatches": ["bg", "card", "fg", "muted", "accent", "ok", "warn", "error"],
    }
    return render(request, "web/kit.html", context)
