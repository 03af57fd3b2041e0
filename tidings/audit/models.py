"""The append-only, hash-chained audit log.

Each workspace has its own chain, stored in its region's database beside the data it
describes; chain 0 is the system chain in the global database. Entries name targets by id
only, never personal data in clear, so shredding a contact's key never breaks a chain.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC

from django.db import models

SYSTEM_CHAIN = 0


class AuditEntry(models.Model):
    workspace_id = models.BigIntegerField()
    seq = models.BigIntegerField()
    at = models.DateTimeField()
    actor_type = models.CharField(max_length=16)
    actor_id = models.BigIntegerField(null=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip_prefix = models.CharField(max_length=48, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace_id", "seq"], name="audit_chain_seq_unique")]
        indexes = [
            models.Index(fields=["workspace_id", "action", "seq"]),
            models.Index(fields=["workspace_id", "at"]),
        ]
        ordering = ["-seq"]

    def compute_hash(self) -> str:
        payload = [
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
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


class AuditChainHead(models.Model):
    """The last (seq, hash) of every chain, kept in the global database.

    A chain alone cannot reveal that its newest entries were cut off; comparing it with
    this head, stored in another database, can.
    """

    global_only = True

    workspace_id = models.BigIntegerField(primary_key=True)
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
