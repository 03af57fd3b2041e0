"""A native-API client for tests: a member's API token, JSON in and out (rate limits: the fresh_rate_limits fixture)."""

from __future__ import annotations

import json


class ApiClient:
    """Calls /api/v1 with the given headers (a token's Authorization)."""

    def __init__(self, client, headers):
        self.client, self.headers = client, headers

    def get(self, path, data=None):
        return self.client.get(f"/api/v1{path}", data or {}, **self.headers)

    def send(self, method, path, body=None):
        """Send body as JSON (a str is sent as it is: tests of malformed bodies)."""
        text = body if isinstance(body, str) else json.dumps(body or {})
        call = getattr(self.client, method.lower())
        return call(f"/api/v1{path}", text, content_type="application/json", **self.headers)

    def post(self, path, body):
        return self.send("POST", path, body)


def token_api(client, workspace, user, permissions=None, *, name: str = "Test sync") -> ApiClient:
    """Return an ApiClient holding a new API token of user in workspace (all of the member's permissions by default)."""
    from tidings.accounts.selectors import principal_for_user
    from tidings.api.actions import api_token_create

    _, secret = api_token_create(workspace=workspace, user=user, name=name, permissions=permissions,
                                 principal=principal_for_user(user, workspace))  # fmt: skip
    return ApiClient(client, {"HTTP_AUTHORIZATION": f"Bearer {secret}"})
