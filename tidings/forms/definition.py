"""Check a form's definition (its settings, fields and submit actions) before it is saved.

checked_form(values, fields, actions, next_field_id) returns the normalised definition or raises
ValidationError keyed by "name", "fields.<n>.<key>" or "actions.<n>.<key>", whose messages say
what is expected and never repeat a value. Called by tidings.forms.actions on every save.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.text import slugify

from tidings.accounts.selectors import member_user_ids
from tidings.consent import selectors as consent_selectors
from tidings.contacts import selectors_fields as contacts_fields
from tidings.emails import selectors_sending as emails_selectors
from tidings.forms.models import ActionKind, FieldKind
from tidings.html_sanitise import clean_html
from tidings.patterns import PatternError, linear
from tidings.segments import selectors as segments_selectors
from tidings.tenancy.context import require_workspace
from tidings.tenancy.selectors import workspace_by_id

MAX_NAME = 191
MAX_DESCRIPTION = 2000
MAX_LABEL = 500
MAX_HELP = 500
MAX_DEFAULT = 1000
MAX_HTML = 20_000
MAX_FIELDS = 100
MAX_OPTIONS = 200
MAX_ACTIONS = 20
MAX_TAGS = 20
MAX_PATTERN = 200
MAX_POINTS = 10_000
MAX_LENGTH = 5000  # the longest answer any text field takes
ALIAS_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Names the public form's wire format uses itself (Mautic's, and Tidings' spam fields).
RESERVED_ALIASES = frozenset({"formid", "return", "formname", "messenger", "submit"})
RESERVED_PREFIX = "tds_"
CHOICE_KINDS = {FieldKind.SELECT, FieldKind.RADIO, FieldKind.CHECKBOXES}
TEXT_KINDS = {FieldKind.TEXT, FieldKind.TEXTAREA, FieldKind.EMAIL, FieldKind.TEL, FieldKind.URL, FieldKind.HIDDEN}
NO_ANSWER_KINDS = {FieldKind.FREEHTML}
COMPANY_PREFIX = "company:"


def _text(value: Any, limit: int, errors: dict, key: str, *, required: bool = False, what: str = "a text") -> str:
    if value is None:
        value = ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        errors[key] = [f"{what} of at most {limit} characters"]
        return ""
    value = str(value).strip()
    if len(value) > limit or (required and not value):
        errors[key] = [f"{what} of {'1' if required else '0'} to {limit} characters"]
    return value


def _bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in {"1", "true", "on", "yes"})


def _int(value: Any, errors: dict, key: str, *, low: int, high: int, allow_none: bool = True) -> int | None:
    if value in (None, "") and allow_none:
        return None
    if isinstance(value, bool):
        errors[key] = [f"a whole number from {low} to {high}"]
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors[key] = [f"a whole number from {low} to {high}"]
        return None
    if not low <= number <= high:
        errors[key] = [f"a whole number from {low} to {high}"]
        return None
    return number


def _options(value: Any, errors: dict, key: str) -> list[dict[str, str]]:
    """Return options as [{"value", "label"}]: from a list of those, of strings, or a text of one per line."""
    if isinstance(value, str):
        value = [line for line in value.splitlines() if line.strip()]
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_OPTIONS:
        errors[key] = [f"1 to {MAX_OPTIONS} options"]
        return []
    options: list[dict[str, str]] = []
    for item in value:
        if isinstance(item, Mapping):
            option_value, label = item.get("value"), item.get("label", item.get("value"))
        elif isinstance(item, str):
            option_value, _, label = item.partition("|")
            label = label or option_value
        else:
            errors[key] = ["each option is a text, or value|label"]
            return []
        option_value = str(option_value or "").strip()
        label = str(label or "").strip()
        if not option_value or len(option_value) > 200 or len(label) > 200:
            errors[key] = ["each option has a value and a label of 1 to 200 characters"]
            return []
        options.append({"value": option_value, "label": label})
    if len({option["value"] for option in options}) != len(options):
        errors[key] = ["options have different values"]
    return options


def _rules(value: Any, kind: str, errors: dict, prefix: str) -> dict[str, Any]:
    value = value if isinstance(value, Mapping) else {}
    rules: dict[str, Any] = {}
    if kind in TEXT_KINDS:
        for name in ("min_length", "max_length"):
            number = _int(value.get(name), errors, f"{prefix}.{name}", low=0, high=MAX_LENGTH)
            if number is not None:
                rules[name] = number
        if rules.get("min_length", 0) > rules.get("max_length", MAX_LENGTH):
            errors[f"{prefix}.min_length"] = ["at most the maximum length"]
        pattern = value.get("pattern") or ""
        if pattern:
            if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN:
                errors[f"{prefix}.pattern"] = [f"a regular expression of at most {MAX_PATTERN} characters"]
            else:
                try:
                    linear(pattern)
                except PatternError:
                    errors[f"{prefix}.pattern"] = [
                        "a valid regular expression, without back-references or look-arounds"
                    ]
                else:
                    rules["pattern"] = pattern
    if kind == FieldKind.NUMBER:
        for name in ("min", "max"):
            number = _int(value.get(name), errors, f"{prefix}.{name}", low=-(10**12), high=10**12)
            if number is not None:
                rules[name] = number
        if "min" in rules and "max" in rules and rules["min"] > rules["max"]:
            errors[f"{prefix}.min"] = ["at most the maximum"]
    return rules


def _maps_to(value: Any, kind: str, errors: dict, key: str, contact_fields, company_fields) -> str:
    value = str(value or "").strip()
    if not value:
        return ""
    if kind in NO_ANSWER_KINDS or kind == FieldKind.CONSENT:
        errors[key] = ["this kind of field fills no contact field"]
        return ""
    if value.startswith(COMPANY_PREFIX):
        definition = company_fields.get(value[len(COMPANY_PREFIX) :])
    else:
        definition = contact_fields.get(value)
    if definition is None or definition.archived_at is not None:
        errors[key] = ["the alias of a contact field (or company:<alias> of a company field)"]
        return ""
    return value


def _field(raw: Any, index: int, errors: dict, lookups: dict, next_id: int) -> tuple[dict | None, int]:
    prefix = f"fields.{index}"
    if not isinstance(raw, Mapping):
        errors[prefix] = ["a field is an object with kind and label"]
        return None, next_id
    kind = raw.get("kind")
    if kind not in FieldKind.values:
        errors[f"{prefix}.kind"] = [f"one of {', '.join(FieldKind.values)}"]
        return None, next_id
    field: dict[str, Any] = {"kind": kind}
    field_id = raw.get("id")
    if isinstance(field_id, int) and not isinstance(field_id, bool) and 0 < field_id < next_id:
        field["id"] = field_id
    else:
        field["id"], next_id = next_id, next_id + 1
    field["label"] = _text(raw.get("label"), MAX_LABEL, errors, f"{prefix}.label", required=kind != FieldKind.FREEHTML)
    alias = raw.get("alias") or slugify(field["label"]).replace("-", "_")[:64] or f"field_{field['id']}"
    if not isinstance(alias, str):
        alias = ""
    elif not alias[0].isalpha() and not raw.get("alias"):
        alias = f"f_{alias}"[:64]
    if not isinstance(alias, str) or not ALIAS_RE.match(alias) or alias in RESERVED_ALIASES:
        errors[f"{prefix}.alias"] = ["1 to 64 of a-z, 0-9 and _, starting with a letter (not a reserved name)"]
    elif alias.startswith(RESERVED_PREFIX):
        errors[f"{prefix}.alias"] = [f"an alias that does not start with {RESERVED_PREFIX}"]
    field["alias"] = alias
    field["help"] = _text(raw.get("help"), MAX_HELP, errors, f"{prefix}.help")
    field["required"] = _bool(raw.get("required")) and kind not in NO_ANSWER_KINDS
    field["default"] = _text(raw.get("default"), MAX_DEFAULT, errors, f"{prefix}.default")
    field["progressive"] = _bool(raw.get("progressive"))
    field["options"] = _options(raw.get("options"), errors, f"{prefix}.options") if kind in CHOICE_KINDS else []
    values = {option["value"] for option in field["options"]}
    if kind in {FieldKind.SELECT, FieldKind.RADIO} and field["default"] and values and field["default"] not in values:
        errors[f"{prefix}.default"] = ["one of the options' values"]
    field["rules"] = _rules(raw.get("rules"), kind, errors, f"{prefix}.rules")
    field["maps_to"] = _maps_to(raw.get("maps_to"), kind, errors, f"{prefix}.maps_to", lookups["contact_fields"],
                                lookups["company_fields"])  # fmt: skip
    if field["progressive"] and not field["maps_to"]:
        errors[f"{prefix}.progressive"] = ["only a field that fills a contact field can be skipped when known"]
    field["purpose"] = ""
    if kind == FieldKind.CONSENT:
        purpose = str(raw.get("purpose") or "")
        try:
            consent_selectors.purpose_by_key(purpose)
        except ObjectDoesNotExist:
            errors[f"{prefix}.purpose"] = ["the key of a purpose of this workspace (Privacy > Consent)"]
        else:
            field["purpose"] = purpose
    field["html"] = ""
    if kind == FieldKind.FREEHTML:
        html = _text(raw.get("html"), MAX_HTML, errors, f"{prefix}.html", what="HTML")
        field["html"] = clean_html(html)
    return field, next_id


def _action(raw: Any, index: int, errors: dict, fields: list[dict]) -> dict | None:
    prefix = f"actions.{index}"
    if not isinstance(raw, Mapping) or raw.get("kind") not in ActionKind.values:
        errors[f"{prefix}.kind"] = [f"one of {', '.join(ActionKind.values)}"]
        return None
    kind = raw["kind"]
    action: dict[str, Any] = {"kind": kind}
    if kind in {ActionKind.SEGMENT_ADD, ActionKind.SEGMENT_REMOVE}:
        segment_id = _int(raw.get("segment_id"), errors, f"{prefix}.segment_id", low=1, high=2**63 - 1,
                          allow_none=False)  # fmt: skip
        if segment_id is not None:
            try:
                segments_selectors.segment_get(segment_id)
            except ObjectDoesNotExist:
                errors[f"{prefix}.segment_id"] = ["a segment of this workspace"]
        action["segment_id"] = segment_id
    elif kind in {ActionKind.TAGS_ADD, ActionKind.TAGS_REMOVE}:
        tags = raw.get("tags")
        if isinstance(tags, str):
            tags = [tag.strip() for tag in tags.split(",") if tag.strip()]
        if (not isinstance(tags, list) or not 1 <= len(tags) <= MAX_TAGS
                or any(not isinstance(tag, str) or not tag.strip() or len(tag) > 100 or tag.startswith("-")
                       for tag in tags)):  # fmt: skip
            errors[f"{prefix}.tags"] = [f"1 to {MAX_TAGS} tag names of 1 to 100 characters"]
            tags = []
        action["tags"] = [tag.strip() for tag in tags]
    elif kind == ActionKind.POINTS:
        delta = _int(raw.get("delta"), errors, f"{prefix}.delta", low=-MAX_POINTS, high=MAX_POINTS, allow_none=False)
        if delta == 0:
            errors[f"{prefix}.delta"] = ["a change other than 0"]
        action["delta"] = delta
    elif kind == ActionKind.NOTIFY:
        members = raw.get("member_ids")
        if isinstance(members, str):
            members = [part for part in members.replace(",", " ").split() if part]
        known = member_user_ids(workspace_by_id(require_workspace().id))
        ids: list[int] = []
        for member in members if isinstance(members, list) else [None]:
            number = _int(member, errors, f"{prefix}.member_ids", low=1, high=2**63 - 1, allow_none=False)
            if number is not None and number not in known:
                errors[f"{prefix}.member_ids"] = ["members of this workspace"]
            elif number is not None:
                ids.append(number)
        if not ids and f"{prefix}.member_ids" not in errors:
            errors[f"{prefix}.member_ids"] = ["at least one member"]
        action["member_ids"] = sorted(set(ids))
    elif kind == ActionKind.SEND_EMAIL:
        email_id = _int(raw.get("email_id"), errors, f"{prefix}.email_id", low=1, high=2**63 - 1, allow_none=False)
        if email_id is not None and email_id not in emails_selectors.template_email_ids([email_id]):
            errors[f"{prefix}.email_id"] = ["a template email of this workspace"]
        action["email_id"] = email_id
    elif kind == ActionKind.DOUBLE_OPT_IN:
        purpose = raw.get("purpose") or "marketing_email"
        action["purpose"] = purpose
        if not any(field["kind"] == FieldKind.CONSENT and field["purpose"] == purpose for field in fields):
            errors[f"{prefix}.purpose"] = ["a consent checkbox of the form bound to this purpose"]
        if not any(field["maps_to"] == "email" for field in fields):
            errors[f"{prefix}.kind"] = ["a field filling the contact's email, where the confirmation is sent"]
        action["subject"] = _text(raw.get("subject") or "Please confirm your subscription", 200, errors,
                                  f"{prefix}.subject", required=True)  # fmt: skip
    return action


def checked_form(values: Mapping[str, Any], fields: Any, actions: Any, *, next_field_id: int) -> dict[str, Any]:
    """Return the normalised definition {name, alias, description, published, success_message, redirect_url,
    fields, actions, next_field_id}; raise ValidationError keyed by what is wrong."""
    errors: dict[str, list[str]] = {}
    result: dict[str, Any] = {
        "name": _text(values.get("name"), MAX_NAME, errors, "name", required=True, what="a name"),
        "description": _text(values.get("description"), MAX_DESCRIPTION, errors, "description"),
        "published": _bool(values.get("published")),
        "success_message": _text(values.get("success_message"), 500, errors, "success_message"),
    }
    alias = values.get("alias") or slugify(result["name"])[:64]
    if not isinstance(alias, str) or not re.match(r"^[a-z0-9][a-z0-9_-]{0,63}$", alias):
        errors["alias"] = ["1 to 64 of a-z, 0-9, - and _"]
    result["alias"] = alias
    redirect_url = _text(values.get("redirect_url"), 500, errors, "redirect_url")
    if redirect_url and not re.match(r"^https?://[^\s/]+", redirect_url):
        errors["redirect_url"] = ["an http:// or https:// address"]
    result["redirect_url"] = redirect_url
    if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
        errors["fields"] = [f"a list of at most {MAX_FIELDS} fields"]
        fields = []
    if not isinstance(actions, list) or len(actions) > MAX_ACTIONS:
        errors["actions"] = [f"a list of at most {MAX_ACTIONS} actions"]
        actions = []
    lookups = {
        "contact_fields": contacts_fields.fields_by_alias(),
        "company_fields": contacts_fields.fields_by_alias("company"),
    }
    indexed: list[tuple[int, dict]] = []  # (position in the list sent, checked field): errors name the position
    next_id = max(int(next_field_id or 1), 1)
    for index, raw in enumerate(fields):
        field, next_id = _field(raw, index, errors, lookups, next_id)
        if field is not None:
            indexed.append((index, field))
    checked_fields = [field for _index, field in indexed]
    seen_aliases: set[str] = set()
    seen_targets: set[str] = set()
    for index, field in indexed:
        if field["alias"] in seen_aliases:
            errors.setdefault(f"fields.{index}.alias", ["an alias no other field of the form has"])
        if field["maps_to"] and field["maps_to"] in seen_targets:
            errors.setdefault(f"fields.{index}.maps_to", ["a contact field no other field of the form fills"])
        seen_aliases.add(field["alias"])
        seen_targets.add(field["maps_to"])
    ids = [field["id"] for field in checked_fields]
    if len(set(ids)) != len(ids):
        errors["fields"] = ["each field once"]
    checked_actions = [_action(raw, index, errors, checked_fields) for index, raw in enumerate(actions)]
    kinds = [action["kind"] for action in checked_actions if action is not None]
    for single in (ActionKind.DOUBLE_OPT_IN, ActionKind.REMOVE_DNC):
        if kinds.count(single) > 1:
            errors["actions"] = [f"at most one {single} action"]
    if ActionKind.REMOVE_DNC in kinds and ActionKind.DOUBLE_OPT_IN not in kinds:
        errors["actions"] = ["remove_dnc needs a double_opt_in action: email is allowed again only once confirmed"]
    if errors:
        raise ValidationError(errors)
    result["fields"] = checked_fields
    result["actions"] = [action for action in checked_actions if action is not None]
    result["next_field_id"] = next_id
    return result
