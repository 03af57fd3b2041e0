"""Writes of a member's list settings: saved views (filters, columns, sort) and column and density choices.

Reads are in selectors (list_preference, saved_views, saved_view_get). A view belongs to the
member who saved it; shared, every member who may see contacts can open it, only its owner
can change or delete it. A view keeps filters, not people: a search naming one (an email,
phone, identifier, ids or name: command) is refused, so no personal value is stored here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.timezone import now

from tidings.audit.actions import audit_record
from tidings.contacts.actions.common import _atomic, _require
from tidings.contacts.models import Density, ListPreference, SavedView
from tidings.contacts.search_query import parse_search
from tidings.tenancy.context import require_workspace

MAX_COLUMNS = 40
MAX_VIEWS_PER_MEMBER = 100
VIEW_QUERY_KEYS = frozenset({"q", "tag", "owner", "stage", "country", "dnc", "sort"})
_COLUMN_KEY = re.compile(r"[a-z][a-z0-9_:]{0,63}")
_PERSON_COMMANDS = frozenset({"email", "phone", "mobile", "uid", "ids", "name"})


def _columns(columns: Sequence[str]) -> list[str]:
    """Return columns as stored: distinct keys in order; raise ValidationError on a malformed or long list."""
    keys = list(dict.fromkeys(str(c) for c in columns))
    if len(keys) > MAX_COLUMNS or not all(_COLUMN_KEY.fullmatch(key) for key in keys):
        raise ValidationError({"columns": [f"choose up to {MAX_COLUMNS} columns of the list"]})
    return keys


def list_preference_save(
    table: str, *, columns: Sequence[str] | None = None, density: str | None = None, principal, request=None
) -> ListPreference:
    """Save the acting member's columns and/or density for table (None keeps the saved choice).

    Not audited: a display choice of one member, changing no data. Raise ValidationError on an
    unknown density or malformed columns, PermissionDenied without contacts:view.
    """
    _require(principal, "contacts:view")
    if principal.actor_id is None:
        raise ValidationError("only a member has list preferences")
    if density is not None and density not in Density.values:
        raise ValidationError({"density": [f"choose one of {', '.join(Density.values)}"]})
    keys = _columns(columns) if columns is not None else None
    with _atomic():
        preference, _ = ListPreference.objects.select_for_update().get_or_create(
            table=table[:40], user_id=principal.actor_id
        )
        if keys is not None:
            preference.columns = keys
        if density is not None:
            preference.density = density
        preference.updated_at = now()
        preference.save()
    return preference


def _view_query(query: Mapping[str, str]) -> dict[str, str]:
    """Return the list filters a view keeps; raise ValidationError on a search that names a person."""
    kept = {key: str(value)[:500] for key, value in query.items() if key in VIEW_QUERY_KEYS and value}
    commands = {command for command, _ in parse_search(kept.get("q", ""))}
    if commands & _PERSON_COMMANDS:
        raise ValidationError(
            {"q": ["a saved view keeps filters, not people: remove the email, phone, uid, ids or name search first"]}
        )
    return kept


def saved_view_save(
    table: str,
    *,
    name: str,
    query: Mapping[str, str],
    columns: Sequence[str],
    shared: bool = False,
    principal,
    request=None,
) -> SavedView:
    """Save the list's filters, columns and sort as the acting member's view called name (same name: replaced).

    Audited (contacts.view_saved) with the view's name and whether it is shared. Raise
    ValidationError on an empty name, a search naming a person or too many views,
    PermissionDenied without contacts:view.
    """
    _require(principal, "contacts:view")
    name = " ".join((name or "").split())[:80]
    if not name:
        raise ValidationError({"name": ["name the view"]})
    if principal.actor_id is None:
        raise ValidationError("only a member saves views")
    kept = _view_query(query)
    keys = _columns(columns)
    with _atomic():
        existing = (
            SavedView.objects.select_for_update()
            .filter(table=table, owner_user_id=principal.actor_id, name=name)
            .first()
        )
        if existing is None:
            if SavedView.objects.filter(table=table, owner_user_id=principal.actor_id).count() >= MAX_VIEWS_PER_MEMBER:
                raise ValidationError({"name": [f"at most {MAX_VIEWS_PER_MEMBER} views: delete one first"]})
            existing = SavedView(table=table, owner_user_id=principal.actor_id, name=name)
        existing.query, existing.columns, existing.shared = kept, keys, bool(shared)
        existing.updated_at = now()
        try:
            with transaction.atomic(using=require_workspace().db_alias):
                existing.save()
        except IntegrityError as error:  # a concurrent save of the same name
            raise ValidationError({"name": ["a view with this name was just saved: try again"]}) from error
        audit_record(
            "contacts.view_saved",
            principal=principal,
            request=request,
            target_type="saved_view",
            target_id=existing.pk,
            data={"name": name, "shared": existing.shared},
        )
    return existing


def saved_view_delete(view_id: int, *, principal, request=None) -> None:
    """Delete one of the acting member's views.

    Raise SavedView.DoesNotExist for a view of another member (shared or not) or workspace,
    PermissionDenied without contacts:view.
    """
    _require(principal, "contacts:view")
    with _atomic():
        view = SavedView.objects.select_for_update().get(pk=view_id, owner_user_id=principal.actor_id)
        view.delete()
        audit_record(
            "contacts.view_deleted",
            principal=principal,
            request=request,
            target_type="saved_view",
            target_id=view_id,
            data={"name": view.name},
        )
