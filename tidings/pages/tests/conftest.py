"""Pages' actors: Acme's published spring page, its newsletter (a subscription list) and ada's preference link."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def spring(in_acme):
    """Acme's published landing page /m/acme/p/spring."""
    from tidings.pages import actions
    from tidings.tests.principals import system

    return actions.page_create(principal=system(), title="Spring sale", slug="spring", is_published=True,
                               content="<h1>Spring sale</h1><p>Everything must go.</p>",
                               meta_description="Acme's spring sale")  # fmt: skip


@pytest.fixture
def newsletter(in_acme):
    """Acme's monthly newsletter: a published segment marked as a subscription list."""
    from tidings.segments import actions
    from tidings.tests.principals import system

    return actions.segment_create(principal=system(), name="Monthly newsletter", description="Once a month.",
                                  in_preference_centre=True)  # fmt: skip


@pytest.fixture
def ada_link(ada):
    """The path of ada's preference centre (what preference_link gives, without the base URL)."""
    from tidings.pages.selectors import preference_token

    return f"/m/acme/preferences/{preference_token(ada.id)}"


@pytest.fixture
def alice_bearer(acme, alice):
    """alice's API token, as a Mautic client sends it."""
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    _, secret = api_token_create(workspace=acme, user=alice, name="Mautic plugin",
                                 principal=principal_for_user(alice, acme))  # fmt: skip
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
