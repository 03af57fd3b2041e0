"""How assets meet the privacy registry: files are workspace content, reached by workspace deletion only."""

from __future__ import annotations

from tidings.assets import storage
from tidings.assets.models import Asset, StorageLocation
from tidings.tenancy.context import require_workspace


def erase_contacts(contact_ids) -> int:
    """Erase nothing: an asset's file is what the workspace published, not data about the contacts erased.

    Their downloads are asset.download events, erased with the rest of the event store.
    """
    return 0


def erase_workspace_files() -> int:
    """Delete every stored file of the workspace in context (orphans included) and make its assets remote-less.

    Return how many files were deleted. The rows go with the workspace's tables.
    """
    workspace = require_workspace()
    target = storage.asset_storage(workspace.region)
    names = set(storage.workspace_files(workspace.region, workspace.id))
    names.update(Asset.objects.exclude(stored_path="").values_list("stored_path", flat=True))
    Asset.objects.filter(storage_location=StorageLocation.LOCAL).update(stored_path="", is_published=False)
    for name in names:
        target.delete(name)
    return len(names)
