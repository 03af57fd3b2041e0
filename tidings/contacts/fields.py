"""The catalogue of core fields, and how a value of each field type is checked and stored.

Core contact fields use Mautic's aliases, so the Mautic-compatible API maps them one to one.
A core field is either encrypted (stored in the contact's profile blob) or kept in a clear
column named by `column`; custom fields are encrypted when their category identifies a person
and otherwise kept in the `custom` JSON column.
"""

from __future__ import annotations

import datetime
import math
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.dateparse import parse_date, parse_datetime

from tidings.contacts.models import FieldGroup, FieldObject, FieldType
from tidings.countries import country_code
from tidings.inputs import INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, InvalidInput, parse_bool
from tidings.privacy.categories import DataCategory


@dataclass(frozen=True)
class CoreField:
    alias: str
    label: str
    type: str
    category: str = DataCategory.NONE
    column: str | None = None  # None: stored encrypted in the profile blob
    group: str = FieldGroup.CORE
    unique: bool = False
    public: bool = False
    listable: bool = True
    required: bool = False
    object: str = FieldObject.CONTACT

    @property
    def encrypted(self) -> bool:
        return self.column is None


C = DataCategory
CORE_CONTACT_FIELDS: tuple[CoreField, ...] = (
    CoreField("email", "Email", FieldType.EMAIL, C.EMAIL, unique=True, public=True),
    CoreField("firstname", "First name", FieldType.TEXT, C.NAME, public=True),
    CoreField("lastname", "Last name", FieldType.TEXT, C.NAME, public=True),
    CoreField("phone", "Phone", FieldType.TEL, C.PHONE, public=True),
    CoreField("mobile", "Mobile", FieldType.TEL, C.PHONE, public=True),
    CoreField("company", "Company", FieldType.TEXT, C.WORKPLACE, column="company_name", public=True),
    CoreField("position", "Position", FieldType.TEXT, C.JOB_TITLE, column="position", public=True),
    CoreField("address1", "Address line 1", FieldType.TEXT, C.ADDRESS, listable=False),
    CoreField("address2", "Address line 2", FieldType.TEXT, C.ADDRESS, listable=False),
    CoreField("city", "City", FieldType.TEXT, C.CITY, column="city", public=True),
    CoreField("state", "State", FieldType.REGION, C.STATE, column="state"),
    CoreField("zipcode", "Postcode", FieldType.TEXT, C.POSTAL_CODE, column="zipcode"),
    CoreField("country", "Country", FieldType.COUNTRY, C.COUNTRY, column="country", public=True),
    CoreField("timezone", "Time zone", FieldType.TIMEZONE, C.LOCATION, column="timezone"),
    CoreField("preferred_locale", "Preferred locale", FieldType.LOCALE, C.LANGUAGE, column="preferred_locale"),
    CoreField("website", "Website", FieldType.URL, C.URL, column="website", group=FieldGroup.SOCIAL),
    CoreField("owner", "Owner", FieldType.NUMBER, C.SYSTEM, column="owner_id"),
    CoreField("stage", "Stage", FieldType.NUMBER, C.SYSTEM, column="stage_id"),
    CoreField("points", "Points", FieldType.NUMBER, C.SYSTEM, column="points"),
    CoreField("last_active", "Last active", FieldType.DATETIME, C.SYSTEM, column="last_active"),
    CoreField("date_identified", "Date identified", FieldType.DATETIME, C.SYSTEM, column="date_identified"),
)

_company = FieldObject.COMPANY
CORE_COMPANY_FIELDS: tuple[CoreField, ...] = (
    CoreField("companyname", "Company name", FieldType.TEXT, column="name", required=True, object=_company),
    CoreField("companyemail", "Company email", FieldType.EMAIL, column="email", object=_company),
    CoreField("companyphone", "Company phone", FieldType.TEL, column="phone", object=_company),
    CoreField("companywebsite", "Company website", FieldType.URL, column="website", object=_company),
    CoreField("companyaddress1", "Address line 1", FieldType.TEXT, column="address1", object=_company),
    CoreField("companyaddress2", "Address line 2", FieldType.TEXT, column="address2", object=_company),
    CoreField("companycity", "City", FieldType.TEXT, column="city", object=_company),
    CoreField("companystate", "State", FieldType.REGION, column="state", object=_company),
    CoreField("companyzipcode", "Postcode", FieldType.TEXT, column="zipcode", object=_company),
    CoreField("companycountry", "Country", FieldType.COUNTRY, column="country", object=_company),
    CoreField("companyindustry", "Industry", FieldType.TEXT, column="industry", object=_company),
    CoreField(
        "companynumber_of_employees",
        "Number of employees",
        FieldType.NUMBER,
        column="number_of_employees",
        object=_company,
    ),
    CoreField("companydescription", "Description", FieldType.TEXTAREA, column="description", object=_company),
)

CORE_FIELDS = {f.alias: f for f in CORE_CONTACT_FIELDS + CORE_COMPANY_FIELDS}
CONTACT_COLUMNS = {f.alias: f.column for f in CORE_CONTACT_FIELDS if f.column}
COMPANY_COLUMNS = {f.alias: f.column for f in CORE_COMPANY_FIELDS if f.column}
# Identifying core values with their own blind-index column on Contact (exact lookup, upsert).
BLIND_INDEX_COLUMNS = {"email": "email_bidx", "phone": "phone_bidx", "mobile": "mobile_bidx"}
# Core values whose words are searchable through the token table.
NAME_FIELDS = ("firstname", "lastname")

# Fields a merge combines by a rule instead of taking one side's value: no choice is offered for them.
MERGE_RULES = {
    "points": "added up",
    "last_active": "the later of the two",
    "date_identified": "the earlier of the two",
}

# Associated-data names binding each ciphertext under a contact's key to what it holds.
PROFILE = "profile"  # the contact's encrypted profile blob
NOTE = "note"  # a note's text


def dnc_comment_aad(channel: str) -> str:
    """Return the associated-data name of a DNC comment: bound to its channel as well as its contact."""
    return f"dnc:{channel}"


ALIAS_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
RESERVED_ALIASES = frozenset({"id", "tags", "ipaddress", "ip_address", "companies", "fields", "points_delta", "custom"})

_email_validator = EmailValidator()
_url_validator = URLValidator(schemes=["http", "https"])
_PHONE_RE = re.compile(r"^\+?[0-9 ()./\-]{3,32}(\s*(x|ext\.?)\s*[0-9]{1,6})?$", re.IGNORECASE)
_LOCALE_RE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z0-9]{2,4})?$")
MAX_TEXT = 191
MAX_TEXTAREA = 65535


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


# What is wrong with a value of each type, in words that never repeat the value (Django's own
# validators carry the value in their params, so their messages are replaced, not passed on).
_PROBLEMS: dict[str, str] = {
    FieldType.EMAIL: "is not a valid email address",
    FieldType.URL: "is not a web address (http or https)",
}


def coerce(field_type: str, value: Any, options: list | None = None, *, field: str = "") -> Any:
    """Return value checked and converted for field_type, or None for an empty value.

    Raise ValidationError when the value does not fit the type or, for select fields, is not
    one of the options. The message names the field (field, the alias, when given) and the
    problem, never the value, so it can reach logs, API answers and ContactImport.errors.
    """
    if is_empty(value):
        return None
    handler = _COERCERS.get(field_type)
    if handler is None:
        raise ValidationError(_named(field, "has an unknown field type"), code="invalid")
    try:
        result = handler(value)
    except ValidationError as error:
        problem = _PROBLEMS.get(field_type) or "; ".join(error.messages)
        raise ValidationError(_named(field, problem), code="invalid") from None
    except (ValueError, ArithmeticError):  # e.g. a well-formed but impossible date; the message may hold the value
        raise ValidationError(_named(field, f"is not a valid {FieldType(field_type).label.lower()}")) from None
    allowed = {str(o.get("value")) if isinstance(o, dict) else str(o) for o in (options or [])}
    if allowed and field_type == FieldType.SELECT and result not in allowed:
        raise ValidationError(_named(field, "is not one of the options"), code="invalid")
    if allowed and field_type == FieldType.MULTISELECT and not set(result) <= allowed:
        raise ValidationError(_named(field, "has a value that is not one of the options"), code="invalid")
    return result


def _named(field: str, problem: str) -> str:
    return f"{field} {problem}" if field else f"the value {problem}"


# Number fields kept in whole-number columns narrower than the 64 bits _number allows
# (IntegerField): a value beyond the column would fail in the database, so it is refused here.
NARROW_NUMBER_FIELDS = {"points": (INT32_MIN, INT32_MAX), "companynumber_of_employees": (0, INT32_MAX)}


def coercer(alias: str, field_type: str, options: list | None = None):
    """Return a one-argument coerce() for the field alias, range-checked when its column is narrow."""
    bounds = NARROW_NUMBER_FIELDS.get(alias)

    def convert(value):
        result = coerce(field_type, value, options, field=alias)
        if bounds is not None and result is not None and not bounds[0] <= result <= bounds[1]:
            raise ValidationError(_named(alias, f"must be between {bounds[0]} and {bounds[1]}"), code="invalid")
        return result

    return convert


def _text(limit: int):
    def convert(value):
        text = str(value).strip()
        if len(text) > limit:
            raise ValidationError(f"is longer than {limit} characters")
        return text

    return convert


def _email(value) -> str:
    text = str(value).strip()
    _email_validator(text)
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def _tel(value) -> str:
    text = str(value).strip()
    if not _PHONE_RE.match(text) or sum(ch.isdigit() for ch in text) < 3:
        raise ValidationError("is not a phone number")
    return text


def _url(value) -> str:
    text = str(value).strip()
    if "://" not in text:
        text = f"https://{text}"
    _url_validator(text)
    if len(text) > 255:
        raise ValidationError("is longer than 255 characters")
    return text


def _number(value):
    if isinstance(value, bool):
        raise ValidationError("is not a number")
    number: int | float | Decimal
    if isinstance(value, int | float):
        number = value
    else:
        try:
            number = Decimal(str(value).strip().replace(" ", ""))
        except InvalidOperation as error:
            raise ValidationError("is not a number") from error
    # NaN, infinities (1e400 read as a float) and integers past 64 bits fail later, in int()
    # or in the database, as a 500: refuse them here, with the rest of the bad values.
    if isinstance(number, float | Decimal) and not math.isfinite(number):
        raise ValidationError("is not a number")
    if abs(Decimal(number)) > INT64_MAX:  # exact for ints, floats and decimals alike
        raise ValidationError(f"must be between {INT64_MIN} and {INT64_MAX}")
    if number == int(number):
        return int(number)
    return float(number)


def _boolean(value) -> bool:
    try:
        return parse_bool(value, strict=True, short_words=True)
    except InvalidInput:
        raise ValidationError("is not yes or no") from None


def _date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        parsed = parse_date(str(value).strip()[:10])
    except ValueError:  # well-formed but impossible, such as year 0 or February 30
        parsed = None
    if parsed is None:
        raise ValidationError("is not a date (YYYY-MM-DD)")
    return parsed


def _datetime(value) -> datetime.datetime:
    parsed: datetime.datetime | None
    if isinstance(value, datetime.datetime):
        parsed = value
    elif isinstance(value, datetime.date):
        parsed = datetime.datetime.combine(value, datetime.time())
    else:
        text = str(value).strip()
        try:
            parsed = parse_datetime(text) or parse_datetime(text.replace(" ", "T"))
        except ValueError:
            parsed = None
        if parsed is None:
            try:
                day = parse_date(text)
            except ValueError:  # year 0, February 30...
                day = None
            if day is None:
                raise ValidationError("is not a date and time (ISO 8601)")
            parsed = datetime.datetime.combine(day, datetime.time())
    assert parsed is not None  # every branch above set it or raised
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    try:
        parsed.astimezone(datetime.UTC)  # 9999-12-31T23:00-05:00 has no UTC time: stored as UTC, it would fail
    except OverflowError as error:
        raise ValidationError("not a date and time (ISO 8601)") from error
    return parsed


def _country(value) -> str:
    """Return the ISO 3166-1 alpha-2 code a code or English name stands for ("Germany", "de", "DEU": DE)."""
    code = country_code(str(value))
    if code is None:
        # Refused, not kept as typed: a value the country filter, the dashboard and the picker
        # cannot place would be invisible to them, and an import reports the row to fix instead.
        raise ValidationError("is not a known country (an ISO 3166-1 code or English name)")
    return code


def _multiselect(value) -> list[str]:
    items = value if isinstance(value, list | tuple) else str(value).split("|")
    return [str(item).strip() for item in items if str(item).strip()]


def _timezone(value) -> str:
    text = str(value).strip()
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError("is not a known time zone") from error
    return text


def _locale(value) -> str:
    text = str(value).strip()
    if not _LOCALE_RE.match(text):
        raise ValidationError("is not a locale (such as en or pt_BR)")
    return text


_COERCERS: dict[str, Callable[[Any], Any]] = {
    FieldType.TEXT: _text(MAX_TEXT),
    FieldType.TEXTAREA: _text(MAX_TEXTAREA),
    FieldType.SELECT: _text(MAX_TEXT),
    FieldType.COUNTRY: _country,
    FieldType.REGION: _text(MAX_TEXT),
    FieldType.EMAIL: _email,
    FieldType.TEL: _tel,
    FieldType.URL: _url,
    FieldType.NUMBER: _number,
    FieldType.BOOLEAN: _boolean,
    FieldType.DATE: _date,
    FieldType.DATETIME: _datetime,
    FieldType.MULTISELECT: _multiselect,
    FieldType.TIMEZONE: _timezone,
    FieldType.LOCALE: _locale,
}


def to_json(value: Any) -> Any:
    """Return a coerced value as stored in JSON (the profile blob and `custom`)."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


def from_json(field_type: str, value: Any) -> Any:
    """Return a stored JSON value as the Python value of field_type (dates parsed back)."""
    if value is None:
        return None
    if field_type == FieldType.DATETIME and isinstance(value, str):
        return parse_datetime(value)
    if field_type == FieldType.DATE and isinstance(value, str):
        return parse_date(value)
    return value


def normalise_company_name(name: str) -> str:
    """Return the key two company names share when they name the same company: spaces collapsed, case folded."""
    return " ".join(str(name or "").split()).casefold()


def propose_alias(label: str, taken) -> str:
    """Return an alias for a new field from its label: ASCII, lowercase, underscores, free in `taken`.

    "Shoe size (EU)" gives "shoe_size_eu"; a label that starts with a digit gets an "f_" prefix;
    a taken or reserved alias gets "_2", "_3"... Empty when the label has no letter or digit.
    """
    from django.utils.text import slugify

    base = slugify((label or "").casefold()).replace("-", "_").strip("_")[:60]  # casefold: "ß" becomes "ss"
    if not base:
        return ""
    if not base[0].isalpha():
        base = f"f_{base}"[:60]
    used = set(taken) | RESERVED_ALIASES | set(CORE_FIELDS)
    alias, number = base, 1
    while alias in used:
        number += 1
        alias = f"{base}_{number}"
    return alias
