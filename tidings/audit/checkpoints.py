"""Signed checkpoints of the audit chains, for an operator to keep outside Tidings.

A checkpoint names, per chain, the newest entry's sequence number and hash, signed with an
Ed25519 key derived from the master key. Anyone holding the public key (printed by
`tidings audit public-key`) can check the signature without the master key; checking the live
chains against it (`tidings audit verify --checkpoints FILE`) shows whether anything up to those
entries was cut back or rewritten since. What it proves and does not: docs/audit.md.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.utils import timezone

from tidings.audit.keys import checkpoint_signing_key, public_key_text
from tidings.audit.models import AuditEntry
from tidings.audit.selectors import ChainProblem, database_aliases

FORMAT = "tidings-audit-checkpoints/1"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be trusted: malformed, or its signature does not verify."""


def _signed_bytes(document: dict) -> bytes:
    unsigned = {name: value for name, value in document.items() if name != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def checkpoints_export(master: bytes | None = None) -> dict:
    """Return a signed document naming the newest entry (seq and hash) of every chain in every database."""
    chains = []
    for alias in database_aliases():
        heads = (
            AuditEntry.objects.using(alias).order_by("workspace_id", "-seq").values_list("workspace_id", "seq", "hash")
        )
        newest: dict[int, tuple[int, str]] = {}
        for chain, seq, hash_ in heads.iterator(chunk_size=5000):
            newest.setdefault(chain, (seq, hash_))
        chains += [
            {"database": alias, "chain": chain, "seq": seq, "hash": hash_}
            for chain, (seq, hash_) in sorted(newest.items())
        ]
    signing_key = checkpoint_signing_key(master)
    document = {
        "format": FORMAT,
        "made_at": timezone.now().isoformat(timespec="seconds"),
        "public_key": public_key_text(signing_key.public_key()),
        "chains": chains,
    }
    document["signature"] = base64.b64encode(signing_key.sign(_signed_bytes(document))).decode()
    return document


def checkpoints_load(text: str, public_key: Ed25519PublicKey) -> list[dict]:
    """Return the chains of a checkpoint document after checking its signature with public_key.

    The key must come from the operator (or the configured master key), never from the file:
    a forger signs with a key of their own. Raise CheckpointError on a malformed document or a
    signature that does not verify (forged, altered, or signed by another key).
    """
    try:
        document = json.loads(text)
        signature = base64.b64decode(document["signature"], validate=True)
        chains = document["chains"]
        if document.get("format") != FORMAT or not isinstance(chains, list):
            raise CheckpointError("not a Tidings audit checkpoint file")
        checked = [
            {
                "database": str(item["database"]),
                "chain": int(item["chain"]),
                "seq": int(item["seq"]),
                "hash": str(item["hash"]),
            }
            for item in chains
        ]
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as error:
        if isinstance(error, CheckpointError):
            raise
        raise CheckpointError("the checkpoint file is malformed") from error
    try:
        public_key.verify(signature, _signed_bytes(document))
    except InvalidSignature as error:
        raise CheckpointError(
            "the checkpoint file's signature does not verify (forged, altered or another key)"
        ) from error
    return checked


def verify_against_checkpoints(chains: list[dict]) -> Iterator[ChainProblem]:
    """Yield a problem for every checkpointed chain that no longer holds its checkpointed entry.

    A chain cut back below the checkpoint, or rewritten up to it (even with correctly recomputed
    hashes), no longer has the same hash at that sequence number.
    """
    known = set(database_aliases())
    for item in chains:
        alias, chain, seq = item["database"], item["chain"], item["seq"]
        if alias not in known:
            yield ChainProblem(alias, chain, None, "the checkpoint names a database this installation does not have")
            continue
        found = (
            AuditEntry.objects.using(alias).filter(workspace_id=chain, seq=seq).values_list("hash", flat=True).first()
        )
        if found is None:
            last = (
                AuditEntry.objects.using(alias)
                .filter(workspace_id=chain)
                .order_by("-seq")
                .values_list("seq", flat=True)
                .first()
            )
            yield ChainProblem(
                alias, chain, None, f"checkpoint has entry {seq} but the chain ends at {last or 0} (cut back)"
            )
        elif found != item["hash"]:
            yield ChainProblem(alias, chain, seq, "differs from the signed checkpoint (rewritten since)")
