"""The native API's one error format: ``{"error": {"code": ..., "message": ..., "details": {...}}}``.

Raise ``ApiError`` (or one of its subclasses) from an endpoint; ninja's own errors
(validation, authentication) and Django's (Http404, PermissionDenied, ValidationError) are
mapped to the same shape by the handlers registered in ``tidings.api.api``. A ValidationError
is a 422 whose details are ``{"fields": {field: [messages]}}``, messages of no field under
"request" (``validation_fields``); an endpoint that catches one raises ``Unprocessable.of(error)``.
"""

from __future__ import annotations

import functools

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import JsonResponse

from tidings.validation import error_fields

NON_FIELD_KEY = "request"  # where the native API puts messages that name no field

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "server_error",
}


class ApiError(Exception):
    """An error answered as status with the native error body."""

    status = 400

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None, status=None):
        super().__init__(message)
        self.message = message
        self.status = status or self.status
        self.code = code or ERROR_CODES.get(self.status, "error")
        self.details = details or {}


class BadRequest(ApiError):
    status = 400


class NotAuthenticated(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class Unprocessable(ApiError):
    status = 422

    @classmethod
    def of(cls, error: ValidationError, message: str = "The request is not valid.") -> Unprocessable:
        """Return the 422 of a ValidationError, its messages by field in details["fields"]."""
        return cls(message, details={"fields": validation_fields(error)})


def validation_fields(error: ValidationError) -> dict[str, list[str]]:
    """Return a ValidationError as {field: [messages]}, messages of no field under "request"."""
    return error_fields(error, non_field_key=NON_FIELD_KEY)


def error_body(status: int, message: str, *, code: str | None = None, details: dict | None = None) -> dict:
    return {"error": {"code": code or ERROR_CODES.get(status, "error"), "message": message, "details": details or {}}}


def error_response(status: int, message: str, *, code: str | None = None, details: dict | None = None) -> JsonResponse:
    """Return a JSON response in the native error format."""
    response = JsonResponse(error_body(status, message, code=code, details=details), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="tidings"'
    return response


def found(view):
    """Answer 404 when the endpoint's selector or action raises DoesNotExist (another workspace's id included)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ObjectDoesNotExist as error:
            raise NotFound("Not found.") from error

    return wrapped
