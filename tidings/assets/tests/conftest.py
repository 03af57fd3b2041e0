"""Assets' actors: files of each kind, Acme's members by role, and a published guide."""

from __future__ import annotations

import io
import zipfile

import pytest

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def upload(content: bytes, name: str = "guide.pdf"):
    """Return an uploaded file as Django hands it to a view."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


@pytest.fixture
def private_var(settings, tmp_path):
    """A var folder of the test's own, so stored files can be listed and their modes read."""
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
    return settings.VAR_DIR


@pytest.fixture
def member(acme, make_user):
    """Return make(role) -> a principal of a new member of Acme with role."""
    from tidings.accounts.actions import membership_create
    from tidings.accounts.selectors import principal_for_user
    from tidings.tests.principals import system

    def make(role: str):
        user = make_user(f"{role}@acme.example")
        membership_create(workspace=acme, user=user, role=role, principal=system(acme))
        return principal_for_user(user, acme)

    return make


@pytest.fixture
def guide(in_acme, private_var):
    """Acme's published pricing guide, a PDF."""
    from tidings.assets import actions
    from tidings.tests.principals import system

    return actions.asset_create(principal=system(), title="Pricing guide", file=upload(PDF), filename="pricing.pdf")
