"""The workspace's contact settings."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from tidings.contacts.actions.common import _atomic, _audit, _require
from tidings.contacts.models import (
    ContactSettings,
)
from tidings.privacy.guard import GuardPolicy
from tidings.tenancy.context import require_workspace


def contact_settings_update(*, guard_policy: str, principal, request=None):
    """Choose what imports do with values the sensitive-data guard flags (GuardPolicy); return the settings.

    Raise ValidationError on an unknown policy.
    """
    _require(principal, "settings:manage")
    if guard_policy not in GuardPolicy.values:
        raise ValidationError({"guard_policy": f"choose one of {', '.join(GuardPolicy.values)}"})
    with _atomic():
        row, _ = ContactSettings.objects.update_or_create(
            defaults={"guard_policy": guard_policy, "updated_at": timezone.now()},
            create_defaults={"workspace_id": require_workspace().id, "guard_policy": guard_policy},
        )
        _audit("contact_settings.updated", principal=principal, request=request, target_type="workspace",
               target_id=require_workspace().id, guard_policy=guard_policy)  # fmt: skip
    return row
