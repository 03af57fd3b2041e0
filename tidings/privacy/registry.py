"""The erasure and export registry: every store of a contact's personal data declares itself here.

A model joins by declaring, where it is defined, what it holds about a contact and how that is
exported, erased and merged:

    class Note(TenantModel):
        personal_data = PersonalData(
            fields={"text_enc": DataCategory.NOTES},   # column -> fideslang-style category
            subject="contact_id",                       # the column naming the contact (default)
            erase="delete",                             # "delete" | "anonymise" | callable(model, ids)
            export=export_notes,                        # "rows" | "skip" | callable(model, id) -> [dict]
            merge=merge_notes,                          # "reassign" | "skip" | callable(model, winner, loser)
        )

A model that looks personal (a `contact_id` column, or a column named like email, name, phone,
ip, address or note) but holds nothing about a person declares `personal_data = NotPersonal("why")`.
`unregistered_models()` lists tenant models that did neither; a test fails while it is not empty,
so every later store has to join.

`export_subject(contact_id)` gathers everything about a contact, activity included;
`erase_subject(contact_id)` erases it from every store. Both work in the current workspace.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.utils.module_loading import import_string

from tidings.audit.actions import audit_record
from tidings.tenancy.context import require_workspace
from tidings.tenancy.models import is_tenant_model

Strategy = str | Callable[..., Any]


@dataclass(frozen=True)
class PersonalData:
    """What a model stores about a contact, and how it is exported, erased and merged.

    fields maps column names to a category (tidings.privacy.categories.DataCategory).
    subject names the column holding the contact id ("id" for the contact table itself).
    erase: "delete" removes the rows; "anonymise" sets each column of `anonymise` to its
    replacement and the subject column to NULL; a callable gets (model, contact_ids).
    export: "rows" exports every clear column; "skip" exports nothing (derived data such as
    blind indexes); a callable gets (model, contact_id) and returns a list of dicts.
    Any callable may also be given as a dotted path, resolved on use (avoids import cycles).
    merge: "reassign" moves the loser's rows to the winner, dropping those that clash with
    the winner's on `unique_with`; "skip" leaves them to be erased with the loser; a callable
    gets (model, winner_id, loser_id).
    """

    fields: Mapping[str, str]
    subject: str = "contact_id"
    erase: Strategy = "delete"
    export: Strategy = "rows"
    merge: Strategy = "reassign"
    unique_with: tuple[str, ...] = ()
    anonymise: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class OtherStore:
    """A store of personal data that is not a table (files on disk, such as uploaded imports).

    Apps register it at start-up with register_store(). erase gets the contact ids being erased
    and returns how many things it removed: it decides what could hold them (a file of many
    people cannot always be searched for one; say the rule in `note`). erase_workspace removes
    everything the workspace in context keeps in this store. Both may be dotted paths. Such
    stores are not exported (what they hold is not attributable to one contact without reading
    every row) and are not touched by a merge (the person still exists).
    """

    label: str
    erase: Strategy
    erase_workspace: Strategy
    note: str = ""


_OTHER_STORES: dict[str, OtherStore] = {}


def register_store(store: OtherStore) -> OtherStore:
    """Register a store that is not a table (idempotent per label); return it."""
    _OTHER_STORES[store.label] = store
    return store


def other_stores() -> list[OtherStore]:
    """Return the registered stores that are not tables, by label."""
    return [_OTHER_STORES[label] for label in sorted(_OTHER_STORES)]


def erase_workspace_stores() -> dict[str, int]:
    """Erase everything the workspace in context keeps in stores that are not tables; return counts per store.

    The workspace-deletion action must call this (tables go with their rows; files do not).
    """
    require_workspace()
    return {store.label: int(_hook(store.erase_workspace)() or 0) for store in other_stores()}


@dataclass(frozen=True)
class NotPersonal:
    """A declaration that a model which looks personal holds no personal data, with the reason."""

    reason: str


# Column names that suggest personal data; a tenant model with one must declare itself.
PERSONAL_LOOKING = re.compile(
    r"(^|_)(e_?mail|first_?name|last_?name|full_?name|phone|mobile|ip|ip_address|address\d?|note|notes|user_agent)($|_)"
)


def _strategy(value: Strategy) -> Strategy:
    if isinstance(value, str) and "." in value:
        return import_string(value)
    return value


def _hook(value: Strategy) -> Callable[..., Any]:
    """Return the callable value names (itself, or the function at its dotted path)."""
    resolved = _strategy(value)
    if not callable(resolved):
        raise TypeError(f"{value!r} names no callable")
    return resolved


def stores() -> list[tuple[type[models.Model], PersonalData]]:
    """Return every registered store as (model, declaration), in a stable order."""
    found = []
    for model in apps.get_models():
        declaration = getattr(model, "personal_data", None)
        if isinstance(declaration, PersonalData):
            found.append((model, declaration))
    return sorted(found, key=lambda item: item[0]._meta.label)


def store_label(model) -> str:
    return model._meta.label_lower


def unregistered_models() -> list[str]:
    """Return the labels of tenant models that look personal but declared nothing.

    A model looks personal when it has a contact_id column or a column whose name matches
    PERSONAL_LOOKING; it must carry a PersonalData or a NotPersonal declaration.
    """
    missing = []
    for model in apps.get_models():
        if model._meta.proxy or not (is_tenant_model(model) or _has_column(model, "contact_id")):
            continue
        if isinstance(getattr(model, "personal_data", None), PersonalData | NotPersonal):
            continue
        names = [f.attname for f in model._meta.concrete_fields]
        if "contact_id" in names or any(PERSONAL_LOOKING.search(name) for name in names):
            missing.append(model._meta.label)
    return sorted(missing)


def _has_column(model, name: str) -> bool:
    return any(f.attname == name for f in model._meta.concrete_fields)


def _queryset(model):
    # Tenant stores through their scoped manager: the registry never crosses workspaces.
    return model.objects.all() if hasattr(model, "tenant_scoped") else model._default_manager.all()


def _subject_rows(model, declaration: PersonalData, contact_ids):
    return _queryset(model).filter(**{f"{declaration.subject}__in": list(contact_ids)})


def _clear_value(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return None
    return value


def export_rows(model, contact_id: int, declaration: PersonalData | None = None) -> list[dict]:
    """Return the clear columns of model's rows about contact_id (binary columns left out)."""
    declaration = declaration or model.personal_data
    columns = [
        f.attname
        for f in model._meta.concrete_fields
        if f.attname != "workspace_id" and not isinstance(f, models.BinaryField)
    ]
    rows = _subject_rows(model, declaration, [contact_id]).order_by("pk").values(*columns)
    return [{key: _clear_value(value) for key, value in row.items()} for row in rows]


def export_subject(contact_id: int) -> dict[str, list[dict]]:
    """Return everything every registered store holds about contact_id, keyed by store label.

    Runs in the current workspace (NoWorkspaceSet without one). Encrypted stores export their
    decrypted values through their own export callable; a shredded contact exports nothing
    readable from them.
    """
    require_workspace()
    package: dict[str, list[dict]] = {}
    for model, declaration in stores():
        export = _strategy(declaration.export)
        if export == "skip":
            continue
        rows = export_rows(model, contact_id, declaration) if export == "rows" else _hook(export)(model, contact_id)
        if rows:
            package[store_label(model)] = rows
    return package


def erase_subject_rows(contact_ids, *, other_stores: bool = True) -> dict[str, int]:
    """Erase contact_ids from every registered store without auditing; return rows touched per store.

    For actions that audit the erasure themselves (contact_delete, contact_merge). Stores that
    are not tables are erased too unless other_stores is False (a merge: the person still exists).
    """
    workspace = require_workspace()
    contact_ids = list(contact_ids)
    touched: dict[str, int] = {}
    with transaction.atomic(using=workspace.db_alias):
        for model, declaration in stores():
            erase = _strategy(declaration.erase)
            if callable(erase):
                count = erase(model, contact_ids)
            elif declaration.erase == "anonymise":
                count = _subject_rows(model, declaration, contact_ids).update(
                    **dict(declaration.anonymise), **{declaration.subject: None}
                )
            elif declaration.erase == "delete":
                count, _ = _subject_rows(model, declaration, contact_ids).delete()
            else:
                raise ValueError(f"{model._meta.label}: unknown erase strategy {declaration.erase!r}")
            touched[store_label(model)] = int(count or 0)
        if other_stores:
            for store in _OTHER_STORES.values():
                touched[store.label] = int(_hook(store.erase)(contact_ids) or 0)
    return touched


def erase_subject(contact_id: int, *, principal=None, request=None, reason: str = "") -> dict[str, int]:
    """Erase contact_id from every registered store, shredding its data key; return rows per store.

    Atomic and audited (ids and counts only). Erasing a contact that does not exist is not an
    error: the stores are scanned anyway and the counts are zero.
    """
    workspace = require_workspace()
    with transaction.atomic(using=workspace.db_alias):
        touched = erase_subject_rows([contact_id])
        audit_record(
            "privacy.subject_erased",
            principal=principal,
            request=request,
            target_type="contact",
            target_id=contact_id,
            data={"rows": {label: n for label, n in touched.items() if n}, "reason": reason[:64]},
        )
    return touched


def merge_subject_rows(winner_id: int, loser_id: int) -> dict[str, int]:
    """Move every registered store's rows of loser_id to winner_id; return rows moved per store.

    Stores declaring merge="skip" are left for erase_subject_rows(loser) to clean up. Does not
    audit: contact_merge does, once for the whole merge.
    """
    workspace = require_workspace()
    moved: dict[str, int] = {}
    with transaction.atomic(using=workspace.db_alias):
        for model, declaration in stores():
            merge = _strategy(declaration.merge)
            if merge == "skip":
                continue
            if callable(merge):
                count = merge(model, winner_id, loser_id)
            elif declaration.merge == "reassign":
                count = _reassign(model, declaration, winner_id, loser_id)
            else:
                raise ValueError(f"{model._meta.label}: unknown merge strategy {declaration.merge!r}")
            moved[store_label(model)] = int(count or 0)
    return moved


def _reassign(model, declaration: PersonalData, winner_id: int, loser_id: int) -> int:
    rows = _subject_rows(model, declaration, [loser_id])
    if declaration.unique_with:
        # The winner's row wins a clash (one DNC per channel, one link per tag or company).
        winners = set(_subject_rows(model, declaration, [winner_id]).values_list(*declaration.unique_with))
        clashing = [pk for pk, *key in rows.values_list("pk", *declaration.unique_with) if tuple(key) in winners]
        if clashing:
            _queryset(model).filter(pk__in=clashing).delete()
    return rows.update(**{declaration.subject: winner_id})
