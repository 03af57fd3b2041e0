"""Workspace settings pages: members and invitations, roles, the workspace itself, and support access.

Every object named in a URL is looked up within request.workspace, so an id of another workspace
answers 404 exactly like one that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from tidings.accounts import actions, selectors
from tidings.accounts.decorators import require_permission
from tidings.accounts.forms import InviteForm, RoleForm, SupportApproveForm, WorkspaceSettingsForm
from tidings.accounts.permissions import PERMISSIONS, ROLE_PERMISSIONS, Role
from tidings.ui.confirm import confirmation_required
from tidings.validation import error_message, form_add_errors


def _found(obj):
    if obj is None:
        raise Http404("Not found.")
    return obj


def _attempt(request, action, **kwargs) -> bool:
    """Run action as the request's principal; flash its ValidationError and return False if it refused."""
    try:
        action(principal=request.principal, request=request, **kwargs)
    except ValidationError as error:
        messages.error(request, error_message(error))
        return False
    return True


def _members_page(request, invite_form=None, status=200):
    workspace = request.workspace
    members = list(selectors.members_of(workspace))
    owners = sum(1 for m in members if m.role == Role.OWNER)
    pauses = selectors.sign_in_pauses_of(members)
    acting_owner = request.principal.role == Role.OWNER
    rows = []
    for membership in members:
        is_owner = membership.role == Role.OWNER
        rows.append(
            {
                "membership": membership,
                "is_self": membership.user_id == request.user.pk,
                # What the page offers mirrors what the actions allow; the actions still decide.
                "can_change": acting_owner or not is_owner,
                "can_remove": (acting_owner or not is_owner) and not (is_owner and owners <= 1),
                "last_owner": is_owner and owners <= 1,
                "sign_in_pause": pauses.get(membership.user_id),
            }
        )
    role_choices = [(value, label) for value, label in Role.choices if acting_owner or value != Role.OWNER]
    context = {
        "rows": rows,
        "invitations": list(selectors.open_invitations(workspace)),
        "invite_form": invite_form or InviteForm(),
        "role_choices": role_choices,
    }
    return render(request, "accounts/settings/members.html", context, status=status)


@require_permission("members:manage")
def members(request, workspace_slug):
    return _members_page(request)


@require_POST
@require_permission("members:manage")
def member_invite(request, workspace_slug):
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            actions.invitation_create(
                workspace=request.workspace,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                principal=request.principal,
                request=request,
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}. It is valid for 7 days.")
            return redirect("accounts:settings_members", workspace_slug=workspace_slug)
    return _members_page(request, invite_form=form, status=400)


@require_POST
@require_permission("members:manage")
def member_role(request, workspace_slug, membership_id):
    membership = _found(selectors.membership_in_workspace(request.workspace, membership_id))
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role.")
    elif _attempt(request, actions.membership_change_role, membership=membership, role=form.cleaned_data["role"]):
        messages.success(request, f"{membership.user.email} is now {Role(membership.role).label}.")
    return redirect("accounts:settings_members", workspace_slug=workspace_slug)


@require_POST
@require_permission("members:manage")
def member_remove(request, workspace_slug, membership_id):
    membership = _found(selectors.membership_in_workspace(request.workspace, membership_id))
    page = confirmation_required(
        request,
        title="Remove this member?",
        message=f"{membership.user.email} will lose access to {request.workspace.name} at once.",
        label="Remove member",
        back=reverse("accounts:settings_members", kwargs={"workspace_slug": workspace_slug}),
    )
    if page:
        return page
    if _attempt(request, actions.membership_remove, membership=membership):
        messages.success(request, f"{membership.user.email} no longer has access to this workspace.")
    return redirect("accounts:settings_members", workspace_slug=workspace_slug)


@require_POST
@require_permission("members:manage")
def member_unlock(request, workspace_slug, membership_id):
    """Lift a member's sign-in pause: forget their failed sign-ins from every address."""
    membership = _found(selectors.membership_in_workspace(request.workspace, membership_id))
    if _attempt(request, actions.member_sign_in_unlock, membership=membership):
        messages.success(request, "Sign-in unlocked: failed attempts are forgotten and signing in works again.")
    return redirect("accounts:settings_members", workspace_slug=workspace_slug)


@require_POST
@require_permission("members:manage")
def invitation_revoke(request, workspace_slug, invitation_id):
    invitation = _found(selectors.invitation_in_workspace(request.workspace, invitation_id))
    if _attempt(request, actions.invitation_revoke, invitation=invitation):
        messages.success(request, "Invitation revoked; its link no longer works.")
    return redirect("accounts:settings_members", workspace_slug=workspace_slug)


@require_permission("workspace:view")
def roles(request, workspace_slug):
    """Show the permission catalogue as a table of role × permission (read-only)."""
    role_list = list(Role)
    table = [
        {"name": name, "description": description, "cells": [name in ROLE_PERMISSIONS[role] for role in role_list]}
        for name, description in PERMISSIONS.items()
    ]
    return render(request, "accounts/settings/roles.html", {"roles": role_list, "table": table})


@require_permission("settings:manage")
def workspace_settings(request, workspace_slug):
    workspace = request.workspace
    initial = {
        "name": workspace.name,
        "require_two_factor": workspace.require_two_factor,
        "allow_password_basic": workspace.allow_password_basic,
    }
    form = WorkspaceSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.workspace_settings_update(
                workspace=workspace,
                name=form.cleaned_data["name"],
                require_two_factor=form.cleaned_data["require_two_factor"],
                allow_password_basic=form.cleaned_data["allow_password_basic"],
                principal=request.principal,
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error_message(error))
        else:
            messages.success(request, "Workspace settings saved.")
            return redirect("accounts:settings_workspace", workspace_slug=workspace.slug)
    has_two_factor = selectors.has_two_factor(request.user)
    return render(request, "accounts/settings/workspace.html", {"form": form, "has_two_factor": has_two_factor})


@require_permission("support:approve")
def support(request, workspace_slug):
    """List this workspace's support grants: pending requests to decide, active ones to revoke, and history."""
    now = timezone.now()
    rows = []
    for grant in selectors.support_grants_for_workspace(request.workspace):
        row = {"grant": grant, "active": grant.is_active(now)}
        if grant.status == "requested":
            row["form"] = SupportApproveForm(
                initial={"hours": grant.hours, "allow_write": grant.allow_write}, prefix=f"g{grant.pk}"
            )
        rows.append(row)
    return render(request, "accounts/settings/support.html", {"rows": rows})


@require_POST
@require_permission("support:approve")
def support_approve(request, workspace_slug, grant_id):
    grant = _found(selectors.support_grant_in_workspace(request.workspace, grant_id))
    form = SupportApproveForm(request.POST, prefix=f"g{grant.pk}")
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("accounts:settings_support", workspace_slug=workspace_slug)
    approved = _attempt(
        request,
        actions.support_grant_approve,
        grant=grant,
        hours=form.cleaned_data["hours"],
        allow_write=form.cleaned_data["allow_write"],
    )
    if approved:
        messages.success(request, f"Support access approved for {grant.hours} hours.")
    return redirect("accounts:settings_support", workspace_slug=workspace_slug)


@require_POST
@require_permission("support:approve")
def support_decline(request, workspace_slug, grant_id):
    grant = _found(selectors.support_grant_in_workspace(request.workspace, grant_id))
    if _attempt(request, actions.support_grant_decline, grant=grant):
        messages.success(request, "Support request declined.")
    return redirect("accounts:settings_support", workspace_slug=workspace_slug)


@require_POST
@require_permission("support:approve")
def support_revoke(request, workspace_slug, grant_id):
    grant = _found(selectors.support_grant_in_workspace(request.workspace, grant_id))
    if _attempt(request, actions.support_grant_revoke, grant=grant):
        messages.success(request, "Support access revoked.")
    return redirect("accounts:settings_support", workspace_slug=workspace_slug)
