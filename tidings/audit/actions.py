"""Write audit entries. Every action in every app records itself through audit_record()."""

from __future__ import annotations

import hashlib
import ipaddress
import logging

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from tidings.audit.keys import chain_key, key_id
from tidings.audit.models import (
    ALG_HMAC_SHA256,
    ALG_SHA256,
    CHAIN_KEYED,
    CHAIN_REKEYED,
    GENESIS,
    SYSTEM_CHAIN,
    AuditChainHead,
    AuditEntry,
    AuditOutbox,
)
from tidings.audit.selectors import database_aliases, verify_chain
from tidings.tenancy.context import current_workspace, region_db_alias
from tidings.tenancy.models import workspace_region
from tidings.tenancy.network import client_ip  # the one reader of the client address (re-exported)

logger = logging.getLogger(__name__)


def truncate_ip(ip: str | None) -> str:
    """Return the network of ip, never the address: /24 for IPv4, /48 for IPv6."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _chain_target(workspace) -> tuple[int, str]:
    if workspace is None:
        active = current_workspace()
        if active is None:
            return SYSTEM_CHAIN, "default"
        return active.id, active.db_alias
    if isinstance(workspace, int):
        return workspace, region_db_alias(workspace_region(workspace))
    return workspace.id, workspace.db_alias if hasattr(workspace, "db_alias") else region_db_alias(workspace.region)


def audit_record(
    action: str,
    *,
    principal=None,
    actor_type: str | None = None,
    actor_id: int | None = None,
    target_type: str = "",
    target_id: object = "",
    data: dict | None = None,
    request=None,
    workspace=None,
    via_outbox: bool = False,
) -> AuditEntry | AuditOutbox:
    """Append an entry to the chain of workspace (default: the current one, else the system chain).

    The actor is taken from principal, else from actor_type/actor_id, else from request.user.
    data must hold ids and settings only, never personal data in clear.

    via_outbox is for changes written to the global database (members, roles, grants, workspace
    settings) whose chain lives in a region database: the entry is written to the global outbox
    in the caller's transaction, so it exists if and only if the change commits, and joins the
    chain once that transaction commits (audit_outbox_forward). Return the outbox row then.

    Raise RuntimeError if the chain stays contended after several attempts.
    """
    if principal is not None:
        actor_type, actor_id = principal.actor_type, principal.actor_id
    elif actor_type is None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor_type, actor_id = ("staff" if user.is_staff else "user"), user.pk
        else:
            actor_type = "system"
    fields = {
        "at": timezone.now(),
        "actor_type": actor_type,
        "actor_id": actor_id,
        "action": action,
        "target_type": target_type,
        "target_id": str(target_id) if target_id not in (None, "") else "",
        "ip_prefix": truncate_ip(client_ip(request)),
        "data": data or {},
    }
    chain, alias = _chain_target(workspace)
    if via_outbox and alias != "default":
        row = AuditOutbox.objects.using("default").create(workspace_id=chain, **fields)
        # The change is committed whatever happens in the hook; a failed forward stays in the
        # outbox for the periodic job instead of turning a committed change into an error page.
        transaction.on_commit(lambda: _forward_after_commit(row.pk), using="default")
        return row
    entry = _append(chain, alias, fields)
    assert entry is not None  # only a forwarded outbox row can already be in the chain
    return entry


def _forward_after_commit(outbox_id: int) -> None:
    try:
        audit_outbox_forward(ids=[outbox_id])
    except Exception:
        # Left in the outbox for the periodic job; the id only, never the entry's content.
        logger.exception("audit outbox row %s not forwarded; the periodic job will retry", outbox_id)


def _append(chain: int, alias: str, fields: dict | None, *, outbox_id: int | None = None) -> AuditEntry | None:
    """Append an entry with fields to chain in database alias; return it.

    A chain whose last entry is unkeyed (written before keyed chains) gets an audit.chain_keyed
    entry first, so the switch is part of the history; with fields None only that entry is written
    (and returned). Return None when the entry of outbox_id is already in the chain, or when fields
    is None and the chain is keyed already. Raise RuntimeError if the chain stays contended.
    """
    key = chain_key()
    kid = key_id(key)
    for _attempt in range(8):
        try:
            with transaction.atomic(using=alias):
                entries = AuditEntry.objects.using(alias).filter(workspace_id=chain)
                if outbox_id is not None and entries.filter(outbox_id=outbox_id).exists():
                    return None
                last = entries.order_by("-seq").values_list("seq", "hash", "alg").first()
                if last is not None and last[2] == ALG_SHA256:
                    switch = _keyed_entry(
                        chain,
                        last,
                        key,
                        kid,
                        at=timezone.now(),
                        actor_type="system",
                        action=CHAIN_KEYED,
                        data={"unkeyed_through": last[0]},
                    )
                    switch.save(using=alias)
                    last = (switch.seq, switch.hash, switch.alg)
                    entry = switch
                elif fields is None:
                    return None
                if fields is not None:
                    entry = _keyed_entry(chain, last, key, kid, outbox_id=outbox_id, **fields)
                    entry.save(using=alias)
        except IntegrityError:
            continue  # another writer took this seq (or forwarded this outbox row); read the tail again
        _advance_head(entry)
        return entry
    raise RuntimeError(f"audit chain {chain} is too contended to append to")


def _keyed_entry(chain: int, last, key: bytes, kid: str, **fields) -> AuditEntry:
    entry = AuditEntry(
        workspace_id=chain,
        seq=(last[0] + 1) if last else 1,
        prev_hash=last[1] if last else GENESIS,
        alg=ALG_HMAC_SHA256,
        key_id=kid,
        **fields,
    )
    entry.hash = entry.compute_hash(key)
    return entry


def audit_outbox_forward(*, ids: list[int] | None = None, limit: int = 1000) -> int:
    """Move outbox rows (ids, default: any) into their chains; return how many were forwarded.

    Safe to run at any time and more than once: rows another forwarder holds are skipped, and a
    row whose entry is already in its chain (a crash after the chain committed but before the row
    was deleted) is deleted without a second entry.
    """
    forwarded = 0
    with transaction.atomic(using="default"):
        rows = AuditOutbox.objects.using("default").select_for_update(skip_locked=True).order_by("id")
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        for row in list(rows[:limit]):
            chain, alias = _chain_target(row.workspace_id)
            fields = {
                name: getattr(row, name)
                for name in ("at", "actor_type", "actor_id", "action", "target_type", "target_id", "ip_prefix", "data")
            }
            if _append(chain, alias, fields, outbox_id=row.pk) is not None:
                forwarded += 1
            row.delete()
    return forwarded


def audit_key_chains() -> list[int]:
    """Append an audit.chain_keyed entry to every chain still ending in unkeyed entries; return their ids.

    The one-off step after upgrading to keyed chains (`tidings audit key-chains`). A chain that
    does not verify is not keyed: sealing it would vouch for entries that were altered.
    Raise ValueError naming the chains that failed verification (the others are keyed).
    """
    keyed: list[int] = []
    broken: list[int] = []
    for alias in database_aliases():
        for chain in _chains_in(alias):
            entries = AuditEntry.objects.using(alias).filter(workspace_id=chain)
            last = entries.order_by("-seq").values_list("alg", flat=True).first()
            if last != ALG_SHA256:
                continue
            if any(True for _ in verify_chain(alias, chain, require_keyed_tail=False)):
                broken.append(chain)
                continue
            _append(chain, alias, None)
            keyed.append(chain)
    if broken:
        raise ValueError(f"chains {', '.join(map(str, broken))} do not verify and were not keyed")
    return keyed


def audit_rekey_chains(previous_master: bytes) -> list[int]:
    """Re-seal, under the configured master key, every chain's entries keyed under previous_master.

    The step after a master key rotation (`tidings audit rekey --previous-master-key FILE`): each
    such chain gets an audit.chain_rekeyed entry, keyed under the new key, holding a SHA-256 digest
    of every entry keyed under the old one, so they stay checkable once the old key is gone.
    Entries are checked under the old key first; a chain with one that does not verify is not
    re-sealed. Return the chains re-sealed; raise ValueError naming those that failed.
    """
    old_key = chain_key(previous_master)
    old_id = key_id(old_key)
    if old_id == key_id(chain_key()):
        raise ValueError("the previous master key is the one in use")
    resealed: list[int] = []
    broken: list[int] = []
    for alias in database_aliases():
        for chain in _chains_in(alias):
            old = AuditEntry.objects.using(alias).filter(workspace_id=chain, key_id=old_id).order_by("seq")
            digest, count, intact = hashlib.sha256(), 0, True
            for entry in old.iterator(chunk_size=5000):
                intact = intact and entry.compute_hash(old_key) == entry.hash
                digest.update(entry.canonical() + entry.hash.encode())
                count += 1
            if not count:
                continue
            if not intact:
                broken.append(chain)
                continue
            fields = {
                "at": timezone.now(),
                "actor_type": "system",
                "action": CHAIN_REKEYED,
                "data": {"from": old_id, "entries": count, "digest": digest.hexdigest()},
            }
            _append(chain, alias, fields)
            resealed.append(chain)
    if broken:
        raise ValueError(f"chains {', '.join(map(str, broken))} do not verify under the previous key; not re-sealed")
    return resealed


def _chains_in(alias: str) -> list[int]:
    return sorted(AuditEntry.objects.using(alias).order_by().values_list("workspace_id", flat=True).distinct())


def _advance_head(entry: AuditEntry) -> None:
    """Move the chain head in the global database forward (never backward)."""

    def write():
        updated = AuditChainHead.objects.filter(workspace_id=entry.workspace_id, seq__lt=entry.seq).update(
            seq=entry.seq, hash=entry.hash
        )
        if not updated:
            try:
                with transaction.atomic(using="default"):
                    AuditChainHead.objects.create(workspace_id=entry.workspace_id, seq=entry.seq, hash=entry.hash)
            except IntegrityError:
                pass  # a newer head is already there

    def write_after_commit():
        # The region's work is committed: a head that cannot move now (the global database busy past its
        # timeout) lags, which the chain allows, and the workspace's next entry moves it. Failing here would
        # fail the committed action's caller instead (an import's batch, a task).
        try:
            write()
        except OperationalError as error:
            logger.warning("audit chain head of workspace %s not moved to %s (%s); the next entry moves it",
                           entry.workspace_id, entry.seq, type(error).__name__)  # fmt: skip

    connection_alias = entry._state.db
    if connection_alias == "default":
        write()
    else:
        # Written once the region's transaction commits, so a rolled-back entry moves nothing.
        transaction.on_commit(write_after_commit, using=connection_alias)
