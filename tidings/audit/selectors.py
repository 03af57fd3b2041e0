"""Read and verify audit chains."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tidings.audit.models import AuditChainHead, AuditEntry
from tidings.tenancy.context import region_aliases, require_workspace


def audit_entries_for_workspace(*, action_prefix: str = "", actor_type: str = "", before_seq: int | None = None):
    """Return the current workspace's entries, newest first, optionally filtered."""
    workspace = require_workspace()
    entries = AuditEntry.objects.using(workspace.db_alias).filter(workspace_id=workspace.id)
    if action_prefix:
        entries = entries.filter(action__startswith=action_prefix)
    if actor_type:
        entries = entries.filter(actor_type=actor_type)
    if before_seq is not None:
        entries = entries.filter(seq__lt=before_seq)
    return entries.order_by("-seq")


@dataclass(frozen=True)
class ChainProblem:
    database: str
    workspace_id: int
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"entry {self.seq}" if self.seq is not None else "chain"
        return f"[{self.database}] workspace {self.workspace_id}, {where}: {self.problem}"


def _database_aliases() -> list[str]:
    return ["default", *region_aliases()]


def verify_chains(batch_size: int = 5000) -> Iterator[ChainProblem]:
    """Yield every problem in every chain of every database: altered, removed, inserted or cut-off entries."""
    from tidings.audit.actions import GENESIS

    heads = {head.workspace_id: head for head in AuditChainHead.objects.using("default").all()}
    seen: set[int] = set()
    for alias in _database_aliases():
        chain_ids = AuditEntry.objects.using(alias).order_by().values_list("workspace_id", flat=True).distinct()
        for chain in sorted(chain_ids):
            seen.add(chain)
            head = heads.get(chain)
            expected_seq, prev_hash, last_seq, hash_at_head = 1, GENESIS, 0, None
            queryset = AuditEntry.objects.using(alias).filter(workspace_id=chain).order_by("seq")
            for entry in queryset.iterator(chunk_size=batch_size):
                if entry.seq != expected_seq:
                    yield ChainProblem(alias, chain, entry.seq, f"expected entry {expected_seq} (removed or inserted)")
                if entry.prev_hash != prev_hash:
                    yield ChainProblem(alias, chain, entry.seq, "does not link to the entry before it")
                if entry.compute_hash() != entry.hash:
                    yield ChainProblem(alias, chain, entry.seq, "content does not match its hash (altered)")
                if head is not None and entry.seq == head.seq:
                    hash_at_head = entry.hash
                expected_seq, prev_hash, last_seq = entry.seq + 1, entry.hash, entry.seq
            # The head is a checkpoint written after each commit: it may lag behind the chain
            # (a crash between commit and checkpoint) but never run ahead of it or disagree.
            if head is not None and head.seq > last_seq:
                yield ChainProblem(
                    alias, chain, None, f"ends at entry {last_seq} but its head says {head.seq} (entries cut off)"
                )
            elif head is not None and hash_at_head != head.hash:
                yield ChainProblem(alias, chain, head.seq, "differs from the head recorded in the global database")
    for chain, head in heads.items():
        if chain not in seen:
            yield ChainProblem("default", chain, None, f"head says {head.seq} entries but none were found")
