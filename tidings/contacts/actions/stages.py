"""Stages: the lifecycle stages a workspace's contacts move through (Mautic's stages)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tidings.contacts.actions.common import _atomic, _audit, _db, _require
from tidings.contacts.models import Contact, Stage
from tidings.inputs import INT32_MAX, INT32_MIN, InvalidInput, check_text, parse_bool, parse_int
from tidings.tenancy.context import require_workspace

MAX_STAGE_NAME = 100  # Stage.name's length
MAX_STAGE_DESCRIPTION = 2000


def _clean(values: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Return the checked stage values among name, description, weight and is_published.

    partial (an update) leaves out what values does not name. Raise ValidationError keyed by
    field on an empty or too long name or description, a weight that is not a 32-bit whole
    number, a published flag that is not a boolean, or another key.
    """
    errors: dict[str, list[str]] = {}
    unknown = set(values) - {"name", "description", "weight", "is_published"}
    if unknown:
        errors["__all__"] = ["a stage has only a name, description, weight and is_published"]
    clean: dict[str, Any] = {}
    if "name" in values or not partial:
        name = values.get("name")
        name = " ".join(name.split()) if isinstance(name, str) else ""
        if not name:
            errors["name"] = ["name the stage"]
        elif len(name) > MAX_STAGE_NAME or "\x00" in name:
            errors["name"] = [f"a stage name has at most {MAX_STAGE_NAME} characters and no NUL"]
        clean["name"] = name
    if "description" in values:
        description = values["description"]
        description = "" if description is None else description
        if not isinstance(description, str) or len(description) > MAX_STAGE_DESCRIPTION:
            errors["description"] = [f"a description is text of at most {MAX_STAGE_DESCRIPTION} characters"]
        else:
            try:
                check_text(description)
            except InvalidInput as error:
                errors["description"] = [str(error)]
            clean["description"] = description.strip()
    if "weight" in values:
        try:
            weight = values["weight"]
            clean["weight"] = 0 if weight in (None, "") else parse_int(weight, minimum=INT32_MIN, maximum=INT32_MAX)
        except InvalidInput as error:
            errors["weight"] = [str(error)]
    if "is_published" in values:
        try:
            clean["is_published"] = parse_bool(values["is_published"], strict=True)
        except (InvalidInput, ValueError) as error:
            errors["is_published"] = [str(error) or "yes or no"]
    if errors:
        raise ValidationError(errors)
    return clean


def _save(row: Stage, *, creating: bool) -> None:
    """Save row, refusing a name another stage of the workspace has (case ignored)."""
    taken = Stage.objects.filter(name__iexact=row.name)
    if not creating:
        taken = taken.exclude(pk=row.pk)
    if taken.exists():
        raise ValidationError({"name": ["another stage has this name"]})
    try:
        with transaction.atomic(using=_db()):  # a savepoint: a concurrent twin must not break the outer transaction
            row.save()
    except IntegrityError:
        raise ValidationError({"name": ["another stage has this name"]}) from None


def stage_create(values: dict[str, Any], *, principal, request=None) -> Stage:
    """Create a stage from {name, description?, weight?, is_published?}; return it.

    Audited (stage.created). Raise ValidationError keyed by field on a bad value or a name
    another stage of the workspace has (case ignored), PermissionDenied without contacts:edit.
    """
    _require(principal, "contacts:edit")
    clean = _clean(values, partial=False)
    with _atomic():
        row = Stage(workspace_id=require_workspace().id, **clean)
        _save(row, creating=True)
        _audit("stage.created", principal=principal, request=request, target_type="stage", target_id=row.id)
    return row


def stage_update(stage_id: int, values: dict[str, Any], *, principal, request=None) -> Stage:
    """Change the values a stage's fields name in values; return the stage.

    Audited (stage.updated, with the fields changed). Raise Stage.DoesNotExist for an id not
    in this workspace, ValidationError as stage_create does.
    """
    _require(principal, "contacts:edit")
    clean = _clean(values, partial=True)
    with _atomic():
        row = Stage.objects.select_for_update().get(pk=stage_id)
        changed = sorted(name for name, value in clean.items() if getattr(row, name) != value)
        for name, value in clean.items():
            setattr(row, name, value)
        row.updated_at = timezone.now()
        _save(row, creating=False)
        _audit("stage.updated", principal=principal, request=request, target_type="stage", target_id=row.id,
               fields=changed)  # fmt: skip
    return row


def stage_delete(stage_id: int, *, principal, request=None) -> int:
    """Delete a stage and take it off the contacts in it (one UPDATE); return how many contacts it left.

    The contacts keep their timeline (their stage.changed events name the deleted id). Audited
    (stage.deleted, with the count). Raise Stage.DoesNotExist for an id not in this workspace.
    """
    _require(principal, "contacts:edit")
    with _atomic():
        row = Stage.objects.select_for_update().get(pk=stage_id)
        cleared = Contact.objects.filter(stage_id=row.id).update(stage_id=None, updated_at=timezone.now())
        row.delete()
        _audit("stage.deleted", principal=principal, request=request, target_type="stage", target_id=stage_id,
               contacts=cleared)  # fmt: skip
    return cleared


def _stage_of_workspace(stage_id: Any, *, field: str = "stage_id") -> int:
    """Return stage_id as the id of one of this workspace's stages; raise ValidationError keyed by field otherwise."""
    try:
        value = parse_int(stage_id, minimum=1)
    except InvalidInput:
        raise ValidationError({field: ["choose one of the workspace's stages"]}) from None
    if not Stage.objects.filter(pk=value).exists():
        raise ValidationError({field: ["choose one of the workspace's stages"]})
    return value
