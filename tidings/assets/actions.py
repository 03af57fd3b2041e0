"""Every write of assets: create (upload or remote link), change, delete, settings, and a download.

Each action checks the principal's permission first (assets:edit to change, assets:download for
the public download), runs in one transaction of the workspace's region and writes the audit log
with ids and field names only (a title or file name may name a person). A file is checked whole
(size against the workspace's limit, type from its content against the allow-list,
tidings.assets.sniff) before anything is stored, and a stored file whose row could not be written
is deleted again: a refused or failed upload leaves nothing behind. Deleting an asset, or replacing
its file, deletes the stored file once the transaction commits.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from tidings.accounts.permissions import Principal, require
from tidings.assets import sniff, storage
from tidings.assets.models import Asset, AssetSettings, StorageLocation
from tidings.assets.selectors import asset_settings, ceiling_bytes, max_upload_bytes, megabytes
from tidings.audit.actions import audit_record
from tidings.events import store
from tidings.events.registry import code_for
from tidings.events.store import EventRow
from tidings.tenancy.context import require_workspace

logger = logging.getLogger(__name__)

MAX_TITLE = 191
MAX_DESCRIPTION = 5000
MAX_FILENAME = 255
MAX_URL = 2000
EDITABLE = ("title", "alias", "description", "is_published", "form_id", "remote_url")


def _atomic():
    return transaction.atomic(using=require_workspace().db_alias)


def _require(principal: Principal, permission: str) -> Principal:
    return require(principal, permission, workspace_id=require_workspace().id)


def _audit(action: str, *, principal, request=None, asset_id: object = "", **data) -> None:
    audit_record(action, principal=principal, request=request, target_type="asset", target_id=asset_id, data=data)


# ==============================================================================================
# Checking values


def _clean_filename(value: Any) -> str:
    """Return the last part of an uploaded file's name, without control characters or path separators."""
    name = value if isinstance(value, str) else ""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if len(name) > MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: MAX_FILENAME - len(extension) - 1] + dot + extension) if dot and len(extension) <= 16 else name
        name = name[:MAX_FILENAME]
    return name


def _check_text(errors: dict, values: dict) -> None:
    if "title" in values:
        title = values["title"].strip() if isinstance(values["title"], str) else ""
        if not title or len(title) > MAX_TITLE:
            errors["title"] = [f"a title of 1 to {MAX_TITLE} characters"]
        values["title"] = title
    if "description" in values:
        description = values["description"] if isinstance(values["description"], str) else None
        if description is None or len(description) > MAX_DESCRIPTION:
            errors["description"] = [f"a text of at most {MAX_DESCRIPTION} characters"]
        values["description"] = description or ""
    if "is_published" in values and not isinstance(values["is_published"], bool):
        errors["is_published"] = ["true or false"]
    if "form_id" in values:
        form_id = values["form_id"]
        if form_id in ("", None, 0):
            values["form_id"] = None
        elif isinstance(form_id, bool) or not isinstance(form_id, int) or not 0 < form_id < 2**63:
            errors["form_id"] = ["a form id (a positive whole number), or nothing for no gate"]
        elif not _form_exists(form_id):
            errors["form_id"] = ["no published form of this workspace has this id"]


def _form_exists(form_id: int) -> bool:
    """Return whether form_id is a published form here; True while the forms app is not installed (no seam yet)."""
    try:
        from tidings.forms import selectors as form_selectors  # lazy: forms is another app (issue 11 seams)
    except ImportError:
        return True
    return form_selectors.form_embed_html(form_id) is not None


def _checked_remote_url(value: Any) -> str:
    url = value.strip() if isinstance(value, str) else ""
    if not url or len(url) > MAX_URL:
        raise ValidationError({"remote_url": [f"an http or https address of at most {MAX_URL} characters"]})
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError(
            {"remote_url": ["an http or https address, such as https://files.example/guide.pdf"]}
        ) from None
    return url


def _alias(value: Any, title: str, *, exclude_id: int | None, errors: dict) -> str:
    """Return the alias to store: the one given (unique or an error), else one made from the title (made unique)."""
    given = value.strip() if isinstance(value, str) else ""
    alias = slugify(given or title)[:MAX_TITLE] or "asset"
    taken = Asset.objects.exclude(pk=exclude_id)
    if given:
        if given != alias:
            errors["alias"] = ["lowercase letters, digits and hyphens only"]
        elif taken.filter(alias=alias).exists():
            errors["alias"] = ["another asset has this alias"]
        return alias
    candidate, number = alias, 1
    while taken.filter(alias=candidate).exists():
        number += 1
        suffix = f"-{number}"
        candidate = alias[: MAX_TITLE - len(suffix)] + suffix
    return candidate


@dataclass(frozen=True)
class CheckedFile:
    file: IO[bytes]
    filename: str
    kind: sniff.Kind
    size: int


def _file_size(file: IO[bytes]) -> int:
    size = getattr(file, "size", None)
    if isinstance(size, int):
        return size
    file.seek(0, os.SEEK_END)
    size = file.tell()
    file.seek(0)
    return size


def _check_upload(file: Any, filename: Any) -> CheckedFile:
    """Return the upload checked: a size within this workspace's limit and an allowed type read from its content.

    Raise ValidationError keyed "file" naming the limit or the types allowed (never the content).
    """
    if file is None or not hasattr(file, "read") or not hasattr(file, "seek"):
        raise ValidationError({"file": ["choose a file to upload"]})
    limit = max_upload_bytes()
    size = _file_size(file)
    if size > limit:
        raise ValidationError({"file": [f"the file is larger than {megabytes(limit)}, this workspace's limit"]})
    try:
        kind = sniff.detect(file, _clean_filename(filename))
    except sniff.Refused as refused:
        raise ValidationError({"file": [str(refused)]}) from None
    name = _clean_filename(filename) or f"{slugify('download')}.{kind.extension}"
    return CheckedFile(file=file, filename=name, kind=kind, size=size)


def _store(checked: CheckedFile) -> str:
    """Write the checked file to the workspace's storage; return its stored name. Nothing is left on failure."""
    workspace = require_workspace()
    storage.prepare(workspace.region, workspace.id)
    target = storage.asset_storage(workspace.region)
    name = storage.new_name(workspace.id)
    checked.file.seek(0)
    try:
        return target.save(name, File(checked.file, name=name))
    except BaseException:
        _delete_stored(name)
        raise


def _delete_stored(name: str) -> None:
    """Delete a stored file of the current workspace's region; a missing one is fine (logged without its name)."""
    if not name:
        return
    try:
        storage.asset_storage(require_workspace().region).delete(name)
    except OSError:
        logger.warning("an asset file could not be deleted from storage", exc_info=True)


def _delete_on_commit(name: str) -> None:
    workspace = require_workspace()

    def delete() -> None:
        from tidings.tenancy.context import use_workspace

        with use_workspace(workspace):
            _delete_stored(name)

    transaction.on_commit(delete, using=workspace.db_alias)


# ==============================================================================================
# Create, change, delete


def asset_create(
    *,
    principal: Principal,
    title: Any,
    file: Any = None,
    filename: Any = "",
    remote_url: Any = "",
    alias: Any = "",
    description: Any = "",
    is_published: Any = True,
    form_id: Any = None,
    request=None,
) -> Asset:
    """Create an asset from an uploaded file (file, filename) or a link to one elsewhere (remote_url).

    Needs assets:edit. Raise ValidationError keyed by field: exactly one of file and remote_url,
    a file over the workspace's size limit or of a type not allowed, a duplicate alias, a form id
    that names no published form.
    """
    _require(principal, "assets:edit")
    values: dict[str, Any] = {"title": title, "description": description, "is_published": is_published,
                              "form_id": form_id}  # fmt: skip
    errors: dict[str, list[str]] = {}
    _check_text(errors, values)
    has_file = file is not None
    has_url = isinstance(remote_url, str) and remote_url.strip() != ""
    checked: CheckedFile | None = None
    url = ""
    if has_file == has_url:
        errors["file"] = ["upload a file or give a remote address (one of the two)"]
    elif has_file:
        try:
            checked = _check_upload(file, filename)
        except ValidationError as error:
            errors.update(error.message_dict)
    else:
        try:
            url = _checked_remote_url(remote_url)
        except ValidationError as error:
            errors.update(error.message_dict)
    with _atomic():
        values["alias"] = _alias(alias, values["title"], exclude_id=None, errors=errors)
        if errors:
            raise ValidationError(errors)
        stored = _store(checked) if checked is not None else ""
        try:
            now = timezone.now()
            asset = Asset.objects.create(
                **values,
                storage_location=StorageLocation.LOCAL if checked is not None else StorageLocation.REMOTE,
                stored_path=stored,
                remote_url=url,
                original_filename=checked.filename if checked is not None else "",
                mime=checked.kind.mime if checked is not None else "",
                extension=checked.kind.extension if checked is not None else "",
                size=checked.size if checked is not None else 0,
                created_by=getattr(principal.user, "pk", None),
                created_at=now,
                updated_at=now,
            )
            _audit("asset.created", principal=principal, request=request, asset_id=asset.pk,
                   location=asset.storage_location, mime=asset.mime, size=asset.size)  # fmt: skip
        except BaseException:
            _delete_stored(stored)
            raise
    return asset


def asset_update(
    asset_id: int,
    *,
    principal: Principal,
    file: Any = None,
    filename: Any = "",
    request=None,
    **changes: Any,
) -> Asset:
    """Change an asset's attributes (EDITABLE) and, with file, replace its file (a remote link becomes local).

    A remote_url given to a local asset makes it remote (its file is deleted on commit). Needs
    assets:edit. Raise Asset.DoesNotExist for an asset not in this workspace, ValidationError keyed
    by field, TypeError for an attribute that cannot be changed.
    """
    _require(principal, "assets:edit")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"cannot change {', '.join(sorted(unknown))}")
    with _atomic():
        asset = Asset.objects.select_for_update().get(pk=asset_id)
        values = dict(changes)
        errors: dict[str, list[str]] = {}
        _check_text(errors, values)
        checked: CheckedFile | None = None
        url = values.pop("remote_url", None)
        if file is not None and url not in (None, ""):
            errors["file"] = ["upload a file or give a remote address (one of the two)"]
        elif file is not None:
            try:
                checked = _check_upload(file, filename)
            except ValidationError as error:
                errors.update(error.message_dict)
        elif url not in (None, ""):
            try:
                url = _checked_remote_url(url)
            except ValidationError as error:
                errors.update(error.message_dict)
        if "alias" in values or "title" in values:
            alias_given = values.get("alias", asset.alias)
            values["alias"] = _alias(alias_given, values.get("title", asset.title), exclude_id=asset.pk, errors=errors)
        if errors:
            raise ValidationError(errors)
        old_file = asset.stored_path
        stored = _store(checked) if checked is not None else ""
        try:
            for name, value in values.items():
                setattr(asset, name, value)
            if checked is not None:
                asset.storage_location, asset.stored_path, asset.remote_url = StorageLocation.LOCAL, stored, ""
                asset.original_filename, asset.mime = checked.filename, checked.kind.mime
                asset.extension, asset.size = checked.kind.extension, checked.size
            elif url not in (None, ""):
                asset.storage_location, asset.stored_path, asset.remote_url = StorageLocation.REMOTE, "", url
                asset.original_filename, asset.mime, asset.extension, asset.size = "", "", "", 0
            asset.updated_at = timezone.now()
            asset.save()
            changed = sorted(set(values) | ({"file"} if checked is not None else set())
                             | ({"remote_url"} if url not in (None, "") else set()))  # fmt: skip
            _audit("asset.updated", principal=principal, request=request, asset_id=asset.pk, fields=changed)
        except BaseException:
            _delete_stored(stored)
            raise
        if old_file and old_file != asset.stored_path:
            _delete_on_commit(old_file)
    return asset


def asset_delete(asset_id: int, *, principal: Principal, request=None) -> None:
    """Delete an asset and, once the transaction commits, its stored file. Needs assets:edit.

    Raise Asset.DoesNotExist for an asset not in this workspace. Download events already recorded stay
    (they are contacts' history, erased with the contact).
    """
    _require(principal, "assets:edit")
    with _atomic():
        asset = Asset.objects.select_for_update().get(pk=asset_id)
        stored = asset.stored_path
        asset.delete()
        _audit("asset.deleted", principal=principal, request=request, asset_id=asset_id)
        if stored:
            _delete_on_commit(stored)


def asset_settings_update(*, principal: Principal, max_bytes: Any, request=None) -> AssetSettings:
    """Set the workspace's upload limit in bytes (1 byte to TIDINGS_ASSET_MAX_BYTES). Needs settings:manage.

    Raise ValidationError keyed "max_bytes".
    """
    _require(principal, "settings:manage")
    ceiling = ceiling_bytes()
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or not 0 < max_bytes <= ceiling:
        raise ValidationError({"max_bytes": [f"a size from 1 byte to {megabytes(ceiling)}"]})
    with _atomic():
        current = asset_settings()
        current.max_bytes = max_bytes
        current.save()
        _audit("asset.settings_changed", principal=principal, request=request, max_bytes=max_bytes)
    return current


# ==============================================================================================
# Downloads


_TOKEN = re.compile(r"^[A-Za-z0-9._:\-]{1,512}$")


@dataclass(frozen=True)
class DownloadRecord:
    """What a download recorded: always the counter; an event for contact_id or visitor_id when lawful."""

    contact_id: int | None = None
    visitor_id: int | None = None

    @property
    def event_written(self) -> bool:
        return self.contact_id is not None or self.visitor_id is not None


def _who(*, device_token: str, click_token: str, host: str, signal: str | None) -> DownloadRecord:
    """Return whom a download may be recorded for: nobody with a GPC/DNT signal; the contact a signed click
    token names (unless it objected to tracking); else the device when it may be profiled; else nobody.
    """
    from tidings.consent import selectors as consent_selectors
    from tidings.tracking import selectors as tracking_selectors

    if signal:
        return DownloadRecord()
    if click_token and _TOKEN.match(click_token):
        contact_id = tracking_selectors.contact_for_click_token(click_token)
        if contact_id is not None:
            decision = consent_selectors.consent_state(contact_id).get("tracking")
            if decision is None or decision.given:
                return DownloadRecord(contact_id=contact_id)
    if device_token and _TOKEN.match(device_token):
        visitor_id = tracking_selectors.device_visitor(device_token)
        if visitor_id is not None and tracking_selectors.device_may_be_profiled(visitor_id, host=host, signal=signal):
            return DownloadRecord(visitor_id=visitor_id)
    return DownloadRecord()


def asset_download_record(
    asset_id: int,
    *,
    principal: Principal,
    device_token: str = "",
    click_token: str = "",
    host: str = "",
    signal: str | None = None,
) -> DownloadRecord:
    """Count one download of an asset and, with a lawful basis, record an asset.download event.

    The counter holds no personal data and counts every download. The event is written for the
    contact a valid click token of this workspace names (tdt=/ct=), or for the device (_tdv) when it
    may be profiled by the rule of the site covering host (without one: only with a given tracking
    consent); never with a GPC/DNT signal. Needs assets:download (the public-page door holds it).
    Raise Asset.DoesNotExist for an asset not in this workspace.
    """
    _require(principal, "assets:download")
    who = _who(device_token=device_token or "", click_token=click_token or "", host=host or "", signal=signal)
    with _atomic():
        updated = Asset.objects.filter(pk=asset_id).update(download_count=F("download_count") + 1)
        if not updated:
            raise Asset.DoesNotExist("Asset matching query does not exist.")
        if who.event_written:
            store.write([EventRow(type=code_for("asset.download"), contact_id=who.contact_id,
                                  visitor_id=who.visitor_id, data={"asset_id": asset_id})])  # fmt: skip
    return who
