"""Mautic's asset API (AssetApiController) on Tidings' assets actions and selectors.

Facts read from Mautic 5's source (not copied): the entity ``asset``/``assets`` serialised with the
groups assetDetails, categoryList and publishDetails: id, title, alias, category, description,
language, publishUp, publishDown, downloadCount, uniqueDownloadCount, revision, extension, mime,
size, downloadUrl, storageLocation, disallow, and the publish details (isPublished, dateAdded,
dateModified, createdBy, createdByUser, modifiedBy, modifiedByUser). On input ``file`` is the URL
of a remote asset (storageLocation "remote") or, for a local one, a file name in Mautic's upload
folder (uploaded first through /api/files). The standard routes (tidings.mautic_compat.standard).

What differs, by design: Tidings has no separate files API, so a local asset's file comes in the
same request, as the multipart field ``file`` (a file name instead is refused with 400 saying so);
``remotePath`` and ``originalFileName`` are sent too (Mautic keeps them on the entity but leaves
them out of its answer); assets have no category, language, publish dates, revisions or unique
download count (null, null, null, 1 and the download count); a file above the workspace's limit
is a 413. The list is keyed by id, like Mautic's other lists.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.urls import path

from tidings.accounts.selectors import members_by_id
from tidings.assets import actions, selectors
from tidings.inputs import InvalidInput, parse_bool, parse_int
from tidings.mautic_compat.parsing import ListParams, optional_text
from tidings.mautic_compat.responses import MauticError, mautic_datetime
from tidings.mautic_compat.standard import ENTITY_COLUMNS, Resource, listed, standard_views
from tidings.tenancy.context import require_workspace

VIEW, EDIT = "assets:view", "assets:edit"
ORDER_COLUMNS = {
    "id": "id",
    "title": "title",
    "alias": "alias",
    "dateAdded": "created_at",
    "date_added": "created_at",
    "downloadCount": "download_count",
    "download_count": "download_count",
    "a.id": "id",
    "a.title": "title",
    "a.alias": "alias",
    "a.dateAdded": "created_at",
    "a.downloadCount": "download_count",
}
UPLOAD_ATTRIBUTE = "tidings_asset_upload"  # the request's SizeLimitHandler, set by _limited_upload


def _user_name(user) -> str | None:
    if user is None:
        return None
    return f"{user.first_name} {user.last_name}".strip() or user.email


def serialize_assets(assets: list) -> list[dict]:
    """Return assets in the shape of Mautic's GET /assets/{id}; creators are read in one query for all."""
    if not assets:
        return []
    creators = members_by_id(require_workspace(), {a.created_by for a in assets if a.created_by})
    result = []
    for asset in assets:
        modified = (asset.updated_at - asset.created_at).total_seconds() >= 1
        result.append(
            {
                "isPublished": asset.is_published,
                "dateAdded": mautic_datetime(asset.created_at),
                "dateModified": mautic_datetime(asset.updated_at) if modified else None,
                "createdBy": asset.created_by,
                "createdByUser": _user_name(creators.get(asset.created_by)),
                "modifiedBy": None,
                "modifiedByUser": None,
                "id": asset.pk,
                "title": asset.title,
                "alias": asset.alias,
                "category": None,
                "description": asset.description or None,
                "language": None,
                "publishUp": None,
                "publishDown": None,
                "downloadCount": asset.download_count,
                "uniqueDownloadCount": asset.download_count,
                "revision": 1,
                "extension": asset.extension or None,
                "mime": asset.mime or None,
                "size": asset.size or None,
                "downloadUrl": selectors.download_url(asset),
                "storageLocation": asset.storage_location,
                "remotePath": asset.remote_url or None,
                "originalFileName": asset.original_filename or None,
                "disallow": False,
            }
        )
    return result


def _list(params: ListParams, request) -> tuple[list[dict], int]:
    assets = selectors.assets()
    if params.search:
        assets = assets.filter(title__icontains=params.search[:191])
    page, total = listed(assets, params, ORDER_COLUMNS, published_field="is_published")
    return serialize_assets(page), total


def _upload(request):
    handler = getattr(request, UPLOAD_ATTRIBUTE, None)
    if handler is not None and handler.exceeded:
        limit = selectors.max_upload_bytes()
        raise MauticError(413, f"The file is larger than {selectors.megabytes(limit)}, this workspace's limit.")
    upload = request.FILES.get("file") if request.method == "POST" else None
    return upload


def _changes(request, data: dict, method: str) -> dict[str, Any]:
    """Return asset_create/asset_update arguments of a Mautic body (PUT clears what it leaves out)."""
    full = method in ("POST", "PUT")
    changes: dict[str, Any] = {}
    for key, name in (("title", "title"), ("alias", "alias"), ("description", "description")):
        value = optional_text(data, key)
        if value is not None or (full and key != "alias"):
            changes[name] = value or ""
    if "isPublished" in data:
        try:
            changes["is_published"] = parse_bool(data["isPublished"], strict=True)
        except InvalidInput as error:
            raise MauticError(400, "isPublished: 0 or 1.", {"isPublished": ["0 or 1"]}) from error
    elif method == "PUT":
        changes["is_published"] = False
    if "formId" in data:
        try:
            raw = data["formId"]
            changes["form_id"] = None if raw in (None, "", 0, "0") else parse_int(raw, minimum=1)
        except InvalidInput as error:
            raise MauticError(400, "formId: a form id.", {"formId": ["a form id"]}) from error
    location = optional_text(data, "storageLocation")
    if location not in (None, "local", "remote"):
        raise MauticError(400, "storageLocation: local or remote.", {"storageLocation": ["local or remote"]})
    upload = _upload(request)
    remote = optional_text(data, "remotePath") or (optional_text(data, "file") if location == "remote" else None)
    if upload is not None:
        changes["file"], changes["filename"] = upload, upload.name
    elif remote:
        changes["remote_url"] = remote
    elif optional_text(data, "file"):
        message = "send the file itself as the multipart field file (Tidings has no separate files API)"
        raise MauticError(400, f"file: {message}.", {"file": [message]})
    return changes


def _create(request, data: dict, principal, *, method: str):
    changes = _changes(request, data, method)
    if "file" not in changes and "remote_url" not in changes:
        raise MauticError(400, "File of the asset is required.")
    return actions.asset_create(principal=principal, request=request, **changes), True


def _update(request, asset_id: int, data: dict, method: str, principal):
    changes = _changes(request, data, method)
    return actions.asset_update(asset_id, principal=principal, request=request, **changes)


ASSETS = Resource(
    one="asset",
    many="assets",
    list=_list,
    get=selectors.asset_get,
    serialize=serialize_assets,
    create=_create,
    update=_update,
    delete=lambda request, asset_id, principal: actions.asset_delete(asset_id, principal=principal, request=request),
    view_permission=VIEW,
    edit_permission=EDIT,
    delete_permission=EDIT,
    columns=set(ORDER_COLUMNS),
    selectable=ENTITY_COLUMNS
    | frozenset(
        {
            "title",
            "alias",
            "category",
            "description",
            "language",
            "publishUp",
            "publishDown",
            "downloadCount",
            "uniqueDownloadCount",
            "revision",
            "extension",
            "mime",
            "size",
            "downloadUrl",
            "storageLocation",
            "remotePath",
            "originalFileName",
            "disallow",
        }
    ),  # fmt: skip
    published="filter",
)


def _limited_upload(view):
    """Stop a multipart upload past the largest any workspace accepts while it arrives (the action checks the
    workspace's own limit); the handler is kept on the request for _upload to report."""
    from tidings.assets import uploads

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if (request.content_type or "").lower() == "multipart/form-data":
            setattr(request, UPLOAD_ATTRIBUTE, uploads.limit_uploads(request, selectors.ceiling_bytes()))
        return view(request, *args, **kwargs)

    return wrapped


_VIEWS = standard_views(ASSETS)

urlpatterns = [
    path("assets", _VIEWS["list"], name="assets_list"),
    path("assets/new", _limited_upload(_VIEWS["new"]), name="assets_new"),
    path("assets/batch/new", _VIEWS["batch_new"], name="assets_batch_new"),
    path("assets/batch/edit", _VIEWS["batch_edit"], name="assets_batch_edit"),
    path("assets/batch/delete", _VIEWS["batch_delete"], name="assets_batch_delete"),
    path("assets/<int:id>", _VIEWS["get"], name="assets_get"),
    path("assets/<int:id>/edit", _limited_upload(_VIEWS["edit"]), name="assets_edit"),
    path("assets/<int:id>/delete", _VIEWS["delete"], name="assets_delete"),
]
