"""Mautic-compatible endpoints available now: the signed-in user, and a Mautic-shaped 404 for the rest."""

from __future__ import annotations

from tidings.accounts.decorators import authenticated
from tidings.accounts.permissions import Role
from tidings.mautic_compat.decorators import mautic_api
from tidings.mautic_compat.responses import MauticError, mautic_datetime

# Mautic roles have integer ids; ours are names. These ids are stable across releases.
ROLE_IDS = {Role.OWNER: 1, Role.ADMIN: 2, Role.MARKETER: 3, Role.ANALYST: 4}
ADMIN_ROLES = {Role.OWNER, Role.ADMIN}


def _raw_permissions(permissions) -> dict[str, list[str]]:
    """Group "area:action" permissions as Mautic's rawPermissions do ({"bundle:level": [actions]})."""
    grouped: dict[str, list[str]] = {}
    for name in sorted(permissions):
        area, _, action = name.partition(":")
        grouped.setdefault(area, []).append(action)
    return grouped


def user_self_body(principal) -> dict:
    """Return the user behind principal in the shape of Mautic's GET /api/users/self.

    Groups userDetails, roleList and publishDetails of Mautic 5.1's User and Role, nulls included.
    The role reports the permissions these credentials have, which a token may narrow.
    """
    user, role = principal.user, principal.role
    return {
        "isPublished": user.is_active,
        "dateAdded": mautic_datetime(user.date_joined),
        "dateModified": None,
        "createdBy": None,
        "createdByUser": None,
        "modifiedBy": None,
        "modifiedByUser": None,
        "id": user.pk,
        "username": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "email": user.email,
        "position": None,
        "role": {
            "id": ROLE_IDS.get(role),
            "name": Role(role).label if role in Role.values else role,
            "description": None,
            "isAdmin": role in ADMIN_ROLES,
            "rawPermissions": _raw_permissions(principal.permissions),
        },
        "timezone": user.timezone,
        "locale": user.locale,
        "lastLogin": mautic_datetime(user.last_login),
        "lastActive": mautic_datetime(user.last_active),
        "onlineStatus": "offline",
        "signature": None,
    }


@mautic_api
@authenticated
def users_self(request):
    """GET /api/users/self: the user the credentials act as (not the object Mautic wraps others in)."""
    principal = request.principal
    if principal.user is None:
        raise MauticError(403, "Application credentials (client credentials) act for no user.")
    return user_self_body(principal)


@mautic_api
@authenticated  # as in Mautic, only a caller with valid credentials learns that a path is not there
def not_found(request, rest=""):
    """Answer any other /api/... path as Mautic does for something that is not there."""
    raise MauticError(404)
