"""Read a submission's answers against the form's fields: typed values, checked consents, field-level errors.

read_answers(fields, posted, known) takes the posted answers as {alias: [values]} (the form's
mauticform[alias] and mauticform[alias][] entries), and known, the aliases of contact fields the
submitter's own (device-identified) contact already holds, so progressive fields it knows may be
left out. It never raises on input: every problem is an error keyed by the field's alias whose
message says what is expected and never repeats what was sent.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

from tidings.countries import country_code
from tidings.forms.definition import MAX_LENGTH
from tidings.forms.models import FieldKind
from tidings.patterns import full_match

CHECKED = {"1", "on", "true", "yes", "y"}
_email = EmailValidator()
_url = URLValidator(schemes=["http", "https"])
_TEL = re.compile(r"^\+?[0-9 ().\-/]{4,32}$")


@dataclass
class Answers:
    """values: {alias: answer} of every answered field; consents: [(field, checked)] of consent checkboxes;
    contact: {contact alias: value} to write; company: {company alias: value}; errors: {alias: message}."""

    values: dict[str, Any] = field(default_factory=dict)
    consents: list[tuple[dict, bool]] = field(default_factory=list)
    contact: dict[str, Any] = field(default_factory=dict)
    company: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def skipped(field_def: Mapping[str, Any], known: set[str]) -> bool:
    """Return whether a progressive field is left out because the submitter's contact already has its value."""
    return bool(field_def.get("progressive")) and field_def.get("maps_to", "") in known


def _one(posted: Mapping[str, list[str]], alias: str) -> str:
    values = posted.get(alias) or []
    value = values[0] if values else ""
    return value.strip() if isinstance(value, str) else ""


def _text_checks(kind: str, value: str, rules: Mapping[str, Any]) -> str | None:
    """Return the message for a text answer that breaks the field's rules, None when it is fine."""
    limit = min(int(rules.get("max_length", MAX_LENGTH)), MAX_LENGTH)
    if len(value) > limit:
        return f"Use at most {limit} characters."
    if len(value) < int(rules.get("min_length", 0)):
        return f"Use at least {rules['min_length']} characters."
    if kind == FieldKind.EMAIL:
        try:
            _email(value)
        except ValidationError:
            return "Enter a valid email address."
    if kind == FieldKind.URL:
        try:
            _url(value)
        except ValidationError:
            return "Enter a web address starting with http:// or https://."
    if kind == FieldKind.TEL and not _TEL.match(value):
        return "Enter a phone number (digits, spaces, + ( ) - . /)."
    pattern = rules.get("pattern")
    if pattern and not full_match(pattern, value):  # RE2: linear time whatever the visitor sends
        return "The answer does not have the expected format."
    return None


def _number(value: str, rules: Mapping[str, Any]) -> tuple[Any, str | None]:
    if len(value) > 40:
        return None, "Enter a number."
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        return None, "Enter a number."
    if number != number or number in (float("inf"), float("-inf")):
        return None, "Enter a number."
    if "min" in rules and number < rules["min"]:
        return None, f"Enter a number of at least {rules['min']}."
    if "max" in rules and number > rules["max"]:
        return None, f"Enter a number of at most {rules['max']}."
    return (int(number) if number.is_integer() and abs(number) < 2**53 else number), None


def _answer(field_def: Mapping[str, Any], posted: Mapping[str, list[str]]) -> tuple[Any, str | None]:
    """Return (typed answer or None when empty, error message or None) for one field."""
    kind, alias, rules = field_def["kind"], field_def["alias"], field_def.get("rules") or {}
    if kind == FieldKind.CHECKBOXES:
        chosen = [v.strip() for v in (posted.get(alias) or []) if isinstance(v, str) and v.strip()]
        allowed = {option["value"] for option in field_def.get("options") or []}
        if len(chosen) > len(allowed) or any(v not in allowed for v in chosen):
            return None, "Choose among the options."
        return (sorted(set(chosen), key=chosen.index) or None), None
    value = _one(posted, alias)
    if kind == FieldKind.HIDDEN and not value:
        value = field_def.get("default") or ""
    if not value:
        return None, None
    if kind in {FieldKind.SELECT, FieldKind.RADIO}:
        allowed = {option["value"] for option in field_def.get("options") or []}
        return (value, None) if value in allowed else (None, "Choose one of the options.")
    if kind == FieldKind.COUNTRY:
        code = country_code(value) if len(value) <= 100 else None
        return (code, None) if code else (None, "Choose a country.")
    if kind == FieldKind.NUMBER:
        return _number(value, rules)
    if kind == FieldKind.DATE:
        try:
            return datetime.date.fromisoformat(value[:10]).isoformat(), None
        except ValueError:
            return None, "Enter a date as YYYY-MM-DD."
    if "\x00" in value:
        return None, "The answer holds characters that are not text."
    error = _text_checks(kind, value, rules)
    return (None, error) if error else (value, None)


def read_answers(fields: list[Mapping[str, Any]], posted: Mapping[str, list[str]], known: set[str]) -> Answers:
    """Read posted against fields (see the module docstring); never raises on input."""
    answers = Answers()
    for field_def in fields:
        kind, alias = field_def["kind"], field_def["alias"]
        if kind == FieldKind.FREEHTML:
            continue
        if kind == FieldKind.CONSENT:
            checked = _one(posted, alias).lower() in CHECKED
            if field_def.get("required") and not checked:
                answers.errors[alias] = "Tick this box to continue."
            answers.consents.append((dict(field_def), checked))
            answers.values[alias] = checked
            continue
        value, error = _answer(field_def, posted)
        if error:
            answers.errors[alias] = error
            continue
        if value is None:
            if field_def.get("required") and not skipped(field_def, known):
                answers.errors[alias] = "This field is required."
            continue
        answers.values[alias] = value
        target = field_def.get("maps_to") or ""
        if target.startswith("company:"):
            answers.company[target.removeprefix("company:")] = value
        elif target:
            answers.contact[target] = ", ".join(value) if isinstance(value, list) else value
    return answers
