"""Reads of Tidings' policies: current versions, history, what changed, and what an admin has not seen yet."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from tidings.policies.models import PolicyAcknowledgement, PolicyKind, PolicyVersion


def current_policies() -> list[PolicyVersion]:
    """Return the newest version of each kind that has one, in PolicyKind order."""
    found = []
    for kind in PolicyKind:
        latest = PolicyVersion.objects.filter(kind=kind).order_by("-version").first()
        if latest is not None:
            found.append(latest)
    return found


def policy_versions(kind: str | None = None) -> QuerySet[PolicyVersion]:
    rows = PolicyVersion.objects.select_related("published_by")
    if kind:
        rows = rows.filter(kind=kind)
    return rows.order_by("kind", "-version")


def policy_get(kind: str, version: int) -> PolicyVersion:
    """Return one version; raise PolicyVersion.DoesNotExist."""
    return PolicyVersion.objects.get(kind=kind, version=version)


def pending_policies(user, workspace) -> list[PolicyVersion]:
    """Return the current versions published since the workspace was created that user has not acknowledged there.

    A workspace created after a version was published started under it: nothing to announce. One query: the
    banner asks on every page an admin opens.
    """
    if user is None or workspace is None:
        return []
    newest = PolicyVersion.objects.filter(kind=OuterRef("kind")).order_by("-version").values("version")[:1]
    seen = PolicyAcknowledgement.objects.filter(policy=OuterRef("pk"), workspace=workspace, user=user)
    pending = (
        PolicyVersion.objects.filter(version=Subquery(newest), published_at__gt=workspace.created_at)
        .filter(~Exists(seen))
        .order_by("kind")
    )
    order = {kind.value: n for n, kind in enumerate(PolicyKind)}
    return sorted(pending, key=lambda policy: order.get(policy.kind, len(order)))


@dataclass(frozen=True)
class DiffLine:
    change: str  # "added", "removed", "same"
    text: str


def policy_changes(policy: PolicyVersion) -> tuple[PolicyVersion | None, list[DiffLine]]:
    """Return the version before policy and the line-by-line changes from it (all "added" for a first version)."""
    previous = PolicyVersion.objects.filter(kind=policy.kind, version__lt=policy.version).order_by("-version").first()
    old = previous.text.splitlines() if previous else []
    new = policy.text.splitlines()
    lines: list[DiffLine] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            lines += [DiffLine("same", text) for text in old[a1:a2]]
            continue
        lines += [DiffLine("removed", text) for text in old[a1:a2]]
        lines += [DiffLine("added", text) for text in new[b1:b2]]
    return previous, lines
