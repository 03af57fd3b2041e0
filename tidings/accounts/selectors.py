"""Reads about users, memberships and support grants, and how a user enters a workspace."""

from __future__ import annotations

from django.utils import timezone

from tidings.accounts.models import Membership, SupportGrant, SupportGrantStatus
from tidings.accounts.permissions import (
    SUPPORT_READ_PERMISSIONS,
    SUPPORT_WRITE_PERMISSIONS,
    Principal,
    Via,
    role_permissions,
)


def membership_for(user, workspace) -> Membership | None:
    return Membership.objects.filter(user=user, workspace=workspace).first()


def active_support_grant(staff_user, workspace, now=None) -> SupportGrant | None:
    """Return the approved, unexpired grant giving staff_user access to workspace, if any."""
    now = now or timezone.now()
    return (
        SupportGrant.objects.filter(
            staff_user=staff_user,
            workspace=workspace,
            status=SupportGrantStatus.APPROVED,
            expires_at__gt=now,
        )
        .order_by("-expires_at")
        .first()
    )


def principal_for_user(user, workspace) -> Principal | None:
    """Return how user acts in workspace: as a member, or as staff under an active support grant.

    Return None when the user has no way in; staff have none without a grant.
    """
    if not user.is_active:
        return None
    membership = membership_for(user, workspace)
    if membership is not None:
        return Principal(
            workspace=workspace,
            user=user,
            permissions=role_permissions(membership.role),
            via=Via.MEMBER,
            role=membership.role,
        )
    if user.is_staff:
        grant = active_support_grant(user, workspace)
        if grant is not None:
            return Principal(
                workspace=workspace,
                user=user,
                permissions=SUPPORT_WRITE_PERMISSIONS if grant.allow_write else SUPPORT_READ_PERMISSIONS,
                via=Via.SUPPORT,
                credential_id=grant.pk,
            )
    return None


def members_of(workspace):
    return Membership.objects.filter(workspace=workspace).select_related("user").order_by("user__email")
