"""The native API of assets under /api/v1/: list, get, create (multipart upload or a remote link), change, delete.

Every endpoint states its permission (assets:view to read, assets:edit to write), calls one selector
or action and lets tidings.api turn errors into the one error format: an asset of another workspace
is a 404 exactly like one that does not exist; invalid values a 422 keyed by field whose messages
never repeat a value; a file over the workspace's limit a 413 (stopped while it arrives).

POST /assets takes multipart/form-data (the file in field "file", the other attributes as fields)
or JSON with remote_url; POST /assets/{id}/file replaces the file (multipart).
"""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tidings.accounts.decorators import require_permission
from tidings.api.errors import ApiError, BadRequest, Unprocessable, found
from tidings.api.pagination import paginate_keyset
from tidings.api.types import Id
from tidings.assets import actions, selectors, uploads
from tidings.inputs import InvalidInput, loads_json, parse_bool, parse_int
from tidings.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = Router(tags=["assets"])

VIEW, EDIT = "assets:view", "assets:edit"
TEXT_FIELDS = ("title", "alias", "description", "remote_url")


class AssetOut(Schema):
    id: int
    title: str
    alias: str
    description: str
    storage_location: str = Field(description="local (an uploaded file) | remote (a link; the download redirects)")
    remote_url: str
    original_filename: str
    mime: str = Field(description="The type read from the file's content at upload.")
    extension: str
    size: int = Field(description="Bytes.")
    is_published: bool
    form_id: int | None = Field(description="A form to fill in before the download (the gate); null for none.")
    download_count: int = Field(description="Every download, anonymous ones included.")
    download_url: str = Field(description="The public link: /m/<workspace>/asset/<id>:<alias>.")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class AssetPage(Schema):
    items: list[AssetOut]
    next_cursor: str | None = Field(None, description="Pass as ?cursor= for the next page; null on the last page.")


class AssetPatch(Schema):
    title: str | None = None
    alias: str | None = None
    description: str | None = None
    remote_url: str | None = Field(None, description="Make the asset a link to this address (its file is deleted).")
    is_published: bool | None = None
    form_id: int | None = Field(None, description="A form id; 0 removes the gate.")


def asset_out(asset) -> dict:
    return {
        "id": asset.pk,
        "title": asset.title,
        "alias": asset.alias,
        "description": asset.description,
        "storage_location": asset.storage_location,
        "remote_url": asset.remote_url,
        "original_filename": asset.original_filename,
        "mime": asset.mime,
        "extension": asset.extension,
        "size": asset.size,
        "is_published": asset.is_published,
        "form_id": asset.form_id,
        "download_count": asset.download_count,
        "download_url": selectors.download_url(asset),
        "created_at": asset.created_at,
        "updated_at": asset.updated_at,
    }


def _too_big(limit: int) -> ApiError:
    return ApiError(f"The file is larger than {selectors.megabytes(limit)}, this workspace's limit.", status=413)


def _read_body(request) -> tuple[dict[str, Any], Any, str]:
    """Return (attributes, uploaded file or None, its name) of a JSON or multipart body; raise ApiError."""
    content_type = (request.content_type or "").lower()
    if content_type == "multipart/form-data":
        limit = selectors.max_upload_bytes()
        if uploads.declared_too_big(request, limit):
            raise _too_big(limit)
        handler = uploads.limit_uploads(request, limit)
        posted, files = request.POST, request.FILES
        if handler.exceeded:
            raise _too_big(limit)
        data: dict[str, Any] = {name: posted.get(name) for name in posted if name != "file"}
        upload = files.get("file")
        return data, upload, upload.name if upload is not None else ""
    if content_type == "application/json":
        try:
            data = loads_json(request.body) if request.body else {}
        except InvalidInput as error:
            raise BadRequest(f"The request body cannot be read: {error}.") from error
        if not isinstance(data, dict):
            raise BadRequest("The request body must be a JSON object.")
        return data, None, ""
    raise ApiError("Send multipart/form-data (with a file) or application/json.", status=415)


def _attributes(data: dict[str, Any]) -> dict[str, Any]:
    """Return the asset attributes of a body (typed from form fields); raise Unprocessable naming the field."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in TEXT_FIELDS:
        if name in data and data[name] is not None:
            values[name] = data[name]
    if "is_published" in data:
        try:
            values["is_published"] = parse_bool(data["is_published"], strict=True)
        except InvalidInput:
            errors["is_published"] = ["true or false"]
    if "form_id" in data:
        raw = data["form_id"]
        try:
            values["form_id"] = None if raw in (None, "", 0, "0") else parse_int(raw, minimum=1)
        except InvalidInput:
            errors["form_id"] = ["a form id (a positive whole number), or 0 for no gate"]
    unknown = set(data) - set(TEXT_FIELDS) - {"is_published", "form_id"}
    for name in sorted(unknown)[:5]:
        errors[str(name)[:64]] = ["not an attribute of an asset"]
    if errors:
        raise Unprocessable("The request is not valid.", details={"fields": errors})
    return values


_UPLOAD_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["title", "file"],
                    "properties": {
                        "title": {"type": "string"},
                        "alias": {"type": "string"},
                        "description": {"type": "string"},
                        "is_published": {"type": "boolean"},
                        "form_id": {"type": "integer"},
                        "file": {"type": "string", "format": "binary"},
                    },
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["title", "remote_url"],
                    "properties": {
                        "title": {"type": "string"},
                        "alias": {"type": "string"},
                        "description": {"type": "string"},
                        "remote_url": {"type": "string", "format": "uri"},
                        "is_published": {"type": "boolean"},
                        "form_id": {"type": "integer"},
                    },
                }
            },
        }
    }
}
_FILE_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        }
    }
}


@router.get("/assets", response=AssetPage, summary="List assets")
@require_permission(VIEW)
def list_assets(request, limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT), cursor: str | None = None):
    """List the workspace's assets by title, one keyset page at a time (needs assets:view)."""
    page = paginate_keyset(selectors.assets(), ordering="title", limit=limit, cursor=cursor)
    return {"items": [asset_out(asset) for asset in page["items"]], "next_cursor": page["next_cursor"]}


@router.post("/assets", response={201: AssetOut}, summary="Upload an asset or link a remote file",
             openapi_extra=_UPLOAD_BODY)  # fmt: skip
@require_permission(EDIT)
def create_asset(request):
    """Create an asset from a multipart upload (field "file") or JSON with remote_url (needs assets:edit).

    422 on invalid values or a refused file type, keyed by field; 413 for a file over the workspace's limit.
    """
    data, upload, filename = _read_body(request)
    values = _attributes(data)
    asset = actions.asset_create(principal=request.principal, request=request, file=upload, filename=filename,
                                 title=values.pop("title", ""), **values)  # fmt: skip
    return Status(201, asset_out(asset))


@router.get("/assets/{asset_id}", response=AssetOut, summary="Get an asset")
@found
@require_permission(VIEW)
def get_asset(request, asset_id: Id):
    """Return one asset (needs assets:view); 404 when not in this workspace."""
    return asset_out(selectors.asset_get(asset_id))


@router.patch("/assets/{asset_id}", response=AssetOut, summary="Change an asset")
@found
@require_permission(EDIT)
def update_asset(request, asset_id: Id, payload: AssetPatch):
    """Change the given attributes (needs assets:edit); 422 on invalid values."""
    changes = {name: value for name, value in payload.dict(exclude_unset=True).items() if value is not None}
    if changes.get("form_id") == 0:
        changes["form_id"] = None
    asset = actions.asset_update(asset_id, principal=request.principal, request=request, **changes)
    return asset_out(asset)


@router.post("/assets/{asset_id}/file", response=AssetOut, summary="Replace an asset's file",
             openapi_extra=_FILE_BODY)  # fmt: skip
@found
@require_permission(EDIT)
def replace_asset_file(request, asset_id: Id):
    """Replace the asset's file with a multipart upload (field "file"); the old file is deleted (needs assets:edit)."""
    selectors.asset_get(asset_id)
    data, upload, filename = _read_body(request)
    if upload is None:
        raise Unprocessable("The request is not valid.", details={"fields": {"file": ["choose a file to upload"]}})
    asset = actions.asset_update(asset_id, principal=request.principal, request=request, file=upload,
                                 filename=filename)  # fmt: skip
    return asset_out(asset)


@router.delete("/assets/{asset_id}", response={204: None}, summary="Delete an asset")
@found
@require_permission(EDIT)
def delete_asset(request, asset_id: Id):
    """Delete an asset and its stored file (needs assets:edit); recorded downloads stay in contacts' timelines."""
    actions.asset_delete(asset_id, principal=request.principal, request=request)
    return Status(204, None)
