"""Every route declares what it needs: a permission, any principal (authenticated), or none (public).

The entry pipeline (tidings.web.entry) checks the declaration before the view runs, for UI views
(tidings.accounts.decorators.require_permission, signed_in, public), native API operations (the same
decorators below @router.<method>) and Mautic-compatible views (below @mautic_api). A route that
declares nothing is refused at run time; this test finds it first.
"""

from __future__ import annotations

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tidings.accounts.permissions import Access, declared_access


def _walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(entry, prefix + str(entry.pattern), full_ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or "")
            yield name, prefix + str(entry.pattern), entry.callback


def declarations(callback) -> dict[str, Access | None]:
    """Return {method or "*": declared Access} of a URL pattern's callback."""
    by_method = getattr(callback, "tidings_access_by_method", None)  # native API routes (tidings.api.api)
    if by_method is not None:
        return dict(by_method)
    return {"*": declared_access(callback)}


def test_every_route_declares_a_permission_or_says_it_needs_none():
    undeclared = [
        f"{name or '(unnamed)'} {method} ({pattern})"
        for name, pattern, callback in _walk(get_resolver())
        for method, access in declarations(callback).items()
        if access is None
    ]
    assert not undeclared, "routes that declare no permission and are not declared public/authenticated:\n" + (
        "\n".join(undeclared)
    )


def test_the_walk_sees_every_surface():
    """The walk reads declarations of UI views, native operations and Mautic views alike."""
    found = {name: declarations(callback) for name, _pattern, callback in _walk(get_resolver())}
    assert found["contacts:list"] == {"*": Access(permission="contacts:view")}
    assert found["api:v1:list_contacts"]["GET"] == Access(permission="contacts:view")
    assert found["api:v1:list_contacts"]["POST"] == Access(permission="contacts:edit")  # one path, two methods
    assert found["mautic_compat:contacts_delete"] == {"*": Access(permission="contacts:delete")}
    assert found["api:v1:me"]["GET"] == Access()
    assert found["accounts:login"] == {"*": Access(public=True)}


def test_the_pipeline_refuses_a_route_that_declares_nothing(alice, acme):
    """Fail closed: an operation without a declaration answers 403, whoever calls it."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create
    from tidings.web import entry

    _token, secret = api_token_create(
        workspace=acme, user=alice, name="Probe", principal=principal_for_user(alice, acme)
    )
    request = RequestFactory().get("/api/v1/anything", HTTP_AUTHORIZATION=f"Bearer {secret}")
    ran = []

    def view(request):
        ran.append(True)
        return HttpResponse("ran")

    response = entry.run(
        request,
        entry.NATIVE_API,
        access=None,
        view=view,
        answer=lambda request, refusal: HttpResponse(refusal.reason, status=refusal.status),
    )
    assert (response.status_code, response.content, ran) == (403, b"forbidden", [])


@pytest.mark.parametrize(
    ("path", "method"),
    [("/api/v1/contacts", "post"), ("/api/contacts/new", "post")],
)
def test_a_declared_permission_is_checked_before_the_body_is_read(client, acme, alice, path, method):
    """An analyst's token is refused (403) before its invalid body is looked at (which would be 422/400)."""
    from tidings.accounts.actions import membership_create, user_create
    from tidings.accounts.permissions import system_principal
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    arun = user_create(email="arun@acme.example", password="correct horse battery staple")
    membership_create(workspace=acme, user=arun, role="analyst", principal=system_principal(acme, reason="test"))
    _token, secret = api_token_create(
        workspace=acme, user=arun, name="Reports", principal=principal_for_user(arun, acme)
    )
    response = getattr(client, method)(
        path, json.dumps({"fields": "not an object"}), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )  # fmt: skip
    assert response.status_code == 403
