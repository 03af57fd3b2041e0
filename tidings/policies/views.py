"""Pages of Tidings' policies: staff publish versions; a workspace's members read them and what changed.

Thin: the staff page calls policy_publish with the staff user (anyone else gets 404, as if the
page did not exist); workspace pages show the global documents and record an admin's
acknowledgement in the workspace in the URL.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tidings.accounts.decorators import require_permission
from tidings.accounts.views import staff_only
from tidings.policies import actions, selectors
from tidings.policies.forms import PublishForm
from tidings.policies.models import PolicyKind
from tidings.validation import form_add_errors


@staff_only
def staff_policies(request):
    """Publish a new version of Tidings' privacy policy or terms, and see every version."""
    form = PublishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            policy = actions.policy_publish(staff_user=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, f"Version {policy.version} published; workspace admins are being told.")
            return redirect("policies:staff")
    return render(request, "policies/staff.html", {"form": form, "versions": selectors.policy_versions()[:200]},
                  status=400 if form.errors else 200)  # fmt: skip


def _policy(kind: str, version: int):
    if kind not in PolicyKind.values:
        raise Http404("Not found.")
    try:
        return selectors.policy_get(kind, version)
    except ObjectDoesNotExist as error:
        raise Http404("Not found.") from error


@require_permission("workspace:view")
def policies(request, workspace_slug):
    """The current version of each Tidings policy, and earlier ones."""
    pending = {p.pk for p in selectors.pending_policies(request.user, request.workspace)}
    return render(request, "policies/list.html", {"versions": selectors.policy_versions()[:200], "pending": pending})


@require_permission("workspace:view")
def policy_detail(request, workspace_slug, kind, version):
    """One version's text, and what changed from the version before."""
    policy = _policy(kind, version)
    previous, changes = selectors.policy_changes(policy)
    pending = policy in selectors.pending_policies(request.user, request.workspace)
    context = {"policy": policy, "previous": previous, "changes": changes, "pending": pending,
               "can_acknowledge": pending and request.principal.can("settings:manage")}  # fmt: skip
    return render(request, "policies/detail.html", context)


@require_POST
@require_permission("settings:manage")
def policy_acknowledge(request, workspace_slug, kind, version):
    policy = _policy(kind, version)
    actions.policy_acknowledge(policy.pk, principal=request.principal, request=request)
    messages.success(request, f"Noted: you have seen version {policy.version} of the {policy.get_kind_display()}.")
    return redirect(reverse("policies:list", kwargs={"workspace_slug": workspace_slug}))


def banners(request) -> list[dict]:
    """The banner each admin sees until they acknowledge a new version (registered in tidings.navigation)."""
    principal = getattr(request, "principal", None)
    workspace = getattr(request, "workspace", None)
    if principal is None or workspace is None or principal.user is None or not principal.can("settings:manage"):
        return []
    return [
        {
            "text": f"Tidings has published a new {p.get_kind_display().lower()} (version {p.version}).",
            "link": reverse(
                "policies:detail", kwargs={"workspace_slug": workspace.slug, "kind": p.kind, "version": p.version}
            ),  # fmt: skip
            "link_label": "See what changed",
        }
        for p in selectors.pending_policies(principal.user, workspace)
    ]
