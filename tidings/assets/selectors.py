"""Reads of assets, always in the current workspace: another workspace's asset is one that does not exist."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from tidings.assets.models import DEFAULT_MAX_BYTES, Asset, AssetSettings
from tidings.tenancy.context import require_workspace

ASSETS_LIMIT = 500  # rows one list page shows
ORDERS = {"title": ("title", "id"), "-title": ("-title", "-id"), "downloads": ("-download_count", "-id"),
          "-created_at": ("-created_at", "-id")}  # fmt: skip


def assets(order: str = "title") -> QuerySet[Asset]:
    """Return the workspace's assets in order (one of ORDERS; by title otherwise)."""
    return Asset.objects.order_by(*ORDERS.get(order, ORDERS["title"]))


def asset_get(asset_id: int) -> Asset:
    """Return one asset of the current workspace; raise Asset.DoesNotExist for an id not in it."""
    return Asset.objects.get(pk=asset_id)


def asset_by_alias(alias: str) -> Asset:
    """Return the asset with alias; raise Asset.DoesNotExist when the workspace has none."""
    return Asset.objects.get(alias=alias)


def published_asset(asset_id: int, alias: str) -> Asset | None:
    """Return the published asset with both asset_id and alias (Mautic's /asset/<id>:<alias>); None otherwise.

    An empty alias matches by id alone (Mautic's links may carry the id only).
    """
    found = Asset.objects.filter(pk=asset_id, is_published=True).first()
    if found is None or (alias and found.alias != alias):
        return None
    return found


def ceiling_bytes() -> int:
    """Return the largest file any workspace may accept (TIDINGS_ASSET_MAX_BYTES, default 100 MB)."""
    return int(getattr(settings, "TIDINGS_ASSET_MAX_BYTES", 100 * 1024 * 1024))


def megabytes(size: int) -> str:
    """Return size in MB for messages ("25 MB", "0.5 MB")."""
    value = size / (1024 * 1024)
    return f"{value:.0f} MB" if value >= 1 and value == int(value) else f"{value:.1f} MB"


def asset_settings() -> AssetSettings:
    """Return the workspace's asset settings (an unsaved row with the defaults when none is stored)."""
    return AssetSettings.objects.filter().first() or AssetSettings(workspace_id=require_workspace().id)


def max_upload_bytes() -> int:
    """Return the largest file this workspace accepts: its setting (default 25 MB), never above the ceiling."""
    stored = asset_settings().max_bytes or DEFAULT_MAX_BYTES
    return max(1, min(int(stored), ceiling_bytes()))


def download_path(asset: Asset) -> str:
    """Return the public path of asset's download: /m/<slug>/asset/<id>:<alias> (Mautic's route)."""
    return f"/m/{require_workspace().slug}/asset/{asset.pk}:{asset.alias}"


def download_url(asset: Asset) -> str:
    """Return the absolute public download URL of asset (TIDINGS_BASE_URL + download_path)."""
    return str(settings.TIDINGS_BASE_URL).rstrip("/") + download_path(asset)


def asset_titles(asset_ids) -> dict[int, str]:
    """Return {id: title} of the given assets of this workspace (for timeline descriptions)."""
    return dict(Asset.objects.filter(pk__in=list(asset_ids)).values_list("id", "title"))
