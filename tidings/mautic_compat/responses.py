"""Mautic's wire format for responses: errors, list envelopes, dates, and the Mautic-Version header.

Facts from Mautic 5.1 (read, not copied): errors are ``{"errors":[{"code","message","details","type"}]}``
(FetchCommonApiController::returnError); lists are ``{"total": N, "<plural>": {"<id>": {...}}}``
keyed by id, and an empty list is ``[]`` except for contacts, whose empty list is ``{}``
and whose total is a string; dates are ISO 8601 with the offset (PHP's ``c``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse

from tidings.validation import error_fields, error_text

MAUTIC_VERSION = "5.1.0"

MESSAGES = {
    400: "The request is not valid.",
    401: "API authorization denied.",
    403: "You do not have access to the requested area/action.",
    404: "Item was not found.",
    405: "Method not allowed.",
    409: "The request conflicts with the current state of the item.",
    413: "The request body is too large.",
    415: "The request body has a type this API does not read.",
    422: "The request is not valid.",
    500: "An error occurred.",
}


class MauticError(Exception):
    """An error answered in Mautic's shape; message defaults to Mautic's wording for status."""

    def __init__(
        self, status: int, message: str | None = None, details: dict | list | None = None, headers: dict | None = None
    ):
        super().__init__(message or MESSAGES.get(status, "Error"))
        self.status = status
        self.message = message or MESSAGES.get(status, "Error")
        self.details = details if details is not None else []
        self.headers = headers or {}  # added to the answer, e.g. Retry-After


def validation_error(error: ValidationError, status: int = 400) -> MauticError:
    """Return Mautic's form error for a ValidationError: "field: message", details {field: [messages]}.

    Messages that name no field (a plain ValidationError, or NON_FIELD_ERRORS) are listed under
    "" and read without a name. status is 400, Mautic's answer to an invalid form; the
    endpoint base (tidings.mautic_compat.decorators) answers one no view caught with 422.
    """
    return MauticError(status, error_text(error), error_fields(error, non_field_key=""))


def mautic_json(data, status: int = 200) -> HttpResponse:
    """Return data as JSON with the Mautic-Version header every Mautic API response carries."""
    response = HttpResponse(json.dumps(data, cls=DjangoJSONEncoder), status=status, content_type="application/json")
    response["Mautic-Version"] = MAUTIC_VERSION
    return response


def mautic_error(status: int, message: str | None = None, details: dict | list | None = None) -> HttpResponse:
    """Return Mautic's error body: a list of one error with code, message, details ([] or {field: [msgs]}) and type."""
    error = MauticError(status, message, details)
    return mautic_json(
        {"errors": [{"code": status, "message": error.message, "details": error.details, "type": None}]}, status
    )


def rate_limit_message(limit: int, window: int) -> str:
    """Return Mautic's 429 wording; Mautic's limit is per hour, ours per a configurable window."""
    period = "hour" if window == 3600 else f"{window} seconds"
    return f"You exceeded the rate limit of {limit} API calls per {period}."


def mautic_datetime(value: datetime | None) -> str | None:
    """Return value as PHP's date('c'): ISO 8601 in UTC with +00:00, to the second; None stays None."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds")


def list_envelope(
    plural: str,
    items: Iterable[dict],
    *,
    total: int | None = None,
    id_of: Callable[[dict], object] = lambda item: item["id"],
    empty_as_object: bool = False,
    total_as_string: bool = False,
) -> dict:
    """Return Mautic's list body: {"total": N, plural: {"<id>": item, ...}}.

    An empty result is [] as Mautic serialises it, or {} with empty_as_object (contacts).
    total defaults to the number of items; total_as_string mimics the contacts list,
    whose total is a string (except 0).
    """
    results = {str(id_of(item)): item for item in items}
    count = len(results) if total is None else total
    body_total: int | str = str(count) if total_as_string and count else count
    if not results:
        return {"total": body_total, plural: {} if empty_as_object else []}
    return {"total": body_total, plural: results}
