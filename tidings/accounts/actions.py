"""Every write about users, memberships, invitations and support grants."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from tidings.accounts.models import Membership, User
from tidings.accounts.permissions import Role
from tidings.audit.actions import audit_record


def user_create(
    *, email: str, password: str | None, first_name: str = "", last_name: str = "", is_staff: bool = False, actor=None
) -> User:
    """Create a user; raise ValidationError when the email is taken or the password is too weak."""
    from django.contrib.auth.password_validation import validate_password

    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": "a user with this email address already exists"})
    user = User(email=email, first_name=first_name, last_name=last_name, is_staff=is_staff)
    if password:
        validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    with transaction.atomic(using="default"):
        user.save()
        audit_record(
            "user.created",
            workspace=None,
            actor_type="user" if actor else "system",
            actor_id=getattr(actor, "pk", None),
            target_type="user",
            target_id=user.pk,
            data={"staff": is_staff},
        )
    return user


def membership_create(*, workspace, user, role: str, actor=None, principal=None) -> Membership:
    """Add user to workspace with role; raise ValidationError on an unknown role or an existing member."""
    if role not in Role.values:
        raise ValidationError({"role": f"role must be one of {', '.join(Role.values)}"})
    if Membership.objects.filter(workspace=workspace, user=user).exists():
        raise ValidationError({"user": "already a member of this workspace"})
    membership = Membership.objects.create(workspace=workspace, user=user, role=role)
    audit_record(
        "member.added",
        workspace=workspace,
        principal=principal,
        actor_type=None if principal else ("user" if actor else "system"),
        actor_id=None if principal else getattr(actor, "pk", None),
        target_type="user",
        target_id=user.pk,
        data={"role": role},
    )
    return membership


def support_grant_log_request(principal, request, status_code: int) -> None:
    """Write one audit entry for a request a staff member made under a support grant."""
    audit_record(
        "support.request",
        principal=principal,
        request=request,
        target_type="support_grant",
        target_id=principal.credential_id,
        data={"method": request.method, "path": request.path, "status": status_code},
    )
