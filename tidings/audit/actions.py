"""Write audit entries. Every action in every app records itself through audit_record()."""

from __future__ import annotations

import ipaddress

from django.db import IntegrityError, transaction
from django.utils import timezone

from tidings.audit.models import SYSTEM_CHAIN, AuditChainHead, AuditEntry
from tidings.tenancy.context import current_workspace, region_db_alias
from tidings.tenancy.network import client_ip  # the one reader of the client address (re-exported)

GENESIS = "0" * 64


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
        from tidings.tenancy.models import workspace_region

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
) -> AuditEntry:
    """Append an entry to the chain of workspace (default: the current one, else the system chain).

    The actor is taken from principal, else from actor_type/actor_id, else from request.user.
    data must hold ids and settings only, never personal data in clear.
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
    chain, alias = _chain_target(workspace)
    for _attempt in range(8):
        try:
            with transaction.atomic(using=alias):
                last = (
                    AuditEntry.objects.using(alias)
                    .filter(workspace_id=chain)
                    .order_by("-seq")
                    .values_list("seq", "hash")
                    .first()
                )
                entry = AuditEntry(
                    workspace_id=chain,
                    seq=(last[0] + 1) if last else 1,
                    at=timezone.now(),
                    actor_type=actor_type,
                    actor_id=actor_id,
                    action=action,
                    target_type=target_type,
                    target_id=str(target_id) if target_id not in (None, "") else "",
                    ip_prefix=truncate_ip(client_ip(request)),
                    data=data or {},
                    prev_hash=last[1] if last else GENESIS,
                )
                entry.hash = entry.compute_hash()
                entry.save(using=alias)
        except IntegrityError:
            continue  # another writer took this seq; read the new tail and try again
        _advance_head(entry)
        return entry
    raise RuntimeError(f"audit chain {chain} is too contended to append to")


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

    connection_alias = entry._state.db
    if connection_alias == "default":
        write()
    else:
        # Written once the region's transaction commits, so a rolled-back entry moves nothing.
        transaction.on_commit(write, using=connection_alias)
