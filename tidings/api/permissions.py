"""Permission checks inside an API endpoint's body, for the rare check that depends on the data.

A route's own permission is declared on the route (``@require_permission("audit:view")`` from
tidings.accounts.decorators) and checked by the entry pipeline before the endpoint runs; call these only
when the permission needed depends on what the request asks for, and say why in a comment.
"""

from __future__ import annotations

from tidings.accounts.permissions import Principal
from tidings.api.errors import Forbidden, NotAuthenticated


def require_principal(request) -> Principal:
    """Return the request's principal; raise NotAuthenticated (401) when there is none."""
    principal = getattr(request, "principal", None)
    if principal is None:
        raise NotAuthenticated("Authentication credentials were not provided.")
    return principal


def require_permission(request, permission: str) -> Principal:
    """Return the request's principal if it holds permission.

    Raise NotAuthenticated (401) without a principal and Forbidden (403) without the
    permission; a name missing from the catalogue raises KeyError (a programming error).
    """
    principal = require_principal(request)
    if not principal.can(permission):
        raise Forbidden(f"You need the {permission} permission.", details={"permission": permission})
    return principal
