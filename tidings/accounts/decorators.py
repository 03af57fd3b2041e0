"""Route declarations for every surface: what a route needs, read and checked by the entry pipeline.

``require_permission("contacts:view")`` goes on UI views, on native API operations (below
``@router.<method>(...)``) and on Mautic-compatible views (below ``@mautic_api``); ``authenticated``
marks a route any principal may call, ``public`` one that needs none, and ``signed_in`` a UI page
outside any workspace that needs a signed-in user. tidings.web.entry checks the declaration before the
view runs; a route with no declaration is refused (tidings/tests/test_route_access.py finds it first).
They live in accounts, beside the Access they record, so that every app's pages can declare their routes
without importing the web shell, which sits above them all.

This is the one ``require_permission``. A check that depends on the data (which action a form chose,
what a request asks for) calls ``tidings.accounts.permissions.require(request.principal, ...)`` in
the view's body, the same function every action calls first; every surface answers its
PermissionDenied with 403 in its own shape.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404

from tidings.accounts.permissions import Access, declare_access, require


def require_permission(permission: str, *, verifies_two_factor: bool = False):
    """Declare that a route needs permission; the wrapped view refuses (403) a principal without it.

    The pipeline has already refused such a request before the view runs; the wrapper asks again
    (tidings.accounts.permissions.require) so that a view reached some other way fails closed.
    verifies_two_factor marks the page where members pass the workspace's two-factor policy.
    """
    access = Access(permission=permission, verifies_two_factor=verifies_two_factor)

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            principal = getattr(request, "principal", None)
            if principal is None:
                raise PermissionDenied(f"You need the {permission} permission.")
            require(principal, permission)
            return view(request, *args, **kwargs)

        wrapped.required_permission = permission  # type: ignore[attr-defined]  # read by the entry pipeline
        _keep_annotations(wrapped, view)
        return declare_access(wrapped, access)

    return decorator


def _keep_annotations(wrapped, view) -> None:
    """Give wrapped view's signature with its annotations evaluated where view was written.

    django-ninja reads an operation's parameters from the signature and evaluates string annotations
    (``from __future__ import annotations``) in the function's own module; the wrapper lives here.
    """
    import inspect
    import typing

    try:
        hints = typing.get_type_hints(view, include_extras=True)
        signature = inspect.signature(view)
    except (NameError, TypeError, ValueError):
        return
    parameters = [
        parameter.replace(annotation=hints.get(name, parameter.annotation))
        for name, parameter in signature.parameters.items()
    ]
    wrapped.__signature__ = signature.replace(parameters=parameters)


def authenticated(view):
    """Declare that any principal may call view (its own data, or a check that depends on the data)."""
    return declare_access(view, Access())


def public(view):
    """Declare that view needs no principal (sign-in pages, documents that hold no workspace data)."""
    return declare_access(view, Access(public=True))


def signed_in(view):
    """Let only a signed-in user reach a UI page outside any workspace (Django's login_required), and declare it."""
    return declare_access(login_required(view), Access())


def found(view):
    """Answer 404 when a view's selector or action says the object is not in this workspace (DoesNotExist)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ObjectDoesNotExist as error:
            raise Http404("Not found.") from error

    return wrapped
