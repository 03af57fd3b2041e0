"""Where asset files are kept: Django's storages API, one prefix per region and workspace.

By default a FileSystemStorage under the var folder (var/uploads/<region>/assets/<workspace id>/),
owner-only like every private file (tidings.files: 0600 files in 0700 folders). An S3-compatible
bucket through django-storages (the [s3] extra) when settings name one::

    TIDINGS_ASSET_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": "tidings-assets", "endpoint_url": "https://s3.example", ...},
        "REGIONS": {"eu": {"bucket_name": "tidings-assets-eu", "region_name": "eu-central-1"}},
    }

OPTIONS go to the backend as they are (django-storages' own names); REGIONS[region] overrides them
per region, so each region's files stay in that region's bucket; "location" (a key prefix) is
followed by the region. A stored file's name is "<workspace id>/<random>", never the uploaded name.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.utils.module_loading import import_string

from tidings.files import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, private_makedirs

_storages: dict[tuple[str, str], Storage] = {}


def _configured() -> dict[str, Any] | None:
    value = getattr(settings, "TIDINGS_ASSET_STORAGE", None)
    return value if isinstance(value, dict) and value.get("BACKEND") else None


def local_root(region: str) -> Path:
    """Return the folder of region's asset files on the local disk."""
    return Path(settings.VAR_DIR) / "uploads" / region / "assets"


def asset_storage(region: str) -> Storage:
    """Return the storage of region's asset files (built once per configuration and region)."""
    configured = _configured()
    key = (region, repr(configured) + str(settings.VAR_DIR))
    storage = _storages.get(key)
    if storage is not None:
        return storage
    if configured is None:
        root = local_root(region)
        storage = FileSystemStorage(location=root, file_permissions_mode=PRIVATE_FILE_MODE,
                                    directory_permissions_mode=PRIVATE_DIR_MODE)  # fmt: skip
    else:
        options = dict(configured.get("OPTIONS") or {})
        options.update((configured.get("REGIONS") or {}).get(region) or {})
        options["location"] = "/".join(part for part in (str(options.get("location", "")).strip("/"), region) if part)
        storage = import_string(configured["BACKEND"])(**options)
    _storages[key] = storage
    return storage


def new_name(workspace_id: int) -> str:
    """Return a fresh storage name for a file of workspace_id: its folder and a random, unguessable stem."""
    return f"{int(workspace_id)}/{secrets.token_urlsafe(18)}"


def prepare(region: str, workspace_id: int) -> None:
    """Create the workspace's local folder owner-only at every level under var/ (no-op for object storage)."""
    if _configured() is not None:
        return
    folder = Path(settings.VAR_DIR)
    for part in ("uploads", region, "assets", str(int(workspace_id))):
        folder = folder / part
        private_makedirs(folder)


def workspace_files(region: str, workspace_id: int) -> list[str]:
    """Return the names of every file stored for workspace_id in region (orphans included)."""
    storage = asset_storage(region)
    folder = str(int(workspace_id))
    try:
        _dirs, files = storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return []
    return [f"{folder}/{name}" for name in files]
