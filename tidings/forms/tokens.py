"""The signed tokens of forms, each bound to its workspace and form: all expire, none can be made up.

- render_token(form_id): put in the rendered form (mauticform[tds_ts]); a submission carrying it
  sooner than TIDINGS_FORMS_MIN_FILL_SECONDS after it was made is treated as a robot's.
- submission_token(form_id, submission_id): appended as ?tds= to a success redirect (pages and assets
  gate on it: selectors.submission_token_valid).
- confirm_token(form_id, submission_id): the double opt-in link's.
"""

from __future__ import annotations

import math
import time
from typing import Any

from django.core import signing

from tidings.tenancy.context import require_workspace

RENDER_SALT = "tidings.forms.render"
SUBMISSION_SALT = "tidings.forms.submission"
CONFIRM_SALT = "tidings.forms.confirm"
MAX_TOKEN = 512
RENDER_MAX_AGE = 24 * 3600  # a form page left open for a day must be reloaded


def _dumps(payload: dict, salt: str) -> str:
    return signing.dumps({"w": require_workspace().id, **payload}, salt=salt, compress=True)


def _loads(token: Any, salt: str, max_age: int) -> dict | None:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        return None
    try:
        payload = signing.loads(token, salt=salt, max_age=max_age)
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(payload, dict) or payload.get("w") != require_workspace().id:
        return None
    return payload


def render_token(form_id: int) -> str:
    # Rounded down, never up: a time rounded up made a form sent within 50 ms look sent before it was made
    # (a negative age, under a least fill time of 0: seen once as a flaky test).
    return _dumps({"f": int(form_id), "t": math.floor(time.time() * 10) / 10}, RENDER_SALT)


def rendered_seconds_ago(token: Any, form_id: int) -> float | None:
    """Return how many seconds ago token was rendered for form_id; None when it is not a valid one."""
    payload = _loads(token, RENDER_SALT, RENDER_MAX_AGE)
    if payload is None or payload.get("f") != form_id or not isinstance(payload.get("t"), int | float):
        return None
    return time.time() - float(payload["t"])


def submission_token(form_id: int, submission_id: int) -> str:
    return _dumps({"f": int(form_id), "s": int(submission_id)}, SUBMISSION_SALT)


def submission_of_token(token: Any, form_id: int, max_age: int) -> int | None:
    payload = _loads(token, SUBMISSION_SALT, max_age)
    if payload is None or payload.get("f") != form_id or not isinstance(payload.get("s"), int):
        return None
    return payload["s"]


def confirm_token(form_id: int, submission_id: int) -> str:
    return _dumps({"f": int(form_id), "s": int(submission_id)}, CONFIRM_SALT)


def confirm_payload(token: Any, max_age: int) -> tuple[int, int] | None:
    """Return (form id, submission id) of a confirmation token of this workspace; None when forged or expired."""
    payload = _loads(token, CONFIRM_SALT, max_age)
    if payload is None or not isinstance(payload.get("f"), int) or not isinstance(payload.get("s"), int):
        return None
    return payload["f"], payload["s"]
