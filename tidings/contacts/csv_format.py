"""What an uploaded CSV file is: its encoding, delimiter, whether its first row names the columns, and which
field each column most likely fills. Functions over bytes and text, used by the import pipeline
(tidings.contacts.imports) when a file is uploaded; nothing here touches the database or writes anything.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Sequence
from pathlib import Path

from django.core.exceptions import ValidationError

from tidings.privacy.guard import scan_text

TAGS_TARGET = "tags"
DELIMITERS = ",;\t|"

# Header spellings that mean a core field, compared after dropping case, spaces and punctuation.
HEADER_ALIASES = {
    "email": ("emailaddress", "mail", "email", "emails", "courriel"),
    "firstname": ("first", "givenname", "forename", "firstname", "prenom"),
    "lastname": ("last", "surname", "familyname", "lastname", "nom"),
    "phone": ("telephone", "phonenumber", "tel", "workphone", "businessphone"),
    "mobile": ("mobilephone", "cell", "cellphone", "mobilenumber"),
    "company": ("companyname", "organisation", "organization", "employer", "account"),
    "position": ("jobtitle", "title", "role"),
    "address1": ("address", "street", "streetaddress", "addressline1"),
    "address2": ("addressline2",),
    "zipcode": ("zip", "postcode", "postalcode", "zipcode"),
    "state": ("region", "province", "county"),
    "country": ("countrycode", "nation"),
    "website": ("url", "web", "homepage", "site"),
    "preferred_locale": ("locale", "language", "lang"),
    TAGS_TARGET: ("tags", "tag", "labels", "label"),
}


class EncodingSniffer:
    """Find a file's encoding while its bytes stream past (feed each chunk, then call result()).

    A byte-order mark decides: UTF-8 (utf-8-sig), UTF-16 little or big endian (utf-16, whose
    decoder reads the mark and drops it). Without one, UTF-8 and Windows-1252 are checked over
    the whole file with incremental decoders, so a stray byte on the last line is not missed;
    Latin-1 decodes any byte string and is the last resort.
    """

    CANDIDATES = ("utf-8", "cp1252")

    def __init__(self) -> None:
        self._head = b""
        self._bom: str | None = None
        self._decoders = {name: codecs.getincrementaldecoder(name)() for name in self.CANDIDATES}

    def feed(self, chunk: bytes) -> None:
        if len(self._head) < 4:
            self._head += chunk[: 4 - len(self._head)]
            if self._bom is None and len(self._head) >= 3 and self._head.startswith(codecs.BOM_UTF8):
                self._bom = "utf-8-sig"
            elif self._bom is None and self._head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                self._bom = "utf-16"
        if self._bom is not None:
            return
        for name, decoder in list(self._decoders.items()):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                del self._decoders[name]

    def result(self) -> str:
        if self._bom is not None:
            return self._bom
        for name in self.CANDIDATES:
            decoder = self._decoders.get(name)
            if decoder is None:
                continue
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            return name
        return "latin-1"


def detect_encoding(path: str | Path) -> str:
    """Return the encoding of the clear file at path: utf-8-sig, utf-16 (by BOM), utf-8, cp1252 or latin-1."""
    sniffer = EncodingSniffer()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sniffer.feed(chunk)
    return sniffer.result()


def sniff_delimiter(sample: str) -> str:
    """Return the delimiter of a CSV sample (comma, semicolon, tab or pipe); comma when unsure."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


_NUMBER_LIKE = re.compile(r"^[\d\s+().,:/\-]+$")
_EMAIL_LIKE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL_LIKE = re.compile(r"^(https?://|www\.)", re.IGNORECASE)


def looks_like_data(cells: Sequence[str]) -> bool:
    """Return whether a first row holds values rather than column names.

    Column names are words; a cell that reads as an email address, a URL, a number, a phone
    number or a date, or that the sensitive-data guard flags, is a value. A header-less file
    whose first row is words only ("Ada,Lovelace") is still read as headers (a known limit,
    see docs/contacts-and-privacy.md): nothing in such a row identifies a person on its own.
    """
    for cell in cells:
        text = cell.strip()
        if not text:
            continue
        if _EMAIL_LIKE.match(text) or _URL_LIKE.match(text) or scan_text(text):
            return True
        if _NUMBER_LIKE.match(text) and sum(ch.isdigit() for ch in text) >= 3:
            return True
    return False


# Signatures of files people upload instead of a CSV export.
_BINARY_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook or another zip archive",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
    b"%PDF": "a PDF document",
}
_CONTROL_BYTES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D}


def refuse_binary(head: bytes) -> None:
    """Raise ValidationError (key "file") when the first bytes of an upload are not text.

    A known signature (zip/xlsx, xls, PDF) names what the file is; otherwise a NUL byte or other
    control characters in the first 8 KB mean binary. UTF-16 text (its byte-order mark) holds
    NUL bytes by nature and is let through.
    """
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return
    for signature, what in _BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise ValidationError({"file": f"this is {what}, not a CSV file: save or export it as CSV and upload that"})
    sample = head[: 8 * 1024]
    if b"\x00" in sample or sum(byte in _CONTROL_BYTES for byte in sample) > max(4, len(sample) // 100):
        raise ValidationError({"file": "this is a binary file, not a CSV file: save or export it as CSV"})


def generated_headers(count: int) -> list[str]:
    """Return labels for the columns of a header-less file: "Column 1", "Column 2"..."""
    return [f"Column {i + 1}" for i in range(count)]


def _normalise_header(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.casefold())


def auto_map(headers: Sequence[str], fields) -> list[str]:
    """Return a target alias (or "") per header, matched on alias, label and common spellings.

    Each target is used once: the first header that names it wins.
    """
    lookup: dict[str, str] = {}
    for alias, spellings in HEADER_ALIASES.items():
        for spelling in spellings:
            lookup.setdefault(spelling, alias)
    for definition in fields:
        lookup[_normalise_header(definition.label)] = definition.alias
        lookup[_normalise_header(definition.alias)] = definition.alias
    mapping, used = [], set()
    for header in headers:
        target = lookup.get(_normalise_header(header), "")
        if target in used:
            target = ""
        used.add(target)
        mapping.append(target)
    return mapping
