"""Read and verify audit chains."""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tidings.audit.keys import chain_key, key_id
from tidings.audit.models import (
    ALG_HMAC_SHA256,
    ALG_SHA256,
    CHAIN_KEYED,
    CHAIN_REKEYED,
    GENESIS,
    AuditChainHead,
    AuditEntry,
)
from tidings.tenancy.context import region_aliases, require_workspace

SUPPORT_REQUEST = "support.request"  # a page a staff member opened under a support grant


def audit_entries_for_workspace(
    *,
    action_prefix: str = "",
    actor_type: str = "",
    before_seq: int | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
):
    """Return the current workspace's entries, newest first, optionally filtered.

    since and until bound the entries' time (since included, until excluded).
    """
    workspace = require_workspace()
    entries = AuditEntry.objects.using(workspace.db_alias).filter(workspace_id=workspace.id)
    if action_prefix:
        entries = entries.filter(action__startswith=action_prefix)
    if actor_type:
        entries = entries.filter(actor_type=actor_type)
    if since is not None:
        entries = entries.filter(at__gte=since)
    if until is not None:
        entries = entries.filter(at__lt=until)
    if before_seq is not None:
        entries = entries.filter(seq__lt=before_seq)
    return entries.order_by("-seq")


def entries_for_target(target_type: str, target_id: int | str):
    """Return the current workspace's entries about one target (a request, a form...), oldest first."""
    workspace = require_workspace()
    return (
        AuditEntry.objects.using(workspace.db_alias)
        .filter(workspace_id=workspace.id, target_type=target_type, target_id=str(target_id))
        .order_by("seq")
    )


def audit_entry(seq: int) -> AuditEntry:
    """Return the current workspace's entry number seq; raise AuditEntry.DoesNotExist (also for another's)."""
    workspace = require_workspace()
    return AuditEntry.objects.using(workspace.db_alias).get(workspace_id=workspace.id, seq=seq)


@dataclass(frozen=True)
class ChainProblem:
    database: str
    workspace_id: int
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"entry {self.seq}" if self.seq is not None else "chain"
        return f"[{self.database}] workspace {self.workspace_id}, {where}: {self.problem}"


def database_aliases() -> list[str]:
    """Return every database that holds chains: the global one, then each region's."""
    return ["default", *region_aliases()]


def verify_chain(
    alias: str,
    chain: int,
    *,
    head: AuditChainHead | None = None,
    key: bytes | None = None,
    require_keyed_tail: bool = True,
    batch_size: int = 5000,
) -> Iterator[ChainProblem]:
    """Yield every problem of one chain: altered, removed, inserted, unkeyed or cut-off entries.

    Entries are keyed (HMAC-SHA256 under key, default: derived from the master key), except a
    run of plain SHA-256 entries written before the chain was keyed: that run must come first
    and be followed by the audit.chain_keyed entry, and a chain may not end in it unless
    require_keyed_tail is False (a chain nobody keyed after the upgrade, or one rewritten by
    someone who could not compute the keyed hashes). head is the chain's head in the global database.
    """
    key = key if key is not None else chain_key()
    current_key_id = key_id(key)
    expected_seq, prev_hash, last_seq, last_alg, hash_at_head = 1, GENESIS, 0, None, None
    keyed = False
    # Entries keyed under earlier master keys: a running digest and the newest not yet re-sealed, per key.
    earlier: defaultdict[str, Any] = defaultdict(hashlib.sha256)
    unsealed: dict[str, int] = {}
    queryset = AuditEntry.objects.using(alias).filter(workspace_id=chain).order_by("seq")
    for entry in queryset.iterator(chunk_size=batch_size):
        if entry.seq != expected_seq:
            yield ChainProblem(alias, chain, entry.seq, f"expected entry {expected_seq} (removed or inserted)")
        if entry.prev_hash != prev_hash:
            yield ChainProblem(alias, chain, entry.seq, "does not link to the entry before it")
        if entry.alg == ALG_SHA256:
            if keyed:
                yield ChainProblem(alias, chain, entry.seq, "unkeyed entry after the chain was keyed (rewritten)")
            elif entry.compute_hash() != entry.hash:
                yield ChainProblem(alias, chain, entry.seq, "content does not match its hash (altered)")
        elif entry.alg == ALG_HMAC_SHA256:
            if not keyed and last_seq and entry.action != CHAIN_KEYED:
                yield ChainProblem(alias, chain, entry.seq, "the switch to a keyed chain is not recorded")
            keyed = True
            if entry.key_id != current_key_id:
                # Checkable only through the digest a later audit.chain_rekeyed entry holds.
                earlier[entry.key_id].update(entry.canonical() + entry.hash.encode())
                unsealed[entry.key_id] = entry.seq
            elif entry.compute_hash(key) != entry.hash:
                yield ChainProblem(alias, chain, entry.seq, "content does not match its keyed hash (altered)")
            if entry.action == CHAIN_REKEYED:
                old_key_id = str(entry.data.get("from", ""))
                if old_key_id not in earlier or earlier[old_key_id].hexdigest() != entry.data.get("digest"):
                    yield ChainProblem(
                        alias, chain, entry.seq, f"entries keyed under key {old_key_id} do not match their re-sealing"
                    )
                unsealed.pop(old_key_id, None)
        else:
            yield ChainProblem(alias, chain, entry.seq, f"unknown hash algorithm {entry.alg}")
        if head is not None and entry.seq == head.seq:
            hash_at_head = entry.hash
        expected_seq, prev_hash, last_seq, last_alg = entry.seq + 1, entry.hash, entry.seq, entry.alg
    for old_key_id, seq in unsealed.items():
        yield ChainProblem(
            alias,
            chain,
            seq,
            f"keyed under another master key (key {old_key_id}) and not re-sealed since "
            "(run `tidings audit rekey --previous-master-key FILE`)",
        )
    if require_keyed_tail and last_alg == ALG_SHA256:
        yield ChainProblem(alias, chain, None, "ends in unkeyed entries (run `tidings audit key-chains` once)")
    # The head is a checkpoint written after each commit: it may lag behind the chain
    # (a crash between commit and checkpoint) but never run ahead of it or disagree.
    if head is not None and head.seq > last_seq:
        yield ChainProblem(
            alias, chain, None, f"ends at entry {last_seq} but its head says {head.seq} (entries cut off)"
        )
    elif head is not None and hash_at_head != head.hash:
        yield ChainProblem(alias, chain, head.seq, "differs from the head recorded in the global database")


def verify_chains(batch_size: int = 5000) -> Iterator[ChainProblem]:
    """Yield every problem in every chain of every database (see verify_chain), and heads without a chain."""
    heads = {head.workspace_id: head for head in AuditChainHead.objects.using("default").all()}
    key = chain_key()
    seen: set[int] = set()
    for alias in database_aliases():
        chain_ids = AuditEntry.objects.using(alias).order_by().values_list("workspace_id", flat=True).distinct()
        for chain in sorted(chain_ids):
            seen.add(chain)
            yield from verify_chain(alias, chain, head=heads.get(chain), key=key, batch_size=batch_size)
    for chain, head in heads.items():
        if chain not in seen:
            yield ChainProblem("default", chain, None, f"head says {head.seq} entries but none were found")
