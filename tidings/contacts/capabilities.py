"""What each contact and company field supports as a filter, and the filter itself, for other domains.

A segment builder (or any domain that filters contacts) asks here instead of reading contacts'
internals: where a field's value lives decides what can be asked of it.

- COLUMN: a clear column of the table (city, country, points...): every operator of its type.
- CUSTOM: a clear custom value in the `custom` JSON column: the operators of its type; an
  equality or range is index-backed when the field is indexed (see custom_key_sql and
  decision 0013).
- BLIND_INDEX: an encrypted identifier with a keyed blind index (email, phone, mobile, custom
  unique identifiers): equals and in only (email, phone and mobile also empty/not empty).
- TOKENS: first and last name, encrypted, searchable by whole words through the token table.
  The words of both names share one scope, so "has_words" on either means "the name has them".
- ENCRYPTED: encrypted without an index (address lines, identifying custom fields): nothing.

This module is pure: it derives capabilities from field definitions. selectors_fields.field_capabilities
and selectors_fields.field_filter read the workspace's definitions and call it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import BooleanField, F, Func, Q

from tidings.contacts.fields import (
    ALIAS_RE,
    BLIND_INDEX_COLUMNS,
    COMPANY_COLUMNS,
    CONTACT_COLUMNS,
    NAME_FIELDS,
    coercer,
    to_json,
)
from tidings.contacts.models import ContactField, ContactSearchToken, FieldObject, FieldType
from tidings.patterns import PatternError, linear
from tidings.privacy.vault import Keyring, normalise_email, normalise_phone, normalise_text, words


class Storage(StrEnum):
    COLUMN = "column"
    CUSTOM = "custom"
    BLIND_INDEX = "blind_index"
    TOKENS = "tokens"
    ENCRYPTED = "encrypted"


class Operator(StrEnum):
    EQUALS = "equals"
    IN = "in"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    BETWEEN = "between"
    CONTAINS = "contains"  # case-insensitive substring
    STARTS_WITH = "starts_with"  # case-insensitive prefix
    HAS_WORDS = "has_words"  # every whole word (names)
    EMPTY = "empty"
    NOT_EMPTY = "not_empty"
    # Negations are exactly NOT of their positive: a contact without a value matches them.
    NOT_EQUALS = "not_equals"
    NOT_IN = "not_in"
    NOT_CONTAINS = "not_contains"
    ENDS_WITH = "ends_with"  # case-insensitive suffix
    REGEX = "regex"  # case-insensitive, a portable subset of regular expressions (check_pattern)
    NOT_REGEX = "not_regex"
    ANNIVERSARY = "anniversary"  # same month and day as the value ("MM-DD"): birthdays, sign-up days


_RANGES = frozenset({Operator.GT, Operator.GTE, Operator.LT, Operator.LTE, Operator.BETWEEN})
_PRESENCE = frozenset({Operator.EMPTY, Operator.NOT_EMPTY})
_EQUALITY = frozenset({Operator.EQUALS, Operator.IN, Operator.NOT_EQUALS, Operator.NOT_IN})
_PATTERNS = frozenset(
    {
        Operator.CONTAINS,
        Operator.NOT_CONTAINS,
        Operator.STARTS_WITH,
        Operator.ENDS_WITH,
        Operator.REGEX,
        Operator.NOT_REGEX,
    }
)
_TEXT_OPS = _EQUALITY | _PATTERNS | _PRESENCE
_ORDERED_OPS = _EQUALITY | _RANGES | _PRESENCE
_NEGATED = {
    Operator.NOT_EQUALS: Operator.EQUALS,
    Operator.NOT_IN: Operator.IN,
    Operator.NOT_CONTAINS: Operator.CONTAINS,
    Operator.NOT_REGEX: Operator.REGEX,
}
_BY_TYPE: dict[str, frozenset[Operator]] = {
    FieldType.NUMBER: _ORDERED_OPS,
    FieldType.DATE: _ORDERED_OPS | {Operator.ANNIVERSARY},
    # Exact instants are not worth asking for; ranges are what people filter times by.
    FieldType.DATETIME: _RANGES | _PRESENCE | {Operator.ANNIVERSARY},
    FieldType.BOOLEAN: frozenset({Operator.EQUALS, Operator.NOT_EQUALS}) | _PRESENCE,
    # A list in JSON: presence only until an "includes" operator is built.
    FieldType.MULTISELECT: _PRESENCE,
}
# Columns that are never NULL nor empty (points defaults to 0): presence is meaningless there.
_ALWAYS_SET = {"points"}
# Custom datetimes keep the offset they were written with, so their text does not sort by
# instant: ranges on them would be wrong for mixed offsets. Presence only.
_CUSTOM_DATETIME_OPS = _PRESENCE
MAX_IN = 500  # values in one "in" filter
MAX_TEXT_OPERAND = 191  # characters of a contains/starts_with/has_words operand
_ANNIVERSARY_RE = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
# Constructs outside the subset PostgreSQL's and Python's (SQLite's REGEXP) engines read alike:
# look-arounds and inline flags "(?", back-references, possessive or nested repeats.
_UNPORTABLE_PATTERN = re.compile(r"\(\?|\\[1-9]|[*+?}]\)*[*+?{]")


@dataclass(frozen=True)
class FieldCapability:
    """What one field supports: where its value lives, which operators filter it, whether it sorts."""

    alias: str
    label: str
    type: str
    object: str
    storage: Storage
    operators: frozenset[Operator]
    sortable: bool
    indexed: bool  # equality and ranges are served by an index
    column: str | None = None  # the model attribute for COLUMN and BLIND_INDEX storage
    archived: bool = False
    note: str = ""

    def supports(self, operator: str) -> bool:
        return operator in self.operators


_STORAGE_NOTES = {
    Storage.BLIND_INDEX: "encrypted; exact match through a keyed blind index",
    Storage.TOKENS: "encrypted; whole words of the first and last name together",
    Storage.ENCRYPTED: "encrypted without an index: cannot be filtered or sorted",
}
_BLIND_OPS = frozenset({Operator.EQUALS, Operator.IN})


def capability(definition: ContactField, *, indexed_columns: Iterable[str] = ()) -> FieldCapability:
    """Return the capability of one field definition (a ContactField row, saved or not)."""
    alias, object = definition.alias, definition.object
    columns = COMPANY_COLUMNS if object == FieldObject.COMPANY else CONTACT_COLUMNS
    column = columns.get(alias)
    operators: frozenset[Operator]
    if column:
        storage, sortable, indexed = Storage.COLUMN, True, column in set(indexed_columns)
        operators = _BY_TYPE.get(definition.type, _TEXT_OPS)
        if column in _ALWAYS_SET:
            operators -= _PRESENCE
    elif object == FieldObject.CONTACT and alias in BLIND_INDEX_COLUMNS:
        storage, sortable, indexed = Storage.BLIND_INDEX, False, True
        column, operators = BLIND_INDEX_COLUMNS[alias], _BLIND_OPS | _PRESENCE
    elif object == FieldObject.CONTACT and alias in NAME_FIELDS:
        storage, sortable, indexed, operators = Storage.TOKENS, False, True, frozenset({Operator.HAS_WORDS})
    elif definition.is_encrypted and definition.is_unique_identifier:
        # The token of a value says nothing about whether a contact has one: no presence test.
        storage, sortable, indexed, operators = Storage.BLIND_INDEX, False, True, _BLIND_OPS
    elif definition.is_encrypted:
        storage, sortable, indexed, operators = Storage.ENCRYPTED, False, False, frozenset()
    else:
        storage, sortable, indexed = Storage.CUSTOM, True, definition.is_indexed
        operators = (
            _CUSTOM_DATETIME_OPS if definition.type == FieldType.DATETIME else _BY_TYPE.get(definition.type, _TEXT_OPS)
        )
    return FieldCapability(
        alias=alias,
        label=definition.label,
        type=definition.type,
        object=object,
        storage=storage,
        operators=operators,
        sortable=sortable,
        indexed=indexed,
        column=column,
        archived=definition.archived_at is not None,
        note=_STORAGE_NOTES.get(storage, ""),
    )


# ==============================================================================================
# Filters


def custom_key_sql(vendor: str, column_sql: str, alias: str, *, text: bool = False) -> str:
    """Return the SQL of a custom value, exactly as the filter index is built on it.

    PostgreSQL: jsonb `custom -> 'alias'` (jsonb compares numbers as numbers and strings as
    strings, so one index serves equality and ranges of every type), or `->>` for text
    matching. SQLite: json_extract(custom, '$.alias'). The alias is inlined, not bound, so the
    expression matches the index's; ALIAS_RE (letters, digits, underscores) makes that safe.
    """
    if not ALIAS_RE.match(alias):
        raise ValueError("not a field alias")
    if vendor == "postgresql":
        return f"({column_sql} {'->>' if text else '->'} '{alias}')"
    return f"json_extract({column_sql}, '$.{alias}')"


def custom_index_name(object: str, alias: str) -> str:
    """Return the name of the filter index of custom field alias of object (63 bytes at most)."""
    digest = hashlib.sha256(f"{object}:{alias}".encode()).hexdigest()[:8]
    return f"contacts_{object[:4]}_cf_{digest}_{alias[:36]}"


class CustomTest(Func):
    """A boolean test on one custom value: `<custom value> <op> <operand(s)>`, index-friendly."""

    output_field = BooleanField()

    def __init__(self, alias: str, operator: Operator, operands: list, *, column: str = "custom", negate: bool = False):
        super().__init__(F(column))
        self.alias, self.operator, self.operands, self.negate = alias, operator, operands, negate

    def as_sql(self, compiler, connection, **extra_context):  # type: ignore[override]
        sql, params = self._test_sql(compiler, connection)
        if self.negate:  # NOT of the test, where a missing value (a NULL test) counts as not matching
            false = "false" if connection.vendor == "postgresql" else "0"
            return f"NOT COALESCE(({sql}), {false})", params
        return sql, params

    def _test_sql(self, compiler, connection):
        column_sql, params = compiler.compile(self.source_expressions[0])
        vendor, op = connection.vendor, self.operator
        if op in (Operator.CONTAINS, Operator.STARTS_WITH, Operator.ENDS_WITH):
            value = custom_key_sql(vendor, column_sql, self.alias, text=True)
            if vendor != "postgresql" and not self.operands[0].isascii():
                # SQLite's LIKE folds ASCII only: "ZÜR" would miss "Zürich". Python's re folds Unicode.
                return f"{value} REGEXP %s", [*params, f"(?i){affix_pattern(op, self.operands[0])}"]
            like = "ILIKE" if vendor == "postgresql" else "LIKE"  # SQLite's LIKE ignores ASCII case
            escaped = self.operands[0].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = {Operator.CONTAINS: f"%{escaped}%", Operator.STARTS_WITH: f"{escaped}%"}.get(op, f"%{escaped}")
            return f"{value} {like} %s ESCAPE '\\'", [*params, pattern]
        if op == Operator.REGEX:
            value = custom_key_sql(vendor, column_sql, self.alias, text=True)
            if vendor == "postgresql":
                return f"{value} ~* %s", [*params, self.operands[0]]
            return f"{value} REGEXP %s", [*params, f"(?i){self.operands[0]}"]
        if op == Operator.ANNIVERSARY:  # dates are stored as ISO text: characters 6-10 are MM-DD
            value = custom_key_sql(vendor, column_sql, self.alias, text=True)
            return f"substr({value}, 6, 5) = %s", [*params, self.operands[0]]
        if op in _PRESENCE:
            value = custom_key_sql(vendor, column_sql, self.alias, text=True)
            test = "IN" if op == Operator.EMPTY else "NOT IN"
            return f"COALESCE({value}, '') {test} ('', '[]')", params
        value = custom_key_sql(vendor, column_sql, self.alias)
        operand = "%s::jsonb" if vendor == "postgresql" else "%s"
        bound = [json.dumps(v) if vendor == "postgresql" else v for v in self.operands]
        if op == Operator.IN:
            return f"{value} IN ({', '.join([operand] * len(bound))})", [*params, *bound]
        sql_op = {Operator.EQUALS: "=", Operator.GT: ">", Operator.GTE: ">=", Operator.LT: "<", Operator.LTE: "<="}[op]
        return f"{value} {sql_op} {operand}", [*params, *bound]


_COLUMN_LOOKUPS = {
    Operator.EQUALS: "exact",
    Operator.IN: "in",
    Operator.GT: "gt",
    Operator.GTE: "gte",
    Operator.LT: "lt",
    Operator.LTE: "lte",
}


def build_filter(cap: FieldCapability, operator: str, value: Any, *, options: list | None, ring) -> Q:
    """Return the Q of cap's field under operator and value (a Q on Contact, or Company for company fields).

    ring is a callable returning the workspace's Keyring (only called for encrypted fields).
    Raise ValidationError, keyed by the alias and never repeating the value, when the field
    does not support the operator or the value does not fit it.
    """
    if operator not in Operator.__members__.values():
        raise ValidationError({cap.alias: [f"unknown operator {operator}"]}, code="invalid")
    op = Operator(operator)
    if op not in cap.operators:
        allowed = ", ".join(sorted(cap.operators)) or "none"
        raise ValidationError(
            {cap.alias: [f"{op} is not supported on this field ({cap.storage}; supported: {allowed})"]},
            code="unsupported",
        )
    operands = _operands(cap, op, value, options)
    if op in _NEGATED:
        positive = _NEGATED[op]
        if cap.storage == Storage.CUSTOM:
            return Q(CustomTest(cap.alias, positive, operands, negate=True))
        return ~_column_filter(cap, positive, operands)  # Django keeps NULLs in a negated column test
    if cap.storage == Storage.COLUMN:
        return _column_filter(cap, op, operands)
    if cap.storage == Storage.CUSTOM:
        if op == Operator.BETWEEN:
            return Q(CustomTest(cap.alias, Operator.GTE, operands[:1])) & Q(
                CustomTest(cap.alias, Operator.LTE, operands[1:])
            )
        return Q(CustomTest(cap.alias, op, operands))
    if cap.storage == Storage.BLIND_INDEX:
        return _blind_filter(cap, op, operands, ring())
    return _words_filter(operands[0], ring())


def _operands(cap: FieldCapability, op: Operator, value: Any, options: list | None) -> list:
    """Return the checked operands of a filter: [], one value, two (between) or several (in)."""
    if op in _PRESENCE:
        return []
    if op in _PATTERNS or op == Operator.HAS_WORDS:
        text = value.strip() if isinstance(value, str) else ""
        if not text or len(text) > MAX_TEXT_OPERAND:
            raise ValidationError({cap.alias: [f"{op} needs a text of 1 to {MAX_TEXT_OPERAND} characters"]})
        if op == Operator.HAS_WORDS and not words(text):
            raise ValidationError({cap.alias: ["has_words needs at least one word"]})
        if op in (Operator.REGEX, Operator.NOT_REGEX):
            check_pattern(text, field=cap.alias)
        return [text]
    if op == Operator.ANNIVERSARY:
        if not isinstance(value, str) or not _ANNIVERSARY_RE.match(value):
            raise ValidationError({cap.alias: ["anniversary needs a month and day as MM-DD"]})
        return [value]
    if op in (Operator.IN, Operator.NOT_IN):
        if not isinstance(value, list | tuple) or not 1 <= len(value) <= MAX_IN:
            raise ValidationError({cap.alias: [f"in needs a list of 1 to {MAX_IN} values"]})
        values = list(value)
    elif op == Operator.BETWEEN:
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValidationError({cap.alias: ["between needs two values, lowest first"]})
        values = list(value)
    else:
        values = [value]
    convert = coercer(cap.alias, cap.type, options)
    checked = [convert(v) for v in values]  # its messages name the field, never the value
    if any(v is None for v in checked):
        raise ValidationError({cap.alias: [f"{op} needs a value; use empty to find contacts without one"]})
    if cap.storage == Storage.COLUMN and cap.type == FieldType.NUMBER and any(isinstance(v, float) for v in checked):
        # The number columns hold whole numbers: Django would truncate 2.5 to 2 and "points >= 2.5" match 2.
        raise ValidationError({cap.alias: [f"{op} needs whole numbers on this field"]})
    if cap.storage == Storage.CUSTOM:
        checked = [to_json(v) for v in checked]  # as stored: dates as ISO text
    return checked


def check_pattern(pattern: str, *, field: str) -> None:
    """Raise ValidationError (naming field, never the pattern) unless pattern is a portable, bounded regular expression.

    PostgreSQL matches with its own engine, SQLite with Python's re through Django's REGEXP:
    only their common ground is allowed, and no nested repeat that could backtrack for ever.
    """
    if _UNPORTABLE_PATTERN.search(pattern) or not _escapes_portable(pattern):
        raise ValidationError(
            {field: ["regex: look-arounds, flags, back-references and repeated repeats are not supported"]},
            code="invalid",
        )
    try:
        re.compile(pattern)
        linear(pattern)  # SQLite matches with RE2 (tidings.patterns); refuse what it cannot read
    except (re.error, PatternError):
        raise ValidationError({field: ["regex: not a valid regular expression"]}, code="invalid") from None


def affix_pattern(op: Operator, text: str) -> str:
    """Return the regular expression of contains / starts_with / ends_with text, read alike by PostgreSQL and Python."""
    escaped = re.escape(text)  # escapes punctuation only, which both engines read as the character itself
    return {Operator.STARTS_WITH: f"^{escaped}", Operator.ENDS_WITH: f"{escaped}$"}.get(op, escaped)


def _escapes_portable(pattern: str) -> bool:
    r"""Return whether pattern's escapes and bracket expressions mean the same to PostgreSQL and Python.

    They differ on letters: PostgreSQL reads \b as a backspace and \B as a backslash where Python
    sees word boundaries, \y \m \M \A \Z are PostgreSQL's own or Python's own, [[:alpha:]] is a
    class for PostgreSQL and a set of characters for Python, and {,3} is an error for PostgreSQL.
    So a backslash may only precede punctuation or the classes \d \s \w (and \D \S \W outside brackets).
    """
    in_brackets, index = False, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            following = pattern[index + 1 : index + 2]
            allowed = "dsw" if in_brackets else "dswDSW"
            if not following or (following.isalnum() and following not in allowed):
                return False
            index += 2
            continue
        if in_brackets and char == "[" and pattern[index + 1 : index + 2] in (":", ".", "="):
            return False
        if char == "[" and not in_brackets:
            in_brackets = True
            index += 1
            if pattern[index : index + 1] == "^":
                index += 1
            if pattern[index : index + 1] == "]":  # a leading ] is a member, not the end
                index += 1
            continue
        if char == "]" and in_brackets:
            in_brackets = False
        elif char == "{" and not in_brackets and pattern[index + 1 : index + 2] == ",":
            return False
        index += 1
    return True


def _column_filter(cap: FieldCapability, op: Operator, operands: list) -> Q:
    assert cap.column is not None  # COLUMN storage always names its column
    column = cap.column
    if op == Operator.BETWEEN:
        return Q(**{f"{column}__range": tuple(operands)})
    if op in (Operator.CONTAINS, Operator.STARTS_WITH, Operator.ENDS_WITH):
        if not operands[0].isascii():  # SQLite's LIKE folds ASCII only; a regular expression folds Unicode
            return Q(**{f"{column}__iregex": affix_pattern(op, operands[0])})
        lookup = {Operator.CONTAINS: "icontains", Operator.STARTS_WITH: "istartswith"}.get(op, "iendswith")
        return Q(**{f"{column}__{lookup}": operands[0]})
    if op == Operator.REGEX:
        return Q(**{f"{column}__iregex": operands[0]})
    if op == Operator.ANNIVERSARY:
        month, day = (int(part) for part in operands[0].split("-"))
        return Q(**{f"{column}__month": month, f"{column}__day": day})
    if op in _PRESENCE:
        text_like = cap.type not in _BY_TYPE
        empty = Q(**{column: ""}) if text_like else Q(**{f"{column}__isnull": True})
        return empty if op == Operator.EMPTY else ~empty
    value = operands if op == Operator.IN else operands[0]
    return Q(**{f"{column}__{_COLUMN_LOOKUPS[op]}": value})


def _blind_filter(cap: FieldCapability, op: Operator, operands: list, ring: Keyring) -> Q:
    if op in _PRESENCE:
        return Q(**{f"{cap.column}__isnull": op == Operator.EMPTY})
    if cap.column:  # email, phone, mobile: a column of their own
        scope, normalise = ("email", normalise_email) if cap.alias == "email" else ("phone", normalise_phone)
        indexes = [ring.blind_index(scope, normalise(str(v))) for v in operands]
        return Q(**{f"{cap.column}__in": indexes})
    tokens = [ring.blind_index(f"uid:{cap.alias}", normalise_text(str(to_json(v)))) for v in operands]
    return Q(id__in=ContactSearchToken.objects.filter(token__in=tokens).values("contact_id"))


def _words_filter(text: str, ring: Keyring) -> Q:
    condition = Q()
    for word in words(text):
        token = ring.blind_index("name", word)
        condition &= Q(id__in=ContactSearchToken.objects.filter(token=token).values("contact_id"))
    return condition


def sort_expression(cap: FieldCapability, *, descending: bool = False):
    """Return an order_by() term for a sortable field; raise ValidationError for one that is not."""
    if not cap.sortable:
        raise ValidationError({cap.alias: [f"a field stored as {cap.storage} cannot be sorted"]}, code="unsupported")
    term: F | _CustomValue
    if cap.storage == Storage.COLUMN:
        assert cap.column is not None  # COLUMN storage always names its column
        term = F(cap.column)
    else:
        term = _CustomValue(cap.alias)
    return term.desc(nulls_last=True) if descending else term.asc(nulls_first=True)


class _CustomValue(Func):
    """A custom value as an expression (ordering); the same SQL as the filter index."""

    def __init__(self, alias: str):
        super().__init__(F("custom"))
        self.alias = alias

    def as_sql(self, compiler, connection, **extra_context):  # type: ignore[override]
        column_sql, params = compiler.compile(self.source_expressions[0])
        return custom_key_sql(connection.vendor, column_sql, self.alias), params
