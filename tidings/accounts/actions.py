"""Every write about users, workspaces, memberships, invitations, two-factor devices and support grants.

Every action that changes a workspace takes the principal that acts as a required keyword and
checks first that it acts in that workspace and holds the permission (members:manage,
settings:manage, support:approve), raising PermissionDenied before it writes. A few act, by
design, for a person who is not (yet) a member and take that user instead, each saying why:
creating a platform account (user_create) or a workspace (workspace_create), setting one's own
password, accepting an invitation (the token is the authority), one's own two-factor devices,
and a staff member's request for support access.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tidings.accounts.models import (
    Invitation,
    Membership,
    SupportGrant,
    SupportGrantStatus,
    User,
    invitation_token_hash,
)
from tidings.accounts.permissions import Principal, Role, require, system_principal
from tidings.accounts.selectors import workspace_admin_emails
from tidings.audit.actions import audit_record
from tidings.tenancy.context import no_workspace
from tidings.tenancy.models import Region, Workspace, remember_region
from tidings.tenancy.signals import workspace_created

INVITATION_LIFETIME = timedelta(days=7)
BACKUP_CODE_COUNT = 10


def user_create(
    *, email: str, password: str | None, first_name: str = "", last_name: str = "", is_staff: bool = False, actor=None
) -> User:
    """Create a user; raise ValidationError when the email is taken or the password is too weak.

    Takes no principal by design: a user is a platform account, not a workspace's data, created
    by the operator's createuser command, the demo, or a person accepting an invitation.
    """
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


def user_password_set(*, user: User, password: str, reset: bool = False, request=None) -> User:
    """Set user's password (already validated by the form) and record it in the system chain.

    Takes the user, not a principal, by design: people change their own password (signed in, or
    through a reset link, which is the authority), outside any workspace.
    """
    with transaction.atomic(using="default"):
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(
            "user.password_reset" if reset else "user.password_changed",
            workspace=None,
            actor_type="user",
            actor_id=user.pk,
            target_type="user",
            target_id=user.pk,
            request=request,
        )
    return user


def workspace_create(*, name: str, slug: str, region: str, owner=None, actor=None) -> Workspace:
    """Create a workspace in region, make owner (a User) its owner, and open its audit chain.

    Takes no principal by design: a principal acts in a workspace, and this one does not exist
    yet (the operator's createworkspace command, the demo and sign-up create workspaces; actor,
    when given, is the user who did). Tidings itself makes owner the first owner, recorded as
    the system principal. Raise ValidationError on an unknown region, a malformed or taken slug.
    """
    if region not in Region.values:
        raise ValidationError({"region": f"region must be one of {', '.join(Region.values)}"})
    workspace = Workspace(name=name.strip(), slug=slug.strip().lower(), region=region)
    workspace.full_clean()
    with transaction.atomic(using="default"):
        workspace.save()
        remember_region(workspace)
        audit_record(
            "workspace.created",
            workspace=workspace,
            actor_type="user" if actor else "system",
            actor_id=getattr(actor, "pk", None),
            target_type="workspace",
            target_id=workspace.pk,
            data={"region": region},
            via_outbox=True,  # a global-database change: its entry commits with it
        )
    if owner is not None:
        principal = system_principal(workspace, reason="workspace_create")
        membership_create(workspace=workspace, user=owner, role="owner", principal=principal)
    workspace_created.send(sender=Workspace, workspace=workspace)
    return workspace


def membership_create(*, workspace, user, role: str, principal: Principal, request=None) -> Membership:
    """Add user to workspace with role.

    Raise PermissionDenied without members:manage in workspace; ValidationError on an unknown role,
    an existing member, or when a member who is not an owner grants the owner role (Tidings itself,
    the system principal, makes a new workspace's first owner).
    """
    _require(principal, "members:manage", workspace.pk)
    if role == Role.OWNER and principal.role != Role.OWNER and not principal.is_system:
        raise ValidationError({"role": "Only an owner can grant the owner role."})
    return _membership_add(workspace=workspace, user=user, role=role, principal=principal, request=request)


def _membership_add(*, workspace, user, role: str, principal=None, actor=None, request=None) -> Membership:
    """Add user to workspace with role and audit it as principal's act, else as actor's (a User)."""
    if role not in Role.values:
        raise ValidationError({"role": f"role must be one of {', '.join(Role.values)}"})
    if Membership.objects.filter(workspace=workspace, user=user).exists():
        raise ValidationError({"user": "already a member of this workspace"})
    with transaction.atomic(using="default"):
        membership = Membership.objects.create(workspace=workspace, user=user, role=role)
        audit_record(
            "member.added",
            workspace=workspace,
            principal=principal,
            actor_type=None if principal else ("user" if actor else "system"),
            actor_id=None if principal else getattr(actor, "pk", None),
            request=request,
            target_type="user",
            target_id=user.pk,
            data={"role": role},
            via_outbox=True,
        )
    return membership


def _require(principal: Principal, permission: str, workspace_id: int) -> None:
    """Raise PermissionDenied unless principal acts in workspace_id and holds permission."""
    require(principal, permission, workspace_id=workspace_id)


def _lock_owners(membership: Membership) -> str:
    """Lock membership's workspace against concurrent owner changes; return membership's current role.

    Call inside a transaction on the global database. Every change that can take away an owner
    takes this lock first, so "is this the last owner?" is answered on data no one else is
    changing: without it two owners demoting each other at once both see two owners and both
    succeed. Raise ValidationError when the membership no longer exists.
    """
    list(Workspace.objects.select_for_update().filter(pk=membership.workspace_id).values_list("pk", flat=True))
    current = Membership.objects.filter(pk=membership.pk).values_list("role", flat=True).first()
    if current is None:
        raise ValidationError("This person is no longer a member.")
    return current


def _owner_count(workspace_id: int) -> int:
    return Membership.objects.filter(workspace_id=workspace_id, role=Role.OWNER).count()


def membership_change_role(*, membership: Membership, role: str, principal, request=None) -> Membership:
    """Give membership a new role.

    Raise PermissionDenied without members:manage in the membership's workspace; ValidationError on an
    unknown role, when a non-owner grants the owner role or changes an owner, or when the last owner
    would be demoted.
    """
    _require(principal, "members:manage", membership.workspace_id)
    if role not in Role.values:
        raise ValidationError({"role": f"role must be one of {', '.join(Role.values)}"})
    acting_owner = principal.role == Role.OWNER
    if role == Role.OWNER and not acting_owner:
        raise ValidationError({"role": "Only an owner can grant the owner role."})
    if membership.role == Role.OWNER and not acting_owner:
        raise ValidationError({"role": "Only an owner can change another owner's role."})
    if membership.role == role:
        return membership
    with transaction.atomic(using="default"):
        previous = membership.role = _lock_owners(membership)
        if previous == role:
            return membership
        if previous == Role.OWNER and not acting_owner:
            raise ValidationError({"role": "Only an owner can change another owner's role."})
        if previous == Role.OWNER and _owner_count(membership.workspace_id) <= 1:
            raise ValidationError({"role": "The last owner cannot be demoted; make someone else an owner first."})
        membership.role = role
        membership.save(update_fields=["role"])
        audit_record(
            "member.role_changed",
            workspace=membership.workspace_id,
            principal=principal,
            request=request,
            target_type="user",
            target_id=membership.user_id,
            data={"role": role, "previous_role": previous},
            via_outbox=True,
        )
    return membership


def membership_remove(*, membership: Membership, principal, request=None) -> None:
    """Remove a member from the workspace.

    Raise PermissionDenied without members:manage in the membership's workspace; ValidationError when a
    non-owner removes an owner or when the member is the last owner.
    """
    _require(principal, "members:manage", membership.workspace_id)
    if membership.role == Role.OWNER and principal.role != Role.OWNER:
        raise ValidationError("Only an owner can remove an owner.")
    with transaction.atomic(using="default"):
        membership.role = _lock_owners(membership)
        if membership.role == Role.OWNER and principal.role != Role.OWNER:
            raise ValidationError("Only an owner can remove an owner.")
        if membership.role == Role.OWNER and _owner_count(membership.workspace_id) <= 1:
            raise ValidationError("The last owner cannot be removed; make someone else an owner first.")
        user_id, role = membership.user_id, membership.role
        membership.delete()
        audit_record(
            "member.removed",
            workspace=membership.workspace_id,
            principal=principal,
            request=request,
            target_type="user",
            target_id=user_id,
            data={"role": role},
            via_outbox=True,
        )


def member_sign_in_unlock(*, membership: Membership, principal, request=None) -> int:
    """Forget a member's failed sign-ins from every address, ending any pause; return the attempt rows cleared.

    Raise PermissionDenied without members:manage in the membership's workspace; ValidationError when
    no failed sign-in is remembered for the member.
    """
    require(principal, "members:manage", workspace_id=membership.workspace_id)
    from axes.handlers.proxy import AxesProxyHandler

    username = membership.user.email.strip().lower()
    with transaction.atomic(using="default"):
        cleared = AxesProxyHandler.reset_attempts(username=username)
        if not cleared:
            raise ValidationError("No failed sign-ins are recorded for this member.")
        audit_record(
            "member.sign_in_unlocked",
            workspace=membership.workspace_id,
            principal=principal,
            request=request,
            target_type="user",
            target_id=membership.user_id,
            data={"attempt_rows_cleared": cleared},
        )
    return cleared


def sign_in_pause_record(*, username: str, failures: int, pause_seconds: int, request=None) -> None:
    """Record in the system audit chain that failed sign-ins paused an account's sign-ins from one address.

    The entry names the account by id (none for an address that is no account) and the address by its
    truncated network, never the email or the full address.
    """
    user_id = User.objects.filter(email=(username or "").strip().lower()).values_list("pk", flat=True).first()
    path = getattr(request, "path", "") or ""
    data = {
        "failures": failures,
        "pause_seconds": pause_seconds,
        "surface": "api" if path.startswith(("/api/", "/m/")) else "ui",
        "known_account": user_id is not None,
    }
    with no_workspace():  # an account's pause belongs to no workspace: the system chain
        audit_record(
            "user.sign_in_paused",
            workspace=None,
            actor_type="system",
            target_type="user",
            target_id=user_id if user_id is not None else "",
            data=data,
            request=request,
        )


def invitation_create(*, workspace, email: str, role: str, principal, request=None) -> tuple[Invitation, str]:
    """Invite email into workspace with role and email a link; return the invitation and its one-time token.

    Raise PermissionDenied without members:manage; ValidationError on an unknown role, when a non-owner
    invites an owner, or when the address already belongs to a member.
    """
    _require(principal, "members:manage", workspace.pk)
    email = User.objects.normalize_email(email).strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": f"role must be one of {', '.join(Role.values)}"})
    if role == Role.OWNER and principal.role != Role.OWNER:
        raise ValidationError({"role": "Only an owner can grant the owner role."})
    if Membership.objects.filter(workspace=workspace, user__email=email).exists():
        raise ValidationError({"email": "This person is already a member."})
    token = secrets.token_urlsafe(32)
    with transaction.atomic(using="default"):
        invitation = Invitation.objects.create(
            workspace=workspace,
            email=email,
            role=role,
            token_hash=invitation_token_hash(token),
            invited_by=principal.user,
            expires_at=timezone.now() + INVITATION_LIFETIME,
        )
        audit_record(
            "member.invited",
            workspace=workspace,
            principal=principal,
            request=request,
            target_type="invitation",
            target_id=invitation.pk,
            data={"role": role},
            via_outbox=True,
        )
        link = settings.TIDINGS_BASE_URL + reverse("accounts:invitation_accept", kwargs={"token": token})
        context = {"workspace": workspace, "role": Role(role).label, "link": link, "inviter": principal.user}
        transaction.on_commit(
            lambda: send_mail(
                f"You are invited to {workspace.name} on Tidings",
                render_to_string("accounts/email/invitation.txt", context),
                None,
                [email],
            ),
            using="default",
        )
    return invitation, token


def invitation_revoke(*, invitation: Invitation, principal, request=None) -> Invitation:
    """Revoke an open invitation; raise PermissionDenied without members:manage, ValidationError if not open."""
    _require(principal, "members:manage", invitation.workspace_id)
    now = timezone.now()
    with transaction.atomic(using="default"):
        updated = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        ).update(revoked_at=now)
        if not updated:
            raise ValidationError("This invitation is no longer open.")
        invitation.revoked_at = now
        audit_record(
            "invitation.revoked",
            workspace=invitation.workspace_id,
            principal=principal,
            request=request,
            target_type="invitation",
            target_id=invitation.pk,
            via_outbox=True,
        )
    return invitation


def invitation_accept(*, invitation: Invitation, user: User, request=None) -> Membership:
    """Use invitation to make user a member with the invited role.

    Takes the user, not a principal, by design: the person is not a member yet, and the invitation
    (created by a holder of members:manage, bound to this email address) is the authority.
    Raise ValidationError when the invitation is used, revoked or expired, when user's email is not the
    invited one, or when user is already a member.
    """
    if user.email.lower() != invitation.email.lower():
        raise ValidationError("This invitation was sent to another email address.")
    now = timezone.now()
    with transaction.atomic(using="default"):
        # A conditional update, not a read then a write, so two tabs cannot both use the token.
        updated = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        ).update(accepted_at=now)
        if not updated:
            raise ValidationError("This invitation is no longer valid.")
        invitation.accepted_at = now
        membership = _membership_add(workspace=invitation.workspace, user=user, role=invitation.role, actor=user)
        audit_record(
            "member.joined",
            workspace=invitation.workspace,
            actor_type="user",
            actor_id=user.pk,
            request=request,
            target_type="invitation",
            target_id=invitation.pk,
            data={"user_id": user.pk, "role": invitation.role},
            via_outbox=True,
        )
    return membership


def invitation_accept_as_new_user(
    *, invitation: Invitation, password: str, first_name: str = "", last_name: str = "", request=None
) -> User:
    """Create the invited person's account and accept the invitation with it.

    Takes no principal by design, as invitation_accept: the invitation is the authority.

    Raise ValidationError as user_create and invitation_accept do (weak password, taken address, closed invitation).
    """
    with transaction.atomic(using="default"):
        user = user_create(email=invitation.email, password=password, first_name=first_name, last_name=last_name)
        invitation_accept(invitation=invitation, user=user, request=request)
    return user


def workspace_settings_update(
    *,
    workspace,
    name: str,
    require_two_factor: bool,
    principal,
    allow_password_basic: bool | None = None,
    request=None,
):
    """Rename workspace and switch its two-factor requirement and password Basic auth on the APIs.

    allow_password_basic None leaves that setting as it is. Raise PermissionDenied without settings:manage.
    """
    _require(principal, "settings:manage", workspace.pk)
    changed = []
    if workspace.name != name.strip():
        workspace.name = name.strip()
        changed.append("name")
    if workspace.require_two_factor != require_two_factor:
        workspace.require_two_factor = require_two_factor
        changed.append("require_two_factor")
    if allow_password_basic is not None and workspace.allow_password_basic != allow_password_basic:
        workspace.allow_password_basic = allow_password_basic
        changed.append("allow_password_basic")
    if not changed:
        return workspace
    workspace.full_clean()
    data = {"fields": changed, "require_two_factor": workspace.require_two_factor}
    if "allow_password_basic" in changed:
        data["allow_password_basic"] = workspace.allow_password_basic
    with transaction.atomic(using="default"):
        workspace.save(update_fields=changed)
        audit_record(
            "workspace.settings_changed",
            workspace=workspace,
            principal=principal,
            request=request,
            target_type="workspace",
            target_id=workspace.pk,
            data=data,
            via_outbox=True,
        )
    return workspace


# Two-factor devices. They belong to the user, not to a workspace, so they are audited in the system chain.
# By design these take the user, not a principal: only the signed-in person manages their own devices.


def _audit_user(action: str, user: User, request=None, **data) -> None:
    audit_record(
        action,
        workspace=None,
        actor_type="user",
        actor_id=user.pk,
        target_type="user",
        target_id=user.pk,
        request=request,
        data=data,
    )


def totp_device_start(*, user: User):
    """Create a new, unconfirmed authenticator device for user, replacing any earlier unconfirmed one."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with transaction.atomic(using="default"):
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def totp_device_confirm(*, device, token: str, request=None):
    """Confirm device with a code from the app; raise ValidationError when the code does not match."""
    if device.confirmed:
        raise ValidationError("This authenticator is already confirmed.")
    # Verified outside the transaction so a wrong code's throttling increment is kept.
    if not device.verify_token(token):
        raise ValidationError({"code": "That code does not match. Check the time on your phone and try again."})
    with transaction.atomic(using="default"):
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        _audit_user("user.two_factor_enabled", device.user, request)
    return device


def backup_codes_generate(*, user: User, request=None) -> list[str]:
    """Replace user's backup codes with new ones and return them (they are shown once).

    Raise ValidationError when user has no confirmed authenticator: backup codes back one up.
    """
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ValidationError("Set up an authenticator app before creating backup codes.")
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    with transaction.atomic(using="default"):
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
        _audit_user("user.backup_codes_generated", user, request, count=len(codes))
    return codes


def two_factor_disable(*, user: User, token: str, request=None) -> None:
    """Remove all of user's second factors; raise ValidationError unless token is a valid current code."""
    from django_otp import match_token
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if match_token(user, token) is None:
        raise ValidationError({"code": "That code is not valid."})
    with transaction.atomic(using="default"):
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        _audit_user("user.two_factor_disabled", user, request)


# Staff support grants: requested by staff, decided by the workspace, audited in the workspace's chain.

_GRANT_TRANSITIONS: dict[str, set[str]] = {
    SupportGrantStatus.REQUESTED: {SupportGrantStatus.APPROVED, SupportGrantStatus.DECLINED},
    SupportGrantStatus.APPROVED: {SupportGrantStatus.REVOKED},
}


def _validate_hours(hours: int) -> None:
    maximum = settings.TIDINGS_SUPPORT_GRANT_MAX_HOURS
    if not 1 <= int(hours) <= maximum:
        raise ValidationError({"hours": f"Access lasts between 1 and {maximum} hours."})


def _grant_transition(grant: SupportGrant, to: str, **fields) -> SupportGrant:
    """Move grant to status `to` if the current status allows it; raise ValidationError otherwise.

    The update is conditional on the status read, so two admins deciding at once cannot both win.
    """
    if to not in _GRANT_TRANSITIONS.get(grant.status, set()):
        raise ValidationError(f"A {grant.get_status_display().lower()} request cannot be {to}.")
    updated = SupportGrant.objects.filter(pk=grant.pk, status=grant.status).update(status=to, **fields)
    if not updated:
        raise ValidationError("This request was changed by someone else; reload the page.")
    grant.status = to
    for name, value in fields.items():
        setattr(grant, name, value)
    return grant


def support_grant_request(
    *, staff_user: User, workspace, reason: str, hours: int, allow_write: bool = False, request=None
) -> SupportGrant:
    """Ask workspace's admins for time-limited access and email them.

    Takes the staff user, not a principal, by design: staff are not members of the workspace
    (asking is what this does); the check is that staff_user is staff.

    Raise PermissionDenied when staff_user is not staff; ValidationError on an empty reason or hours out of range.
    """
    if not staff_user.is_staff:
        raise PermissionDenied("Only Tidings staff can request support access.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why you need access."})
    _validate_hours(hours)
    with transaction.atomic(using="default"):
        grant = SupportGrant.objects.create(
            workspace=workspace, staff_user=staff_user, reason=reason.strip(), hours=hours, allow_write=allow_write
        )
        audit_record(
            "support.requested",
            workspace=workspace,
            actor_type="staff",
            actor_id=staff_user.pk,
            request=request,
            target_type="support_grant",
            target_id=grant.pk,
            data={"hours": hours, "allow_write": allow_write},
            via_outbox=True,
        )
        transaction.on_commit(lambda: _email_support_request(grant.pk), using="default")
    return grant


def _email_support_request(grant_id: int) -> None:
    grant = SupportGrant.objects.select_related("workspace", "staff_user").get(pk=grant_id)
    recipients = workspace_admin_emails(grant.workspace)
    if not recipients:
        return
    link = settings.TIDINGS_BASE_URL + reverse(
        "accounts:settings_support", kwargs={"workspace_slug": grant.workspace.slug}
    )
    send_mail(
        f"Tidings support asks for access to {grant.workspace.name}",
        render_to_string("accounts/email/support_request.txt", {"grant": grant, "link": link}),
        None,
        recipients,
    )


def support_grant_approve(
    *, grant: SupportGrant, principal, hours: int | None = None, allow_write: bool | None = None, request=None
) -> SupportGrant:
    """Approve a requested grant for hours (default: as requested), read-only unless allow_write.

    Access ends at approval time + hours. Raise PermissionDenied without support:approve in the grant's
    workspace; ValidationError when the grant is not awaiting a decision or hours are out of range.
    """
    _require(principal, "support:approve", grant.workspace_id)
    hours = grant.hours if hours is None else int(hours)
    allow_write = grant.allow_write if allow_write is None else bool(allow_write)
    _validate_hours(hours)
    now = timezone.now()
    _grant_decide(
        grant,
        SupportGrantStatus.APPROVED,
        "support.approved",
        principal=principal,
        request=request,
        data={"hours": hours, "allow_write": allow_write},
        hours=hours,
        allow_write=allow_write,
        decided_by=principal.user,
        decided_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    return grant


def support_grant_decline(*, grant: SupportGrant, principal, request=None) -> SupportGrant:
    """Decline a requested grant; raise PermissionDenied or ValidationError as support_grant_approve does."""
    _require(principal, "support:approve", grant.workspace_id)
    return _grant_decide(
        grant,
        SupportGrantStatus.DECLINED,
        "support.declined",
        principal=principal,
        request=request,
        decided_by=principal.user,
        decided_at=timezone.now(),
    )


def support_grant_revoke(*, grant: SupportGrant, principal, request=None) -> SupportGrant:
    """End an approved grant now; raise PermissionDenied without support:approve, ValidationError if not approved."""
    _require(principal, "support:approve", grant.workspace_id)
    return _grant_decide(
        grant,
        SupportGrantStatus.REVOKED,
        "support.revoked",
        principal=principal,
        request=request,
        revoked_at=timezone.now(),
    )


def _grant_decide(
    grant: SupportGrant, to: str, action: str, *, principal, request, data=None, **fields
) -> SupportGrant:
    """Move grant to status `to` and record action in the workspace's audit chain, atomically."""
    with transaction.atomic(using="default"):
        _grant_transition(grant, to, **fields)
        audit_record(
            action,
            workspace=grant.workspace_id,
            principal=principal,
            request=request,
            target_type="support_grant",
            target_id=grant.pk,
            data={**(data or {}), "staff_id": grant.staff_user_id},
            via_outbox=True,
        )
    return grant


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
