"""Signals that let higher layers act on tenancy events without tenancy importing them."""

from django.dispatch import Signal

# Sent by tidings.accounts.actions.workspace_create once the workspace is committed, with
# `workspace` (the Workspace). Receivers set up what each domain needs in a new workspace,
# in the workspace's region (use tidings.tenancy.context.use_workspace).
workspace_created = Signal()
