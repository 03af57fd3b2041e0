"""The personal-data vault: envelope encryption per contact, keyed blind indexes, key rotation.

    master key ──wraps──> workspace key (versioned) ──wraps──> contact data key ──encrypts──> values
    master key ──wraps──> workspace blind-index key ──HMAC──> 16-byte blind indexes

Every encryption is AES-256-GCM, stored compactly as nonce (12 bytes) ‖ ciphertext ‖ tag (16).
The associated data binds each ciphertext to its place, f"{workspace_id}:{contact_id}:{field}",
so a value copied to another contact, field or workspace fails to decrypt instead of lying.

Deleting a contact's ContactKey (crypto-shredding) makes every copy of its ciphertext
unreadable. Rotation re-wraps keys and never re-encrypts data: a workspace key rotation
re-wraps every contact data key; a master key rotation re-wraps every workspace key.

Typical use, in the current workspace:

    ring = keyring()
    contact_key, dek = ring.new_data_key(contact_id)     # save contact_key with the contact
    blob = dek.encrypt_json("profile", {"email": "ada@example.example"})
    ring.data_key(contact_id).decrypt_json("profile", blob)
    ring.blind_index("email", normalise_email("Ada@Example.example"))
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from tidings.audit.actions import audit_record
from tidings.privacy.models import ContactKey, KeyKind, WorkspaceKey
from tidings.tenancy.context import ActiveWorkspace, region_aliases, require_workspace
from tidings.tenancy.rls import dangerously_bypass_rls

NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
BLIND_INDEX_BYTES = 16


class VaultError(Exception):
    """Base of the vault's errors."""


class KeyShredded(VaultError, LookupError):
    """The contact has no data key: it was shredded (erased or merged away) or never existed."""


class DecryptionFailed(VaultError):
    """A ciphertext did not authenticate: wrong key, or copied to another contact, field or workspace."""


class MasterKeyMismatch(VaultError):
    """A workspace key is wrapped under a master key other than the configured one."""


# ----------------------------------------------------------------------------------------------
# Primitives


def seal(aead: AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt plaintext; return nonce ‖ ciphertext ‖ tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + aead.encrypt(nonce, plaintext, aad)


def unseal(aead: AESGCM, blob: bytes | memoryview, aad: bytes) -> bytes:
    """Decrypt a blob made by seal(); raise DecryptionFailed when it does not authenticate.

    blob may be a BinaryField's memoryview as read from the database.
    """
    blob = bytes(blob)
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionFailed("ciphertext too short")
    try:
        return aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except InvalidTag as error:
        raise DecryptionFailed("ciphertext does not authenticate under this key and place") from error


def fingerprint(master_key: bytes) -> str:
    """Return a short, non-secret fingerprint of a master key (recorded beside what it wraps)."""
    return hashlib.sha256(b"tidings-master-key-fingerprint:" + master_key).hexdigest()[:16]


def _kek_aad(workspace_id: int, kind: str, version: int) -> bytes:
    return f"{workspace_id}:workspace-key:{kind}:{version}".encode()


def _dek_aad(workspace_id: int, contact_id: int) -> bytes:
    return f"{workspace_id}:{contact_id}:data-key".encode()


def _file_key_aad(workspace_id: int, name: str) -> bytes:
    return f"{workspace_id}:file-key:{name}".encode()


def value_aad(workspace_id: int, contact_id: int, field: str) -> bytes:
    return f"{workspace_id}:{contact_id}:{field}".encode()


# ----------------------------------------------------------------------------------------------
# Normalisation for blind indexes: equal after normalisation means equal index.

_WORD = re.compile(r"\w+", re.UNICODE)


def _fold(value: str) -> str:
    # NFKD then dropping combining marks makes "José" and "Jose" the same word.
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def normalise_email(value: str) -> str:
    """Return the email as indexed: trimmed, NFKC, lowercase (local parts are case-insensitive in practice)."""
    return unicodedata.normalize("NFKC", value).strip().lower()


def normalise_phone(value: str) -> str:
    """Return the phone number as indexed: its digits only, an international "00" prefix dropped."""
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits[2:] if digits.startswith("00") else digits


def normalise_text(value: str) -> str:
    """Return a free value (unique identifiers) as indexed: trimmed, accents dropped, casefolded."""
    return _fold(unicodedata.normalize("NFKC", value).strip())


def words(value: str) -> list[str]:
    """Return the distinct searchable words of a name: lowercase, accents dropped, in order."""
    if not value:
        return []
    # ASCII has no accents to drop and casefolds to lowercase: skip the Unicode round trip.
    folded = value.lower() if value.isascii() else _fold(value)
    return list(dict.fromkeys(_WORD.findall(folded)))


# ----------------------------------------------------------------------------------------------
# In-process cache of unwrapped workspace keys


class _LRU:
    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


# Keyed by the wrapped bytes too, so a re-wrapped or re-created key (e.g. a workspace id
# reused after a rolled-back transaction) can never be served from a stale entry.
_UNWRAPPED = _LRU(maxsize=512)


def clear_key_cache() -> None:
    """Forget every unwrapped key held in this process."""
    _UNWRAPPED.clear()


def _master_key() -> bytes:
    from tidings.conf import use_master_key

    return use_master_key()


def _unwrap(row, master: bytes | None = None) -> bytes:
    master = master if master is not None else _master_key()
    wrapped = bytes(row.wrapped_key)
    cache_key = (row.workspace_id, row.kind, row.version, wrapped)
    cached = _UNWRAPPED.get(cache_key)
    if cached is not None:
        return cached
    if row.master_fingerprint != fingerprint(master):
        raise MasterKeyMismatch(
            f"workspace {row.workspace_id} {row.kind} key v{row.version} is wrapped under master key "
            f"{row.master_fingerprint}, but the configured master key is {fingerprint(master)}"
        )
    key = unseal(AESGCM(master), wrapped, _kek_aad(row.workspace_id, row.kind, row.version))
    _UNWRAPPED.put(cache_key, key)
    return key


def _wrap(workspace_id: int, kind: str, version: int, key: bytes, master: bytes) -> bytes:
    return seal(AESGCM(master), key, _kek_aad(workspace_id, kind, version))


# ----------------------------------------------------------------------------------------------
# Keys in use


class DataKey:
    """A contact's unwrapped data key, bound to its workspace and contact."""

    __slots__ = ("_aead", "contact_id", "workspace_id")

    def __init__(self, workspace_id: int, contact_id: int, key: bytes):
        self.workspace_id = workspace_id
        self.contact_id = contact_id
        self._aead = AESGCM(key)

    def encrypt(self, field: str, plaintext: bytes) -> bytes:
        """Return nonce ‖ ciphertext ‖ tag of plaintext, bound to this contact and field."""
        return seal(self._aead, plaintext, value_aad(self.workspace_id, self.contact_id, field))

    def decrypt(self, field: str, blob: bytes | memoryview) -> bytes:
        """Return the plaintext of blob; raise DecryptionFailed if it belongs elsewhere or was altered."""
        return unseal(self._aead, blob, value_aad(self.workspace_id, self.contact_id, field))

    def encrypt_text(self, field: str, text: str) -> bytes:
        return self.encrypt(field, text.encode())

    def decrypt_text(self, field: str, blob: bytes | memoryview) -> str:
        return self.decrypt(field, blob).decode()

    def encrypt_json(self, field: str, value: Any) -> bytes:
        """Encrypt a JSON-serialisable value (compact separators keep ciphertexts short)."""
        return self.encrypt(field, json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())

    def decrypt_json(self, field: str, blob: bytes | memoryview) -> Any:
        return json.loads(self.decrypt(field, blob))


@dataclass
class Keyring:
    """The unwrapped keys of one workspace: its key-encryption keys by version and its index key."""

    workspace_id: int
    keks: dict[int, AESGCM]
    active_version: int
    index_key: bytes
    # The HMAC state after absorbing the key; copying it skips re-deriving the key pads per index.
    _index_mac: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index_mac = hmac.new(self.index_key, digestmod=hashlib.sha256)

    def blind_index(self, scope: str, normalised: str) -> bytes:
        """Return HMAC-SHA256(index key, scope ‖ 0x1f ‖ normalised), truncated to 16 bytes.

        scope separates uses ("email", "phone", "name", "uid:<alias>") so equal strings in
        different fields do not share an index value. Pass a value already normalised.
        """
        mac = self._index_mac.copy()
        mac.update(f"{scope}\x1f{normalised}".encode())
        return mac.digest()[:BLIND_INDEX_BYTES]

    def new_data_key(self, contact_id: int):
        """Return (unsaved ContactKey, DataKey) holding a fresh random data key for contact_id."""

        ((wrapped, key),) = self.new_data_keys([contact_id])
        row = ContactKey(
            workspace_id=self.workspace_id, contact_id=contact_id, key_version=self.active_version, wrapped_dek=wrapped
        )
        return row, key

    def new_data_keys(self, contact_ids: Sequence[int]) -> list[tuple[bytes, DataKey]]:
        """Return (wrapped data key, DataKey) per contact id: fresh random keys under the active version.

        The caller stores each wrapped key as ContactKey(contact_id, key_version=active_version,
        wrapped_dek). Imports call this for a thousand contacts at a time, so the randomness for
        every key and nonce is drawn in one read of the OS generator.
        """
        count = len(contact_ids)
        if not count:
            return []
        kek, workspace_id = self.keks[self.active_version], self.workspace_id
        stride = KEY_BYTES + NONCE_BYTES
        entropy = os.urandom(stride * count)
        made = []
        for i, contact_id in enumerate(contact_ids):
            start = i * stride
            key, nonce = entropy[start : start + KEY_BYTES], entropy[start + KEY_BYTES : start + stride]
            wrapped = nonce + kek.encrypt(nonce, key, _dek_aad(workspace_id, contact_id))
            made.append((wrapped, DataKey(workspace_id, contact_id, key)))
        return made

    def open_data_key(self, row) -> DataKey:
        """Return the DataKey wrapped in a ContactKey row; raise DecryptionFailed if it was tampered with."""
        kek = self.keks.get(row.key_version)
        if kek is None:
            raise DecryptionFailed(f"workspace key version {row.key_version} is gone")
        key = unseal(kek, row.wrapped_dek, _dek_aad(self.workspace_id, row.contact_id))
        return DataKey(self.workspace_id, row.contact_id, key)

    def data_keys(self, contact_ids: Iterable[int]) -> dict[int, DataKey]:
        """Return {contact_id: DataKey} in one query; shredded contacts are simply absent."""

        ids = list(contact_ids)
        if not ids:
            return {}
        rows = ContactKey.objects.filter(contact_id__in=ids).only("contact_id", "key_version", "wrapped_dek")
        return {row.contact_id: self.open_data_key(row) for row in rows}

    def data_key(self, contact_id: int) -> DataKey:
        """Return the contact's DataKey; raise KeyShredded when it has none."""
        found = self.data_keys([contact_id]).get(contact_id)
        if found is None:
            raise KeyShredded(f"contact {contact_id} has no data key")
        return found

    def new_file_key(self, name: str) -> tuple[int, bytes, AESGCM]:
        """Return (key version, wrapped key, AEAD) of a fresh random key for the file called name.

        The key is wrapped under the active workspace key with associated data naming the
        workspace and the file, so a wrapped key copied beside another file does not open it.
        Used for uploads at rest (tidings.privacy.sealed); store the version and wrapped key
        with the file.
        """
        key = AESGCM.generate_key(bit_length=256)
        wrapped = seal(self.keks[self.active_version], key, _file_key_aad(self.workspace_id, name))
        return self.active_version, wrapped, AESGCM(key)

    def open_file_key(self, version: int, wrapped: bytes, name: str) -> AESGCM:
        """Return the AEAD of a file key made by new_file_key; raise DecryptionFailed when it does not open."""
        kek = self.keks.get(version)
        if kek is None:
            raise DecryptionFailed(f"workspace key version {version} is gone")
        return AESGCM(unseal(kek, wrapped, _file_key_aad(self.workspace_id, name)))

    def rewrap_file_key(self, version: int, wrapped: bytes, name: str) -> tuple[int, bytes]:
        """Return (active version, wrapped key) of a file key made by new_file_key, wrapped under the active key.

        For the holders of sealed values (register_file_key_holder) when the workspace key rotates.
        Raise DecryptionFailed when it does not open.
        """
        kek = self.keks.get(version)
        if kek is None:
            raise DecryptionFailed(f"workspace key version {version} is gone")
        key = unseal(kek, wrapped, _file_key_aad(self.workspace_id, name))
        return self.active_version, seal(self.keks[self.active_version], key, _file_key_aad(self.workspace_id, name))

    def rewrap(self, row, version: int) -> None:
        """Re-wrap a ContactKey row's data key under workspace key version (row not saved)."""
        key = unseal(self.keks[row.key_version], row.wrapped_dek, _dek_aad(self.workspace_id, row.contact_id))
        row.wrapped_dek = seal(self.keks[version], key, _dek_aad(self.workspace_id, row.contact_id))
        row.key_version = version


def keyring(workspace: ActiveWorkspace | None = None) -> Keyring:
    """Return the keyring of the workspace in context, creating its keys on first use.

    One query loads the workspace's key rows; unwrapping is cached in-process. Raise
    NoWorkspaceSet with no workspace in context, MasterKeyMismatch when the keys are wrapped
    under another master key (a master rotation whose key file was not swapped in).
    """

    workspace = workspace or require_workspace()
    rows = list(WorkspaceKey.objects.filter(workspace_id=workspace.id))
    if not any(r.kind == KeyKind.KEK and r.active for r in rows) or not any(r.kind == KeyKind.INDEX for r in rows):
        _create_missing_keys(workspace, rows)
        rows = list(WorkspaceKey.objects.filter(workspace_id=workspace.id))
    keks = {r.version: AESGCM(_unwrap(r)) for r in rows if r.kind == KeyKind.KEK}
    active = max(r.version for r in rows if r.kind == KeyKind.KEK and r.active)
    index_row = next(r for r in rows if r.kind == KeyKind.INDEX)
    return Keyring(workspace_id=workspace.id, keks=keks, active_version=active, index_key=_unwrap(index_row))


def _create_missing_keys(workspace: ActiveWorkspace, rows) -> None:
    master = _master_key()
    try:
        with transaction.atomic(using=workspace.db_alias):
            for kind in (KeyKind.KEK, KeyKind.INDEX):
                if any(r.kind == kind for r in rows):
                    continue
                WorkspaceKey.objects.create(
                    workspace_id=workspace.id,
                    kind=kind,
                    version=1,
                    wrapped_key=_wrap(workspace.id, kind, 1, AESGCM.generate_key(bit_length=256), master),
                    master_fingerprint=fingerprint(master),
                    active=True,
                )
                audit_record("privacy.key_created", target_type="workspace_key", data={"kind": kind, "version": 1})
    except IntegrityError:
        pass  # another process created them first; the caller reads theirs


# ----------------------------------------------------------------------------------------------
# Rotation


# Holders of values sealed with file keys that outlive a rotation (segments' filter values):
# name -> dotted path of a function(ring) that re-wraps them under ring.active_version and
# returns how many it re-wrapped. Registered by the apps at start-up.
_FILE_KEY_HOLDERS: dict[str, str] = {}


def register_file_key_holder(name: str, rewrap: str) -> None:
    """Have rotate_workspace_key call rewrap(ring) before it retires the old workspace key versions."""
    _FILE_KEY_HOLDERS[name] = rewrap


@dataclass(frozen=True)
class RotationResult:
    version: int
    rewrapped: int
    retired_versions: tuple[int, ...]


def rotate_workspace_key(*, batch_size: int = 1000, principal=None) -> RotationResult:
    """Make a new workspace key version active and re-wrap every contact data key under it.

    Works on the workspace in context, in batches (one transaction each), so it can be
    interrupted and run again: a re-run starts a newer version and re-wraps whatever is not
    yet under it. Versions no data key uses any more are deleted at the end. Data is never
    re-encrypted. The blind-index key is not changed (indexes stay valid). Audited.
    """

    workspace = require_workspace()
    ring = keyring(workspace)
    master = _master_key()
    version = max(ring.keks) + 1
    new_key = AESGCM.generate_key(bit_length=256)
    with transaction.atomic(using=workspace.db_alias):
        WorkspaceKey.objects.filter(kind=KeyKind.KEK, active=True).update(active=False)
        WorkspaceKey.objects.create(
            workspace_id=workspace.id,
            kind=KeyKind.KEK,
            version=version,
            wrapped_key=_wrap(workspace.id, KeyKind.KEK, version, new_key, master),
            master_fingerprint=fingerprint(master),
            active=True,
        )
    ring.keks[version] = AESGCM(new_key)
    ring.active_version = version

    rewrapped, last_id = 0, 0
    while True:
        with transaction.atomic(using=workspace.db_alias):
            batch = list(
                ContactKey.objects.filter(id__gt=last_id)
                .exclude(key_version=version)
                .order_by("id")
                .only("id", "contact_id", "key_version", "wrapped_dek")[:batch_size]
            )
            if not batch:
                break
            for row in batch:
                ring.rewrap(row, version)
            ContactKey.objects.bulk_update(batch, ["wrapped_dek", "key_version"])
        rewrapped += len(batch)
        last_id = batch[-1].id

    resealed = {}
    for holder, rewrap in sorted(_FILE_KEY_HOLDERS.items()):
        # Before the retirement below: a value still under an old version would never open again.
        resealed[holder] = int(import_string(rewrap)(ring) or 0)

    with transaction.atomic(using=workspace.db_alias):
        in_use = set(ContactKey.objects.values_list("key_version", flat=True).distinct())
        retired = sorted(v for v in ring.keks if v != version and v not in in_use)
        WorkspaceKey.objects.filter(kind=KeyKind.KEK, version__in=retired).delete()
        audit_record(
            "privacy.workspace_key_rotated",
            principal=principal,
            target_type="workspace_key",
            data={"version": version, "rewrapped": rewrapped, "retired": retired, "resealed": resealed},
        )
    return RotationResult(version=version, rewrapped=rewrapped, retired_versions=tuple(retired))


def rotate_master_key(new_master: bytes, *, old_master: bytes | None = None) -> dict[str, int]:
    """Re-wrap every workspace key, in every region, under new_master; return keys re-wrapped per region.

    Keys already wrapped under new_master are skipped, so an interrupted run can be repeated.
    Crosses workspaces on purpose (unscoped manager, row-level security lifted) and writes one
    entry to each touched workspace's audit chain. Raise ValueError on a key that is not 32
    bytes, MasterKeyMismatch on a key wrapped under neither old nor new master.
    """

    if len(new_master) != KEY_BYTES:
        raise ValueError("the new master key must be 32 bytes")
    old_master = old_master if old_master is not None else _master_key()
    old_fp, new_fp = fingerprint(old_master), fingerprint(new_master)
    done: dict[str, int] = {}
    with dangerously_bypass_rls():
        for alias in region_aliases():
            count = 0
            touched: set[int] = set()
            with transaction.atomic(using=alias):
                rows = WorkspaceKey.unscoped_objects.using(alias).exclude(master_fingerprint=new_fp)
                for row in rows.order_by("id"):
                    if row.master_fingerprint != old_fp:
                        raise MasterKeyMismatch(
                            f"workspace {row.workspace_id} key {row.kind} v{row.version} is wrapped under "
                            f"{row.master_fingerprint}, neither the old nor the new master key"
                        )
                    key = unseal(AESGCM(old_master), row.wrapped_key, _kek_aad(row.workspace_id, row.kind, row.version))
                    WorkspaceKey.unscoped_objects.using(alias).filter(pk=row.pk).update(
                        wrapped_key=_wrap(row.workspace_id, row.kind, row.version, key, new_master),
                        master_fingerprint=new_fp,
                    )
                    count += 1
                    touched.add(row.workspace_id)
                for workspace_id in sorted(touched):
                    audit_record(
                        "privacy.master_key_rotated",
                        workspace=workspace_id,
                        actor_type="system",
                        target_type="workspace_key",
                        data={"from": old_fp, "to": new_fp},
                    )
            done[alias] = count
    return done
