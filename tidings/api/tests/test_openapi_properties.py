"""Schemathesis against the OpenAPI document of /api/v1: no operation answers 5xx, whatever it is sent.

Every operation of the document is tried with inputs generated from its schema (and, through
Schemathesis' negative mode, inputs that break it), sent with alice's token to the WSGI
application itself. The budget is bounded and the examples fixed (derandomize), so CI runs the
same requests every time (see docs/decisions/ on property-based tests).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tidings.api import openapi
from tidings.wsgi import application

MAX_EXAMPLES = 6  # per operation: 43 operations, about a minute on two busy cores


schema = schemathesis.openapi.from_dict(openapi.document())
# The fuzzing phase only: the coverage phase adds hundreds of boundary requests per operation,
# minutes on two cores; the boundaries it found (ids of 2^63...) are pinned as regression tests.
schema.config.phases.coverage.enabled = False


@pytest.fixture
def wsgi_app():
    """Return the WSGI application, called in the test's transaction as Django's test client would be.

    The handler closes "old" connections when a request starts and ends; inside a test's
    transaction that would close the connection under the test, so the signals are held off.
    """
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield application
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def alice_headers(acme, alice, settings):
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    settings.TIDINGS_API_RATE_LIMIT = 100_000  # the examples, not the rate limiter, are under test
    _, secret = api_token_create(
        workspace=acme, user=alice, name="Schemathesis", principal=principal_for_user(alice, acme)
    )
    return {"Authorization": f"Bearer {secret}"}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(case, wsgi_app, alice_headers):
    response = case.call(app=wsgi_app, headers=alice_headers)

    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
