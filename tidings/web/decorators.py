"""Permission checks for UI views; the decision itself is Principal.can()."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied


def require_permission(permission: str):
    """Let the view run only when the request's principal holds permission; otherwise 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            principal = getattr(request, "principal", None)
            if principal is None or not principal.can(permission):
                raise PermissionDenied(f"You need the {permission} permission.")
            return view(request, *args, **kwargs)

        wrapped.required_permission = permission
        return wrapped

    return decorator
