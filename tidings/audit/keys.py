"""Keys of the audit log, derived from the master key on every use and never stored.

    master key ──HKDF──> chain key (HMAC-SHA256 of every entry)
    master key ──HKDF──> checkpoint signing key (Ed25519; its public key can be published)

Deriving, not storing, means a copy of the databases holds nothing that forges an entry
or a checkpoint: that takes the master key, which lives outside every database.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tidings.conf import use_master_key

_CHAIN_INFO = b"tidings audit chain hmac-sha256 v1"
_CHECKPOINT_INFO = b"tidings audit checkpoint ed25519 v1"


def _derive(info: bytes, master: bytes | None) -> bytes:
    master = master if master is not None else use_master_key()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


def chain_key(master: bytes | None = None) -> bytes:
    """Return the HMAC key of the audit chains (derived from master, default: the configured master key)."""
    return _derive(_CHAIN_INFO, master)


def key_id(key: bytes) -> str:
    """Return a short, non-secret name of a chain key, stored in each entry so a rotation is visible."""
    return hashlib.sha256(b"tidings-audit-key-id:" + key).hexdigest()[:16]


def checkpoint_signing_key(master: bytes | None = None) -> Ed25519PrivateKey:
    """Return the Ed25519 key that signs checkpoints (derived from master, default: the configured one)."""
    return Ed25519PrivateKey.from_private_bytes(_derive(_CHECKPOINT_INFO, master))


def public_key_text(public_key: Ed25519PublicKey) -> str:
    """Return public_key as printable text: base64 of its 32 raw bytes."""
    return base64.b64encode(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """Parse a public key printed by public_key_text; raise ValueError when it is not one."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (ValueError, TypeError) as error:
        raise ValueError("the public key is not base64") from error
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)
