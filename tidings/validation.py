"""Turn any ValidationError an action raises into what a surface shows, the same way everywhere.

Actions raise Django's ValidationError in three shapes: keyed by field
(``ValidationError({"email": ["another contact already has this email"]})``), keyed by
``NON_FIELD_ERRORS`` ("__all__") for a problem of the whole request, or plain
(``ValidationError("This invitation has expired.")``), which has no ``message_dict`` at all:
reading ``error.message_dict`` on it raises AttributeError, a 500. ``error_fields`` reads all
three as ``{field: [messages]}``, with the messages that name no field under one key: Django's
``NON_FIELD_ERRORS`` unless the surface names its own.

Each surface has one helper built on it:

- native API: ``tidings.api.errors.validation_fields`` (non-field messages under "request")
  and ``Unprocessable.of``, answered 422 in the native error shape;
- Mautic-compatible API: ``tidings.mautic_compat.responses.validation_error`` (non-field
  messages under "", as Mautic's form errors have them);
- UI pages: ``form_add_errors`` (each message beside its field, the rest at the top of the
  form) and ``error_message`` (one sentence for a flash message or an inline note), below;
- commands: ``error_text``, one line.

This module imports nothing from Tidings, so every layer may use it.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

__all__ = ["NON_FIELD_ERRORS", "error_fields", "error_message", "error_text", "form_add_errors"]


def error_fields(error: ValidationError, *, non_field_key: str = NON_FIELD_ERRORS) -> dict[str, list[str]]:
    """Return error as {field: [messages]}, the messages of no field (plain or NON_FIELD_ERRORS) under non_field_key."""
    if not hasattr(error, "error_dict"):
        return {non_field_key: list(error.messages)}
    fields: dict[str, list[str]] = {}
    for name, messages in error.message_dict.items():
        fields.setdefault(non_field_key if name == NON_FIELD_ERRORS else name, []).extend(messages)
    return fields


def error_text(error: ValidationError) -> str:
    """Return error as one line: "field: message; other: message", messages of no field without a name."""
    return "; ".join(
        f"{name}: {' '.join(messages)}" if name else " ".join(messages)
        for name, messages in error_fields(error, non_field_key="").items()
    )


def error_message(error: ValidationError) -> str:
    """Return error's messages as one sentence, for a flash message or a note beside a control."""
    return " ".join(error.messages)


def form_add_errors(form, error: ValidationError) -> None:
    """Show an action's ValidationError on a bound form: beside the fields it names, the rest at the top."""
    for name, messages in error_fields(error).items():
        form.add_error(name if name in form.fields else None, messages)
