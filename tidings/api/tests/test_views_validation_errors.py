"""The token and application pages show an action's ValidationError that names no field, never a 500."""

from __future__ import annotations

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

MESSAGE = "This name is taken."
REFUSALS = {
    "plain": ValidationError(MESSAGE),
    "non-field key": ValidationError({NON_FIELD_ERRORS: [MESSAGE]}),
}


def _refuse(error):
    def action(*args, **kwargs):
        raise error

    return action


@pytest.mark.parametrize("kind", REFUSALS)
def test_creating_a_token_refused_shows_the_reason_on_the_form(dave_client, acme, monkeypatch, kind):
    from tidings.api import views

    monkeypatch.setattr(views.actions, "api_token_create", _refuse(REFUSALS[kind]))
    response = dave_client.post(
        f"/w/{acme.slug}/settings/api-tokens/", {"name": "Reporting", "permissions": ["contacts:view"]}
    )
    assert response.status_code == 200  # the page's answer to any refused form (tests/test_views.py)
    assert MESSAGE in response.content.decode()
    assert response.context["created"] is None


@pytest.mark.parametrize("kind", REFUSALS)
def test_creating_an_application_refused_shows_the_reason_on_the_form(alice_client, acme, monkeypatch, kind):
    from tidings.api import views

    monkeypatch.setattr(views.actions, "oauth_app_create", _refuse(REFUSALS[kind]))
    response = alice_client.post(
        f"/w/{acme.slug}/settings/oauth-apps/",
        {"name": "Warehouse", "grant_type": "client-credentials", "permissions": ["workspace:view"]},
    )
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    assert response.context["created"] is None
