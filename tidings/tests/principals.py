"""Who acts when a test sets up its data through the actions.

Every action takes a required principal. Tests that exercise a member's rights pass that
member's principal (tidings.accounts.selectors.principal_for_user); tests that only prepare
data act as Tidings itself, as fixtures, tasks and commands do.
"""

from __future__ import annotations

from tidings.accounts.permissions import Principal, system_principal
from tidings.tenancy.context import require_workspace
from tidings.tenancy.selectors import workspace_by_id


def system(workspace=None) -> Principal:
    """Return the system principal of workspace (default: the current one) for test set-up."""
    if workspace is None:
        workspace = workspace_by_id(require_workspace().id)
    return system_principal(workspace, reason="test:setup")


def allow_password_basic(workspace) -> None:
    """Let workspace's members use their password over HTTP Basic (off by default), as an admin would."""
    from tidings.accounts.actions import workspace_settings_update

    workspace_settings_update(
        workspace=workspace,
        name=workspace.name,
        require_two_factor=workspace.require_two_factor,
        allow_password_basic=True,
        principal=system(workspace),
    )
