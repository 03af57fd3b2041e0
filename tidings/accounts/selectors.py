"""Reads about users, memberships and support grants, and how a user enters a workspace."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from tidings.accounts.lockout import pauses_for_usernames
from tidings.accounts.models import (
    Invitation,
    Membership,
    SupportGrant,
    SupportGrantStatus,
    User,
    invitation_token_hash,
)
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


def membership_in_workspace(workspace, membership_id: int) -> Membership | None:
    """Return the membership with this id if it belongs to workspace (an id of another workspace gives None)."""
    return Membership.objects.filter(workspace=workspace, pk=membership_id).select_related("user").first()


def sign_in_pauses_of(memberships) -> dict[int, dict]:
    """Return {user_id: {"failures": n, "wait": seconds}} for members whose failed sign-ins reached the limit.

    wait is 0 when the pause is over but the count is still remembered (the next failure pauses again).
    """
    by_username = {membership.user.email.strip().lower(): membership.user_id for membership in memberships}
    return {by_username[name]: state for name, state in pauses_for_usernames(by_username).items()}


def owner_count(workspace) -> int:
    return Membership.objects.filter(workspace=workspace, role="owner").count()


def workspace_admin_emails(workspace) -> list[str]:
    """Return the addresses of workspace's owners and admins, who decide on support access."""
    return list(
        Membership.objects.filter(workspace=workspace, role__in=["owner", "admin"], user__is_active=True)
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )


def invitation_by_token(token: str) -> Invitation | None:
    """Return the invitation whose token this is (open or not), found by the token's hash."""
    return Invitation.objects.filter(token_hash=invitation_token_hash(token)).select_related("workspace").first()


def open_invitations(workspace):
    """Return workspace's invitations that can still be accepted, newest first."""
    return Invitation.objects.filter(
        workspace=workspace, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created_at")


def invitation_in_workspace(workspace, invitation_id: int) -> Invitation | None:
    return Invitation.objects.filter(workspace=workspace, pk=invitation_id).first()


def support_grants_for_workspace(workspace):
    """Return every support grant of workspace with its staff member and decider, newest first."""
    return (
        SupportGrant.objects.filter(workspace=workspace)
        .select_related("staff_user", "decided_by")
        .order_by("-requested_at", "-pk")
    )


def support_grant_in_workspace(workspace, grant_id: int) -> SupportGrant | None:
    return SupportGrant.objects.filter(workspace=workspace, pk=grant_id).select_related("staff_user").first()


def support_grants_of_staff(staff_user):
    """Return the grants staff_user asked for, with their workspaces, newest first."""
    return (
        SupportGrant.objects.filter(staff_user=staff_user).select_related("workspace").order_by("-requested_at", "-pk")
    )


def users_by_id(ids) -> dict:
    """Return {id: User} for ids in one query (to name the actors of a page of audit entries)."""
    ids = {i for i in ids if i is not None}
    return {user.pk: user for user in User.objects.filter(pk__in=ids)} if ids else {}


_MAX_ID = 2**63 - 1  # a BIGINT; a larger id names nobody and must not reach the database


def members_by_id(workspace, ids) -> dict:
    """Return {user id: User} for those of ids whose users are members of workspace, in one query.

    Users of other workspaces, staff without a membership and ids of nobody are left out, so a
    serialiser that names people through this (a contact's owner) never reveals anyone outside
    the workspace, even for a value stored before owners were checked.
    """
    wanted = {i for i in ids if isinstance(i, int) and not isinstance(i, bool) and 0 < i <= _MAX_ID}
    if not wanted:
        return {}
    rows = Membership.objects.filter(workspace_id=workspace.id, user_id__in=wanted).select_related("user")
    return {m.user_id: m.user for m in rows}


MEMBER_SEARCH_WORDS = 4  # words of a typed name or email a member search looks at; more narrow nothing useful


def members_matching(workspace, typed: str, *, limit: int) -> list:
    """Return up to limit members (Membership with user) of workspace whose name or email holds every typed word.

    Each word matches part of the first name, last name or email, ignoring case, so "ada love"
    and "acme.example" both find Ada Lovelace. Only workspace's memberships are searched: a user
    of another workspace or staff without a membership is never returned. Nothing typed, nothing found.
    """
    words = typed.replace("\x00", "").split()[:MEMBER_SEARCH_WORDS]
    if not words or limit <= 0:
        return []
    rows = Membership.objects.filter(workspace_id=workspace.id)
    for word in words:
        word = word[:100]
        rows = rows.filter(
            Q(user__first_name__icontains=word) | Q(user__last_name__icontains=word) | Q(user__email__icontains=word)
        )
    ordered = rows.select_related("user").order_by("user__first_name", "user__last_name", "user__email", "user_id")
    return list(ordered[:limit])


def member_by_email(workspace, email: str):
    """Return the membership in workspace of the user with exactly this email (ignoring case), or None."""
    email = email.strip()
    if not email or "\x00" in email or len(email) > 254:
        return None
    rows = Membership.objects.filter(workspace_id=workspace.id, user__email__iexact=email)
    return rows.select_related("user").order_by("user_id").first()


def members_named(workspace, name: str, *, limit: int = 2) -> list:
    """Return up to limit members of workspace whose full name is exactly name (ignoring case and spacing)."""
    words = name.replace("\x00", "").split()
    if not words or len(words) > MEMBER_SEARCH_WORDS:
        return []
    candidates = members_matching(workspace, " ".join(words), limit=50)
    wanted = " ".join(words).casefold()
    return [m for m in candidates if " ".join(m.user.get_full_name().split()).casefold() == wanted][:limit]


def member_user_ids(workspace) -> set[int]:
    """Return the user ids of workspace's members (one query), to check many values at once."""
    return set(Membership.objects.filter(workspace_id=workspace.id).values_list("user_id", flat=True))


def has_two_factor(user) -> bool:
    """Return whether user has a confirmed second factor."""
    from django_otp import user_has_device

    return user_has_device(user, confirmed=True)


def user_by_email(email: str):
    return User.objects.filter(email=email.strip().lower()).first()


def two_factor_state(user) -> dict:
    """Return user's authenticator devices (confirmed and awaiting confirmation) and backup codes left."""
    from django_otp.plugins.otp_static.models import StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    devices = list(TOTPDevice.objects.filter(user=user).order_by("-confirmed", "-pk"))
    return {
        "confirmed": next((d for d in devices if d.confirmed), None),
        "pending": next((d for d in devices if not d.confirmed), None),
        "backup_codes_left": StaticToken.objects.filter(device__user=user, device__confirmed=True).count(),
    }


ACTOR_TYPE_LABELS = {
    "user": "Member",
    "staff": "Tidings staff",
    "api_token": "API token",
    "oauth_app": "OAuth2 app",
    "system": "System",
}


def actor_labels(entries) -> dict[tuple[str, int | None], str]:
    """Return a label for every (actor_type, actor_id) of entries, naming people with one query in all."""
    entries = list(entries)
    people = users_by_id(e.actor_id for e in entries if e.actor_type in {"user", "staff"})
    labels: dict[tuple[str, int | None], str] = {}
    for entry in entries:
        key = (entry.actor_type, entry.actor_id)
        if key in labels:
            continue
        kind = ACTOR_TYPE_LABELS.get(entry.actor_type, entry.actor_type)
        person = people.get(entry.actor_id) if entry.actor_type in {"user", "staff"} else None
        if person is not None:
            labels[key] = f"{kind}: {person.email}" if entry.actor_type == "staff" else person.email
        elif entry.actor_id is not None:
            labels[key] = f"{kind} #{entry.actor_id}"
        else:
            labels[key] = kind
    return labels
