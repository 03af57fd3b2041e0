"""Writes of Tidings' policies: staff publish a version; workspace admins acknowledge it.

Publishing takes the staff user, not a principal, by design (as support_grant_request): staff are
not members of the workspaces the policy reaches; the check is that the user is active staff.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse

from tidings.accounts.permissions import Principal, require
from tidings.audit.actions import audit_record
from tidings.policies.models import PolicyAcknowledgement, PolicyKind, PolicyVersion
from tidings.tenancy.context import no_workspace, require_workspace

__all__ = ["policy_acknowledge", "policy_notify_admins", "policy_publish"]

MAX_TITLE = 200
MAX_SUMMARY = 2000
MAX_TEXT = 200_000


def policy_publish(*, staff_user, kind, title, text, summary="", request=None) -> PolicyVersion:
    """Publish the next version of a Tidings policy; every workspace's admins are told (banner and email).

    Raise PermissionDenied unless staff_user is active staff; ValidationError on an unknown kind,
    an empty title or text, or values too long.
    """
    if not (getattr(staff_user, "is_staff", False) and getattr(staff_user, "is_active", False)):
        raise PermissionDenied("Only Tidings staff publish Tidings' policies.")
    errors = {}
    if kind not in PolicyKind.values:
        errors["kind"] = "Choose a policy."
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE or not title.isprintable():
        errors["title"] = f"Enter a title of at most {MAX_TITLE} characters."
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT or "\x00" in text:
        errors["text"] = f"Enter the text, at most {MAX_TEXT} characters."
    if not isinstance(summary, str) or len(summary) > MAX_SUMMARY or "\x00" in summary:
        errors["summary"] = f"Enter at most {MAX_SUMMARY} characters."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(using="default"):
        # One publisher at a time per kind: the unique constraint refuses a second version n.
        latest = PolicyVersion.objects.select_for_update().filter(kind=kind).aggregate(v=Max("version"))["v"] or 0
        policy = PolicyVersion.objects.create(kind=kind, version=latest + 1, title=title.strip(),
                                              text=text.replace("\r\n", "\n"), summary=summary.strip(),
                                              published_by=staff_user)  # fmt: skip
        with no_workspace():
            audit_record("policy.published", actor_type="staff", actor_id=staff_user.pk, request=request,
                         target_type="policy", target_id=policy.pk,
                         data={"kind": kind, "version": policy.version})  # fmt: skip
        transaction.on_commit(lambda: _notify_later(policy.pk), using="default")
    return policy


def _notify_later(policy_id: int) -> None:
    from tidings.policies.tasks import notify_policy_published

    notify_policy_published.enqueue(policy_id=policy_id)


def policy_notify_admins(policy_id: int) -> int:
    """Email every active owner and admin of any workspace about a new version, once per address; return how many.

    Called by the task queued when a version is published (no principal: Tidings itself tells its
    customers). The message names the policy and links to what changed, never a workspace's data.
    """
    from tidings.accounts.models import Membership

    policy = PolicyVersion.objects.get(pk=policy_id)
    rows = (
        Membership.objects.filter(role__in=["owner", "admin"], user__is_active=True)
        .order_by("user__email", "workspace__slug")
        .values_list("user__email", "workspace__slug")
    )
    first_workspace: dict[str, str] = {}
    for email, slug in rows:
        first_workspace.setdefault(email, slug)
    subject = f"Tidings has published a new {policy.get_kind_display().lower()} (version {policy.version})"
    for email, slug in first_workspace.items():
        link = settings.TIDINGS_BASE_URL + reverse(
            "policies:detail", kwargs={"workspace_slug": slug, "kind": policy.kind, "version": policy.version}
        )
        body = render_to_string("policies/email/published.txt", {"policy": policy, "link": link})
        send_mail(subject, body, None, [email])
    return len(first_workspace)


def policy_acknowledge(policy_id: int, *, principal: Principal, request=None) -> bool:
    """Record that the acting admin saw a version in the workspace in context; return False if already recorded.

    Raise PermissionDenied without settings:manage (the admins the banner is for) or without a
    user (a token cannot acknowledge); PolicyVersion.DoesNotExist for an unknown version.
    """
    require(principal, "settings:manage", workspace_id=require_workspace().id)
    workspace = require_workspace()
    if principal.user is None:
        raise PermissionDenied("A person acknowledges a policy, not a token.")
    with transaction.atomic(using="default"):
        policy = PolicyVersion.objects.get(pk=policy_id)
        try:
            with transaction.atomic(using="default"):
                PolicyAcknowledgement.objects.create(policy=policy, workspace_id=workspace.id, user=principal.user)
        except IntegrityError:
            return False
        audit_record("policy.acknowledged", principal=principal, request=request, target_type="policy",
                     target_id=policy.pk, data={"kind": policy.kind, "version": policy.version},
                     via_outbox=True)  # fmt: skip
    return True
