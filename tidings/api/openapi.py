"""The OpenAPI document of the native API (/api/v1), rendered the same way every time.

The document is committed (docs/api/openapi.json) and a test compares it with the live one, so a
change to the API shows up in review as a change to that file. `tidings openapi --write` regenerates it.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

PATH_PREFIX = "/api/v1"
# The committed copy, in the checkout (absent from an installed package: pass --output there).
COMMITTED = Path(settings.BASE_DIR).parent / "docs" / "api" / "openapi.json"
REGENERATE = "tidings openapi --write"


def document() -> dict:
    """Return the live OpenAPI document of /api/v1, with every app's router mounted."""
    from django.urls import get_resolver

    from tidings.api.api import api

    get_resolver().url_patterns  # noqa: B018 - loading the URLconf mounts every app's router

    return api.get_openapi_schema(path_prefix=PATH_PREFIX)


def render(schema: dict | None = None) -> str:
    """Return the document as committed: keys sorted, two-space indent, UTF-8 characters kept, final newline."""
    return json.dumps(document() if schema is None else schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
