"""The sensitive-data guard: spot financial, government-id and health data in free text.

Marketing tools should not hold card numbers, bank accounts, national ids or health data by
accident. The guard looks for:

- card numbers: 13-19 digits (spaces or dashes allowed), a known issuer prefix and a valid Luhn
  check digit;
- IBANs: a country code with its registered length and a valid ISO 7064 mod-97 checksum;
- national ids: US Social Security numbers written with separators (123-45-6789), excluding the
  numbers the SSA never issues; bare 9-digit runs are ignored (too many false positives);
- health terms: a short list of medical words, matched as whole words.

Findings name the kind and position only, never the value, so they can be logged and shown.
Imports call scan_values() per row; field definitions call require_acknowledgment().
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models

from tidings.privacy.categories import needs_acknowledgment


class FindingKind(models.TextChoices):
    CARD_NUMBER = "card_number", "Payment card number"
    IBAN = "iban", "Bank account (IBAN)"
    NATIONAL_ID = "national_id", "National identification number"
    HEALTH = "health", "Health information"


class GuardPolicy(models.TextChoices):
    """What a workspace wants done with a flagged value."""

    WARN = "warn", "Warn and keep the value"
    REJECT = "reject", "Reject the value"


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    field: str = ""


class SensitiveDataRejected(ValidationError):
    """Raised by check_values under the reject policy; .findings lists what was found."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        kinds = sorted({FindingKind(f.kind).label for f in findings})
        super().__init__(f"sensitive data found: {', '.join(kinds)}")


# Lengths of IBANs per country (ISO 13616 registry, the commonly used subset plus every EU/EEA state).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24,
    "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21,
    "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LI": 21,
    "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30,
    "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}  # fmt: skip

HEALTH_TERMS = (
    "diabetes", "diabetic", "cancer", "tumour", "tumor", "chemotherapy", "hiv", "aids", "hepatitis",
    "pregnant", "pregnancy", "depression", "anxiety disorder", "bipolar", "schizophrenia", "diagnosis",
    "diagnosed", "prescription", "medication", "asthma", "epilepsy", "dementia", "alzheimer",
    "disability", "disabled", "allergy", "allergic", "surgery", "therapy", "rehab", "rehabilitation",
    "blood pressure", "hypertension", "cholesterol", "covid", "vaccinated", "std", "ivf", "miscarriage",
)  # fmt: skip

_CARD_RE = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_IBAN_START_RE = re.compile(r"\b([A-Z]{2})\d{2}", re.IGNORECASE)
_SSN_RE = re.compile(r"(?<![\d-])(?!000|666|9\d\d)(\d{3})([- ])(?!00)(\d{2})\2(?!0000)(\d{4})(?![\d-])")
_HEALTH_RE = re.compile(r"\b(" + "|".join(re.escape(t) for t in HEALTH_TERMS) + r")\b", re.IGNORECASE)
# Issuer prefixes of the major card schemes: Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro.
_CARD_PREFIX = re.compile(r"^(4|5[1-5]|2[2-7]|3[47]|6011|65|64[4-9]|35|30[0-5]|36|38|62|5018|5020|5038|6304|67)")


def luhn_valid(digits: str) -> bool:
    """Return whether a digit string passes the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """Return whether candidate (spaces allowed) is an IBAN of a known length with a valid mod-97 checksum."""
    iban = candidate.replace(" ", "").upper()
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _iban_end(text: str, start: int, length: int) -> int:
    """Return where an IBAN of length characters (single spaces allowed) starting at start ends, or 0."""
    if not length:
        return 0
    taken, position = 0, start
    while position < len(text) and taken < length:
        char = text[position]
        if char.isascii() and char.isalnum():
            taken += 1
        elif not (char == " " and position + 1 < len(text) and text[position + 1] != " "):
            break
        position += 1
    if taken < length or (position < len(text) and text[position].isalnum()):
        return 0
    return position


def scan_text(text: str, field: str = "") -> list[Finding]:
    """Return what looks like card numbers, IBANs, national ids and health terms in text."""
    if not text or not isinstance(text, str):
        return []
    findings: list[Finding] = []
    for match in _CARD_RE.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and _CARD_PREFIX.match(digits) and luhn_valid(digits):
            findings.append(Finding(FindingKind.CARD_NUMBER, match.start(), match.end(), field))
    for match in _IBAN_START_RE.finditer(text):
        end = _iban_end(text, match.start(), IBAN_LENGTHS.get(match.group(1).upper(), 0))
        if end and iban_valid(text[match.start() : end]):
            findings.append(Finding(FindingKind.IBAN, match.start(), end, field))
    for match in _SSN_RE.finditer(text):
        findings.append(Finding(FindingKind.NATIONAL_ID, match.start(), match.end(), field))
    for match in _HEALTH_RE.finditer(text):
        findings.append(Finding(FindingKind.HEALTH, match.start(), match.end(), field))
    return findings


def scan_values(values: Mapping[str, object]) -> list[Finding]:
    """Return the findings in every text value of a row (alias -> value); lists are scanned item by item."""
    findings: list[Finding] = []
    for field, value in values.items():
        items: Iterable = value if isinstance(value, list | tuple) else [value]
        for item in items:
            if isinstance(item, str):
                findings.extend(scan_text(item, field))
    return findings


def check_values(values: Mapping[str, object], policy: str = GuardPolicy.WARN) -> list[Finding]:
    """Return the findings in values; under the reject policy raise SensitiveDataRejected when there are any."""
    findings = scan_values(values)
    if findings and policy == GuardPolicy.REJECT:
        raise SensitiveDataRejected(findings)
    return findings


def require_acknowledgment(category: str, acknowledged: bool) -> None:
    """Raise ValidationError when category is financial, health or government id and was not acknowledged."""
    if needs_acknowledgment(category) and not acknowledged:
        raise ValidationError(
            {
                "category": (
                    "financial, health and government-id data need an explicit acknowledgment that the "
                    "workspace has a lawful basis and safeguards for it"
                )
            }
        )
