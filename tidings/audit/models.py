"""The append-only, hash-chained audit log.

Each workspace has its own chain, stored in its region's database beside the data it
describes; chain 0 is the system chain in the global database. Entries name targets by id
only, never personal data in clear, so shredding a contact's key never breaks a chain.

Entries are linked by an HMAC-SHA256 under a key derived from the master key (algorithm 2);
entries written before the chain was keyed carry a plain SHA-256 (algorithm 1) and may only
come before the first keyed entry (docs/audit.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC

from django.db import models

SYSTEM_CHAIN = 0

ALG_SHA256 = 1  # before keyed chains: anyone who can write the database can recompute it
ALG_HMAC_SHA256 = 2  # keyed: recomputing needs the master key

GENESIS = "0" * 64
# The entry that records a chain switching from plain SHA-256 to keyed hashes.
CHAIN_KEYED = "audit.chain_keyed"
# The entry that re-seals, under a new master key, the entries keyed under the previous one.
CHAIN_REKEYED = "audit.chain_rekeyed"


class AuditRecord(models.Model):
    """What an audit entry says: who did what to which target, when, from which network."""

    workspace_id = models.BigIntegerField()
    at = models.DateTimeField()
    actor_type = models.CharField(max_length=16)
    actor_id = models.BigIntegerField(null=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip_prefix = models.CharField(max_length=48, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True


class AuditEntry(AuditRecord):
    seq = models.BigIntegerField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # Existing rows predate keyed chains, hence the default; new entries are always keyed.
    alg = models.PositiveSmallIntegerField(default=ALG_SHA256)
    key_id = models.CharField(max_length=16, blank=True)
    # The global outbox row this entry was forwarded from, so forwarding twice appends once.
    outbox_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace_id", "seq"], name="audit_chain_seq_unique"),
            models.UniqueConstraint(fields=["workspace_id", "outbox_id"], name="audit_chain_outbox_unique"),
        ]
        indexes = [
            models.Index(fields=["workspace_id", "action", "seq"]),
            models.Index(fields=["workspace_id", "at"]),
            # The history of one thing (a data-subject request's page lists its own entries).
            models.Index(fields=["workspace_id", "target_type", "target_id"], name="audit_entry_target_idx"),
        ]
        ordering = ["-seq"]

    def _payload(self) -> list:
        return [
            self.workspace_id,
            self.seq,
            self.at.astimezone(UTC).isoformat(timespec="microseconds"),
            self.actor_type,
            self.actor_id,
            self.action,
            self.target_type,
            self.target_id,
            self.ip_prefix,
            self.data,
            self.prev_hash,
        ]

    def canonical(self) -> bytes:
        """Return the bytes the entry's hash covers (for a keyed entry, its algorithm, key and outbox id too)."""
        payload = self._payload()
        if self.alg != ALG_SHA256:
            payload += [self.alg, self.key_id, self.outbox_id]
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def compute_hash(self, key: bytes | None = None) -> str:
        """Return the entry's hash: plain SHA-256 for algorithm 1, HMAC-SHA256 under key for algorithm 2.

        Raise ValueError when a keyed entry is hashed without a key.
        """
        if self.alg == ALG_SHA256:
            return hashlib.sha256(self.canonical()).hexdigest()
        if key is None:
            raise ValueError("a keyed audit entry needs the chain key")
        return hmac.new(key, self.canonical(), hashlib.sha256).hexdigest()


class AuditChainHead(models.Model):
    """The last (seq, hash) of every chain, kept in the global database.

    A chain alone cannot reveal that its newest entries were cut off; comparing it with
    this head, stored in another database, can.
    """

    global_only = True

    workspace_id = models.BigIntegerField(primary_key=True)
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)


class AuditOutbox(AuditRecord):
    """An audit entry for a change to the global database, waiting to join its workspace's chain.

    The row is written in the same transaction as the change, so a rolled-back change leaves
    no entry and a committed one always has its entry. It is forwarded to the chain (in the
    region's database) once the transaction commits, and by a periodic job for leftovers.
    """

    global_only = True
