"""The bytes of one message: multipart/alternative (text, then HTML), quoted-printable, CRLF.

Django's EmailMultiAlternatives builds the same message through the email package at about 360 a
second on the bench machine, most of a broadcast's budget; this builder writes the few headers a
broadcast needs and encodes the bodies with binascii's C quoted-printable, several times faster.
ESP backends (anymail) take Django message objects instead (as_django_message). The output is
checked by the tests with the standard library's parser (headers, both parts, the characters).
"""

from __future__ import annotations

import binascii
import random
from collections.abc import Mapping
from email.header import Header
from email.utils import formataddr, formatdate

from django.core.mail import EmailMultiAlternatives


class UnsendableAddress(ValueError):
    """An address the builder cannot put on the wire (a non-ASCII local part needs SMTPUTF8)."""


def encode_address(name: str, address: str) -> str:
    """Return a From/To header value: the name RFC 2047-encoded when not ASCII, an IDN domain in punycode."""
    local, _, domain = address.rpartition("@")
    if not local or not domain or any(c in address for c in '\r\n<>"(),;: '):
        raise UnsendableAddress("an address the message cannot carry")
    if not local.isascii():
        raise UnsendableAddress("a non-ASCII local part")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as error:
            raise UnsendableAddress("a domain that does not encode") from error
    address = f"{local}@{domain}"
    name = " ".join(name.split())
    return formataddr((name, address), charset="utf-8") if name else address


def envelope_address(address: str) -> str:
    """Return the address as the SMTP envelope carries it (the domain in punycode)."""
    local, _, domain = address.rpartition("@")
    return address if domain.isascii() else f"{local}@{domain.encode('idna').decode('ascii')}"


def _header(value: str) -> str:
    value = " ".join(value.split()) if ("\n" in value or "\r" in value) else value
    if value.isascii() and len(value) < 900:
        return value
    return Header(value, "utf-8", maxlinelen=76).encode(linesep="\r\n")


def _qp(text: str) -> bytes:
    data = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n").encode("utf-8")
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
    # b2a_qp ends its soft line breaks with a bare LF when the text has no line break of its own: SMTP
    # turns that into CRLF on the wire, and a DKIM signature made over the bare LF no longer verifies.
    return encoded.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def build(*, from_header: str, to_header: str, subject: str, text: str, html: str, date: str | None = None,
          reply_to: str = "", headers: Mapping[str, str] | None = None) -> bytes:  # fmt: skip
    """Return the message's bytes; from_header/to_header come from encode_address. headers: added as given."""
    # A quoted-printable body never holds "=_" (an "=" is written "=3D"), so the boundary cannot occur in a
    # part and needs no secret randomness: random's generator spares a getrandom() call per message.
    boundary = f"=_t{random.getrandbits(96):024x}"
    lines = [f"From: {from_header}", f"To: {to_header}", f"Subject: {_header(subject)}",
             f"Date: {date or formatdate(usegmt=True)}"]  # fmt: skip
    if reply_to:
        lines.append(f"Reply-To: {reply_to}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {_header(value)}")
    lines += ["MIME-Version: 1.0", f'Content-Type: multipart/alternative; boundary="{boundary}"', "", ""]
    head = "\r\n".join(lines).encode("ascii")
    part = (
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode("ascii")
    html_part = (
        f"\r\n--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode("ascii")
    return b"".join((head, part, _qp(text), html_part, _qp(html), f"\r\n--{boundary}--\r\n".encode("ascii")))


def as_django_message(*, from_header: str, to: str, subject: str, text: str, html: str, reply_to: str = "",
                      headers: Mapping[str, str] | None = None, connection=None) -> EmailMultiAlternatives:  # fmt: skip
    """Return the same message as a Django object, for backends that take those (anymail's ESPs)."""
    message = EmailMultiAlternatives(subject=" ".join(subject.split()), body=text, from_email=from_header, to=[to],
                                     reply_to=[reply_to] if reply_to else None, headers=dict(headers or {}),
                                     connection=connection)  # fmt: skip
    message.attach_alternative(html, "text/html")
    return message
