"""Tracking's actors: Acme's shop site, its public-key principal, and visitors of it."""

from __future__ import annotations

import pytest


@pytest.fixture
def site(in_acme):
    """Acme's shop, tracked with consent (opt-in), on shop.example and the subdomains of blog.example."""
    from tidings.tests.principals import system
    from tidings.tracking import actions

    return actions.site_create(name="Acme shop", domains=["shop.example", ".blog.example"], principal=system())


@pytest.fixture
def public(site):
    """The principal the tracker acts with for Acme's shop (what the public-key door resolves)."""
    from tidings.accounts.permissions import PUBLIC_KEY_PERMISSIONS, Principal, Via
    from tidings.tenancy.selectors import workspace_by_id

    return Principal(workspace=workspace_by_id(site.workspace_id), user=None, permissions=PUBLIC_KEY_PERMISSIONS,
                     via=Via.PUBLIC_KEY, credential_id=site.pk, extra={"site": site})  # fmt: skip


@pytest.fixture
def visitor(in_acme):
    """A fresh anonymous device of Acme."""
    from tidings.events.actions import visitor_create
    from tidings.tests.principals import system

    return visitor_create(principal=system())
