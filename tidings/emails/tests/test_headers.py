"""Headers: Message-ID round trip, RFC 8058 one-click for marketing only, DKIM that verifies, the key sealed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings.emails.tests.conftest import make_email, make_segment, run, system


@pytest.fixture(scope="module")
def rsa_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())  # fmt: skip
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, public


def test_message_id_reads_back_only_in_its_workspace(in_acme, globex):
    from tidings.emails.headers import message_id, read_message_id
    from tidings.emails.links import MessageRef

    value = message_id(12, 34, "acme.example")
    assert value.startswith("<12.34.") and value.endswith("@acme.example>")
    assert read_message_id(value) == MessageRef(12, 34)
    assert read_message_id(f"  {value.strip('<>')} ") == MessageRef(12, 34)
    assert read_message_id(value.replace("<12.34", "<12.35")) is None
    assert read_message_id(value, workspace_id=globex.id) is None


@given(st.text(max_size=80))
def test_read_message_id_never_raises(value):
    from tidings.emails.headers import read_message_id

    assert read_message_id(value, workspace_id=1) is None or "@" in value


def test_marketing_has_one_click_unsubscribe_and_transactional_has_none():
    from tidings.emails.headers import message_headers

    common = dict(send_id=1, contact_id=2, email_id=3, email_name='Spring "news"', token="t", workspace_slug="acme",
                  domain="acme.example", workspace_id=5)  # fmt: skip
    marketing = message_headers(marketing=True, **common)
    assert marketing["List-Unsubscribe"].startswith("<http") and marketing["List-Unsubscribe"].endswith("/e/u/t>")
    assert marketing["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert marketing["List-Id"] == '"Spring news" <email-3.acme.acme.example>'
    assert marketing["Feedback-ID"] == "1:3:acme:tidings"
    transactional = message_headers(marketing=False, **common)
    assert "List-Unsubscribe" not in transactional and "List-Unsubscribe-Post" not in transactional


def test_the_dkim_key_is_sealed_and_opens(in_acme, rsa_key):
    from tidings.emails.headers import open_dkim_key, seal_dkim_key
    from tidings.privacy.vault import keyring

    pem, _ = rsa_key
    version, wrapped, sealed = seal_dkim_key(keyring(), pem)
    assert pem not in sealed and b"PRIVATE KEY" not in sealed
    assert open_dkim_key(keyring(), version, wrapped, sealed) == pem


def test_a_broadcast_is_dkim_signed_and_verifies(readers, smtp, rsa_key):
    import base64

    import dkim

    from tidings.emails.actions.sending import send_start, sending_settings_update

    pem, public = rsa_key
    sending_settings_update(principal=system(), dkim_domain="acme.example", dkim_selector="s2026",
                            dkim_private_key=pem.decode())  # fmt: skip
    mail = make_email(segment_ids=[make_segment([readers[0].id]).pk])
    run(send_start(mail.pk, principal=system()))
    (raw,) = smtp.messages
    assert raw.startswith(b"DKIM-Signature:")
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name, timeout=5):
        return record if name == b"s2026._domainkey.acme.example." else None

    assert dkim.verify(raw.replace(b"\n", b"\r\n") if b"\r\n" not in raw else raw, dnsfunc=dns)


@given(text=st.text(max_size=300), html=st.text(max_size=300))
def test_every_line_of_a_built_message_ends_in_crlf(text, html):
    """A body without a line break of its own (one long line) once got bare-LF soft breaks: DKIM failed."""
    from tidings.emails import message

    data = message.build(from_header="a@acme.example", to_header="b@acme.example", subject="Hi", text=text,
                         html=html, date="Tue, 01 Dec 2026 12:00:00 GMT")  # fmt: skip
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")


def test_a_one_line_body_is_signed_over_the_bytes_the_wire_carries(rsa_key):
    import base64

    import dkim

    from tidings.emails import headers, message

    pem, public = rsa_key
    data = message.build(from_header="a@acme.example", to_header="b@acme.example", subject="Hi",
                         text="word " * 60, html="<p>" + "word " * 60 + "</p>")  # fmt: skip
    signed = headers.dkim_signature(data, selector="s2026", domain="acme.example", private_key_pem=pem) + data
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    assert dkim.verify(signed, dnsfunc=lambda name, timeout=5: record)
