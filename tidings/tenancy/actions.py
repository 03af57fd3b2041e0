"""Create workspaces."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from tidings.tenancy.models import Region, Workspace, remember_region
from tidings.tenancy.signals import workspace_created


def workspace_create(*, name: str, slug: str, region: str, owner=None, actor=None) -> Workspace:
    """Create a workspace in region, make owner (a User) its owner, and open its audit chain.

    Takes no principal by design: a principal acts in a workspace, and this one does not exist
    yet (the operator's createworkspace command, the demo and sign-up create workspaces; actor,
    when given, is the user who did). Tidings itself makes owner the first owner, recorded as
    the system principal. Raise ValidationError on an unknown region, a malformed or taken slug.
    """
    from tidings.accounts.actions import membership_create
    from tidings.accounts.permissions import system_principal
    from tidings.audit.actions import audit_record

    if region not in Region.values:
        raise ValidationError({"region": f"region must be one of {', '.join(Region.values)}"})
    workspace = Workspace(name=name.strip(), slug=slug.strip().lower(), region=region)
    workspace.full_clean()
    with transaction.atomic(using="default"):
        workspace.save()
        remember_region(workspace)
        audit_record(
            "workspace.created",
            workspace=workspace,
            actor_type="user" if actor else "system",
            actor_id=getattr(actor, "pk", None),
            target_type="workspace",
            target_id=workspace.pk,
            data={"region": region},
            via_outbox=True,  # a global-database change: its entry commits with it
        )
    if owner is not None:
        principal = system_principal(workspace, reason="workspace_create")
        membership_create(workspace=workspace, user=owner, role="owner", principal=principal)
    workspace_created.send(sender=Workspace, workspace=workspace)
    return workspace
