"""The retention registry: every app that owns a class of data says how its old rows are purged.

The privacy centre keeps each workspace's rules (how many days per data class) and runs the
purge; it never imports another app's models. Each app registers a hook at start-up, as stores
join the erasure registry:

    register_retention_hook(RetentionHook(
        data_class=DataClass.FORM_SUBMISSIONS,
        label="forms.submission",
        purge="tidings.forms.personal_data.purge_submissions",
        aggregates="daily count of submissions per form (form id, day)",
    ))

purge is called in the workspace in context as purge(cutoff, batch_size=..., principal=...) and
yields one PurgedBatch per batch: rows older than cutoff go, a short transaction each, and what is
kept beyond the limit (counts per day and kind, never a person) comes back with it. A hook yields
from inside the batch's transaction, so what the caller writes for the batch (its aggregates)
commits or rolls back with it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.module_loading import import_string


class DataClass(models.TextChoices):
    """The classes of data a workspace sets a retention period for."""

    TRACKING_EVENTS = "tracking_events", "Raw tracking events"
    ANONYMOUS_VISITORS = "anonymous_visitors", "Anonymous visitors"
    EMAIL_EVENTS = "email_events", "Email events"
    FORM_SUBMISSIONS = "form_submissions", "Form submissions"
    INACTIVE_CONTACTS = "inactive_contacts", "Inactive contacts"
    AUDIT_LOG = "audit_log", "Audit log"


@dataclass(frozen=True)
class PurgedBatch:
    """One committed batch of a purge: how many rows went, and their counts kept as aggregates.

    daily maps (day, kind) to a count; kind is a short code (an event type's name, a form's id).
    """

    deleted: int
    daily: Mapping[tuple[datetime.date, str], int] = field(default_factory=dict)


@dataclass(frozen=True)
class RetentionHook:
    """How the rows of one store of a data class are purged, and what is kept of them (said precisely)."""

    data_class: str
    label: str
    purge: str | Callable[..., Iterator[PurgedBatch]]
    aggregates: str
    note: str = ""

    def run(self, cutoff: datetime.datetime, *, batch_size: int, principal: Any) -> Iterator[PurgedBatch]:
        purge = import_string(self.purge) if isinstance(self.purge, str) else self.purge
        return purge(cutoff, batch_size=batch_size, principal=principal)


_HOOKS: dict[str, RetentionHook] = {}


def register_retention_hook(hook: RetentionHook) -> RetentionHook:
    """Register hook (idempotent per label); raise ValueError for an unknown data class."""
    if hook.data_class not in DataClass.values:
        raise ValueError(f"unknown data class {hook.data_class!r}")
    _HOOKS[hook.label] = hook
    return hook


def retention_hooks(data_class: str | None = None) -> list[RetentionHook]:
    """Return the registered hooks (of data_class, when given), by label."""
    return [_HOOKS[label] for label in sorted(_HOOKS) if data_class in (None, _HOOKS[label].data_class)]
