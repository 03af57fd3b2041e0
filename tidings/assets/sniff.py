"""What an uploaded file is, read from its first bytes (and a zip's directory), against an allow-list.

Only the types a marketer publishes are accepted: PDF, images (PNG, JPEG, GIF, WebP), office
documents (OOXML, OpenDocument and the legacy binary formats), zip archives, plain text and CSV.
The declared name and Content-Type are never trusted: a file is what its bytes say. HTML and SVG
(both can carry scripts) are refused, whatever they are called. A general "magic" database is not
needed for an allow-list: each allowed type has one documented signature (decision 0022).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import IO

HEAD_BYTES = 8192


@dataclass(frozen=True)
class Kind:
    mime: str
    extension: str
    inline: bool = False  # may be shown in the browser (?stream=1); everything else is an attachment


PDF = Kind("application/pdf", "pdf", inline=True)
PNG = Kind("image/png", "png", inline=True)
JPEG = Kind("image/jpeg", "jpg", inline=True)
GIF = Kind("image/gif", "gif", inline=True)
WEBP = Kind("image/webp", "webp", inline=True)
ZIP = Kind("application/zip", "zip")
TEXT = Kind("text/plain", "txt", inline=True)
CSV = Kind("text/csv", "csv", inline=True)
DOCX = Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
XLSX = Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
PPTX = Kind("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx")
ODF = {
    "application/vnd.oasis.opendocument.text": Kind("application/vnd.oasis.opendocument.text", "odt"),
    "application/vnd.oasis.opendocument.spreadsheet": Kind("application/vnd.oasis.opendocument.spreadsheet", "ods"),
    "application/vnd.oasis.opendocument.presentation": Kind("application/vnd.oasis.opendocument.presentation", "odp"),
}
LEGACY_OFFICE = {
    "doc": Kind("application/msword", "doc"),
    "xls": Kind("application/vnd.ms-excel", "xls"),
    "ppt": Kind("application/vnd.ms-powerpoint", "ppt"),
}
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ALLOWED_DESCRIPTION = "PDF, PNG, JPEG, GIF, WebP, Word, Excel, PowerPoint, OpenDocument, zip, plain text or CSV"

_MARKUP = (b"<!doctype html", b"<html", b"<svg", b"<script", b"<?xml", b"<body", b"<head", b"<iframe")


class Refused(ValueError):
    """The file is not of an allowed type; the message says what it is or what is allowed, never its content."""


def _zip_kind(file: IO[bytes]) -> Kind:
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist()[:10_000])
            if "mimetype" in names:
                declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                if declared in ODF:
                    return ODF[declared]
            if "[Content_Types].xml" in names:
                for prefix, kind in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)):
                    if any(name.startswith(prefix) for name in names):
                        return kind
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError):
        raise Refused("this zip archive is damaged or cannot be read") from None
    return ZIP


def _text_kind(head: bytes, filename: str) -> Kind | None:
    if b"\x00" in head:
        return None
    sample = head
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(sample) - 4:  # not just a character cut at the end of the sample
            try:
                text = sample.decode("cp1252")
            except UnicodeDecodeError:
                return None
        else:
            text = sample[: error.start].decode("utf-8")
    lowered = text.lstrip("\ufeff \t\r\n").lower().encode()
    if any(marker in lowered[:1024] for marker in _MARKUP):
        raise Refused("HTML, SVG and XML files can carry scripts and are not accepted")
    if any(ord(ch) < 32 and ch not in "\t\r\n\f" for ch in text):
        return None
    return CSV if filename.lower().endswith(".csv") else TEXT


def detect(file: IO[bytes], filename: str = "") -> Kind:
    """Return the kind of file (read from position 0; the position is left at 0); raise Refused otherwise."""
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    if not head:
        raise Refused("the file is empty")
    kind: Kind | None = None
    if head.startswith(b"%PDF-"):
        kind = PDF
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = PNG
    elif head.startswith(b"\xff\xd8\xff"):
        kind = JPEG
    elif head[:6] in (b"GIF87a", b"GIF89a"):
        kind = GIF
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = WEBP
    elif head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        kind = _zip_kind(file)
        file.seek(0)
    elif head.startswith(OLE2):
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        kind = LEGACY_OFFICE.get(extension)
        if kind is None:
            raise Refused("this is a legacy Office file: name it .doc, .xls or .ppt")
    else:
        kind = _text_kind(head, filename)
    if kind is None:
        raise Refused(f"this type of file is not accepted: upload {ALLOWED_DESCRIPTION}")
    return kind


def kind_of(mime: str) -> Kind | None:
    """Return the allowed kind whose MIME type is mime; None for any other."""
    every = [PDF, PNG, JPEG, GIF, WEBP, ZIP, TEXT, CSV, DOCX, XLSX, PPTX, *ODF.values(), *LEGACY_OFFICE.values()]
    return next((kind for kind in every if kind.mime == mime), None)
